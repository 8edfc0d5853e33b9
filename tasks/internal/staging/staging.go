// Package staging fills a temp folder beside a destination folder and then
// puts what it holds in place, all at once: the whole folder renamed into
// place when the destination is new, else file by file, never following a
// link of the destination. unzip and s3get stage everything and verify it
// before the destination sees anything, so a failure leaves it exactly as
// it was — not even a new empty folder.
package staging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/novelfactory/runner/engine/atomicfile"
)

// Dir is a temp folder beside a destination, locked while in use so that a
// later run removes it only once its run is gone.
type Dir struct {
	// Root is the temp folder; write the staged files through it.
	Root    *os.Root
	path    string
	dest    string
	release func()
}

// New creates the temp folder of dest (named "."+base(dest)+"."+kind+"-"
// and a random suffix, beside it), after removing the ones killed runs left.
func New(dest, kind string) (*Dir, error) {
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o777); err != nil {
		return nil, err
	}
	path, release, err := atomicfile.TempDir(parent, "."+filepath.Base(dest)+"."+kind+"-", 0o777)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(path)
	if err != nil {
		release()
		os.RemoveAll(path)
		return nil, err
	}
	return &Dir{Root: root, path: path, dest: dest, release: release}, nil
}

// Close removes what is left of the temp folder.
func (d *Dir) Close() {
	d.Root.Close()
	os.RemoveAll(d.path)
	d.release()
}

// Sync flushes the file system of the staged files to disk: once for all
// of them, before they are put in place.
func (d *Dir) Sync() error {
	f, err := d.Root.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("sync %s: %w", d.path, err)
	}
	return nil
}

// Replace renames the temp folder to the destination, which must not
// exist: it appears whole, with the mode any new folder gets.
func (d *Dir) Replace() error {
	if err := os.Rename(d.path, d.dest); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, unix.ENOTEMPTY) {
			return fmt.Errorf("%s appeared while it was being filled", d.dest)
		}
		return err
	}
	return nil
}

// Move renames the staged file at name (a path in the temp folder) to the
// same path in dest, whose folder must exist there. The folder is opened
// through dest — os.Root keeps it inside — and the file is renamed into it
// by name (renameat), so no link on the way can lead it elsewhere; a link
// at the name itself is replaced, never followed.
func (d *Dir) Move(dest *os.Root, name string) error {
	from, err := d.Root.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := dest.Open(filepath.Dir(name))
	if err != nil {
		return err
	}
	defer to.Close()
	base := filepath.Base(name)
	if err := unix.Renameat(int(from.Fd()), base, int(to.Fd()), base); err != nil {
		return fmt.Errorf("move %s into place: %w", name, err)
	}
	return nil
}
