package database

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/novelfactory/runner/engine/tasktype"
)

// Postgres runs PostgreSQL's client tools.
type Postgres struct {
	PgDump    string             // "pg_dump" by default
	PgRestore string             // "pg_restore" by default
	Psql      string             // "psql" by default
	Procs     tasktype.Processes // hears of the processes started; may be nil
}

// splitPassword takes the password out of a postgres:// URL: it is passed
// in PGPASSWORD, never on a command line that `ps` shows.
func splitPassword(dsn string, environ []string) (string, []string) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.User == nil {
		return dsn, environ
	}
	if pw, ok := u.User.Password(); ok {
		environ = append(append([]string{}, environ...), "PGPASSWORD="+pw)
		u.User = url.User(u.User.Username())
	}
	return u.String(), environ
}

// Redact returns dsn without its password, for messages.
func Redact(dsn string) string {
	redacted, _ := splitPassword(dsn, nil)
	return redacted
}

// Dump writes a custom-format dump (compressed, restorable with pg_restore)
// of the database at dsn into a temporary file beside dest, then renames it.
func (p Postgres) Dump(ctx context.Context, dsn, dest string, environ []string, log io.Writer) error {
	bin := firstOf(p.PgDump, "pg_dump")
	dsn, environ = splitPassword(dsn, environ)
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-")
	if err != nil {
		return fmt.Errorf("dump postgres: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := []string{bin, "--format=custom", "--no-password", "--file=" + tmp.Name(), "--dbname=" + dsn}
	if _, err := run(ctx, args, environ, log, p.Procs); err != nil {
		if strings.Contains(err.Error(), "password authentication failed") || strings.Contains(err.Error(), "no password supplied") {
			return fmt.Errorf("dump postgres: %w\ncheck the user and password in the database URL", err)
		}
		return fmt.Errorf("dump postgres: %w", err)
	}
	if err := syncFile(tmp.Name()); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

// psqlValue runs one query with psql and returns its single value.
func (p Postgres) psqlValue(ctx context.Context, dsn, query string, environ []string) (string, error) {
	dsn, environ = splitPassword(dsn, environ)
	out, err := run(ctx, []string{firstOf(p.Psql, "psql"), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "--no-password", "--dbname=" + dsn, "-c", query}, environ, io.Discard, p.Procs)
	return strings.TrimSpace(out), err
}

// withDatabase returns dsn pointing at another database of the same server.
func withDatabase(dsn, db string) (string, string, error) {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return "", "", fmt.Errorf("load postgres: give the database as a postgres:// URL")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		return "", "", fmt.Errorf("load postgres: the URL names no database")
	}
	u.Path = "/" + db
	return u.String(), name, nil
}

// Load restores a custom-format dump into the database at dsn, creating
// it when missing. A database that holds tables is restored over (pg_restore
// --clean --if-exists) only when overwrite is set.
func (p Postgres) Load(ctx context.Context, dsn, src string, overwrite bool, environ []string, log io.Writer) error {
	maintenance, name, err := withDatabase(dsn, "postgres")
	if err != nil {
		return err
	}
	if strings.ContainsAny(name, `"'\`) {
		return fmt.Errorf("load postgres: unusual database name %q", name)
	}
	exists, err := p.psqlValue(ctx, maintenance, fmt.Sprintf("SELECT count(*) FROM pg_database WHERE datname = '%s'", name), environ)
	if err != nil {
		return fmt.Errorf("load postgres: %w", err)
	}
	if exists == "0" {
		fmt.Fprintf(log, "creating database %s\n", name)
		if _, err := p.psqlValue(ctx, maintenance, fmt.Sprintf(`CREATE DATABASE "%s"`, name), environ); err != nil {
			return fmt.Errorf("load postgres: create database %s: %w", name, err)
		}
	} else if !overwrite {
		tables, err := p.psqlValue(ctx, dsn, "SELECT count(*) FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema')", environ)
		if err != nil {
			return fmt.Errorf("load postgres: %w", err)
		}
		if tables != "0" {
			return fmt.Errorf("database %s already holds %s tables: set overwrite: true to restore over them", name, tables)
		}
	}
	target, environ := splitPassword(dsn, environ)
	args := []string{firstOf(p.PgRestore, "pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-password", "--exit-on-error", "--dbname=" + target, src}
	if _, err := run(ctx, args, environ, log, p.Procs); err != nil {
		return fmt.Errorf("load postgres: %w", err)
	}
	return nil
}
