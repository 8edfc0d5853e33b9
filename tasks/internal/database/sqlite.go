package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"

	_ "modernc.org/sqlite" // the pure-Go SQLite driver "sqlite"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/internal/regfile"
)

// SQLiteDump writes a consistent copy of a live SQLite database: VACUUM
// INTO reads the database inside one read transaction, so a writer active
// meanwhile can never tear the copy. The copy is checked with
// PRAGMA integrity_check, then renamed into place.
func SQLiteDump(ctx context.Context, src, dest string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("dump sqlite: %w", err)
	}
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(src)+"?mode=ro&_pragma=busy_timeout(30000)")
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer db.Close()
	// VACUUM INTO makes the file itself: a name of our own, after the
	// temp files a killed dump left.
	atomicfile.RemoveStale(filepath.Dir(dest), atomicfile.TempPrefix(dest))
	tmp := filepath.Join(filepath.Dir(dest), atomicfile.TempPrefix(dest)+fmt.Sprint(os.Getpid()))
	os.Remove(tmp)
	defer os.Remove(tmp)
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", tmp); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := checkSQLite(ctx, tmp); err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	return os.Rename(tmp, dest)
}

// checkSQLite runs SQLite's own integrity check on a database file.
func checkSQLite(ctx context.Context, path string) error {
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(path)+"?mode=ro")
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	var result string
	if err := db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&result); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if result != "ok" {
		return fmt.Errorf("check %s: integrity_check says %s", path, result)
	}
	return nil
}

// SQLiteLoad replaces the database file dest with a verified copy of the
// dump src. Without overwrite only an absent dest, an empty file or an
// SQLite database without tables is written: anything else — a database
// with data, a file that is not SQLite (a mistyped path), an encrypted or
// damaged one — is refused. A replaced file keeps its mode.
func SQLiteLoad(ctx context.Context, src, dest string, overwrite bool) error {
	mode := os.FileMode(0o644)
	if info, err := os.Stat(dest); err == nil {
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s is not a file", dest)
		}
		mode = info.Mode().Perm()
		if !overwrite && info.Size() > 0 {
			n, err := sqliteTables(ctx, dest)
			if err == nil && n == 0 {
				// "No tables" may be a damaged schema over rows still on disk.
				err = checkSQLite(ctx, dest)
			}
			switch {
			case err != nil:
				return fmt.Errorf("%s is not an empty SQLite database (%v): refusing to replace it; check the path, or set overwrite: true", dest, err)
			case n > 0:
				return fmt.Errorf("%s already holds %d tables: set overwrite: true to replace it", dest, n)
			}
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("load into %s: %w", dest, err)
	}
	in, err := regfile.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := atomicfile.CreateTemp(dest)
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	tmp.Close()
	// The copy is checked, not src: what is checked is what is loaded.
	if err := checkSQLite(ctx, tmp.Name()); err != nil {
		return fmt.Errorf("the dump is damaged: %w", err)
	}
	// The old database's journal files belong to the old file.
	os.Remove(dest + "-wal")
	os.Remove(dest + "-shm")
	return os.Rename(tmp.Name(), dest)
}

// sqliteTables counts the tables of the database at path, or fails for a
// file that is not an SQLite database.
func sqliteTables(ctx context.Context, path string) (int, error) {
	head := make([]byte, 16)
	f, err := regfile.Open(path)
	if err != nil {
		return 0, err
	}
	_, err = io.ReadFull(f, head)
	f.Close()
	if err != nil || string(head) != "SQLite format 3\x00" {
		return 0, errors.New("no SQLite header")
	}
	db, err := sql.Open("sqlite", "file:"+url.PathEscape(path)+"?mode=ro")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var n int
	err = db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table'").Scan(&n)
	return n, err
}
