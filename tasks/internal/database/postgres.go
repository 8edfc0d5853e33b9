package database

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Postgres runs PostgreSQL's client tools.
type Postgres struct {
	PgDump string // "pg_dump" by default
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
	if _, err := run(ctx, args, environ, log); err != nil {
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
