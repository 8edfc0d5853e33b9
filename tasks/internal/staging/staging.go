// Package staging fills a temp folder beside a destination folder and then
// puts what it holds in place as one change: the whole folder renamed into
// place when the destination is new, else file by file — never following
// a link of the destination — with every move undone if one fails. unzip
// and s3get stage everything and verify it before the destination sees
// anything, so a failure leaves it exactly as it was: not even a new
// empty folder, nor the parents made for it.
package staging

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/novelfactory/runner/internal/flock"

	"github.com/novelfactory/runner/engine/atomicfile"
)

// Dir is a temp folder beside a destination, locked while in use so that a
// later run removes it only once its run is gone. It holds the staged
// entries (Root) and, during Apply, the files they replace.
type Dir struct {
	// Root is where the entries are staged; write them through it.
	Root    *os.Root
	path    string // the temp folder
	dest    string
	made    []string // parents of dest made for it, outermost first
	placed  bool     // the entries are in dest: the parents stay
	release func()
	// Removed lists the temp folders of killed runs that New removed.
	Removed []string
}

// New creates the temp folder of dest (named "."+base(dest)+"."+kind+"-"
// and a random suffix, beside it) after removing the ones killed runs
// left, and the parents of dest that are missing (removed again by Close
// unless the entries were put in place).
func New(dest, kind string) (*Dir, error) {
	d := &Dir{dest: dest}
	parent := filepath.Dir(dest)
	for p := parent; ; p = filepath.Dir(p) {
		if _, err := os.Lstat(p); err == nil || p == filepath.Dir(p) {
			break
		}
		d.made = append([]string{p}, d.made...)
	}
	for _, p := range d.made {
		if err := os.Mkdir(p, 0o777); err != nil && !errors.Is(err, fs.ErrExist) {
			d.Close()
			return nil, err
		}
	}
	prefix := "." + filepath.Base(dest) + "." + kind + "-"
	d.Removed = atomicfile.RemoveStaleDirs(parent, prefix)
	path, release, err := atomicfile.TempDir(parent, prefix, 0o700)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.path, d.release = path, release
	// The entries go in data/, made as any new folder is (0777 less the
	// umask), which becomes dest when dest is new; replaced/ keeps what
	// Apply moves aside.
	for _, sub := range []string{"data", "replaced"} {
		if err := os.Mkdir(filepath.Join(path, sub), 0o777); err != nil {
			d.Close()
			return nil, err
		}
	}
	if d.Root, err = os.OpenRoot(filepath.Join(path, "data")); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close removes what is left of the temp folder, and the parents New made
// when the entries were not put in place.
func (d *Dir) Close() {
	if d.Root != nil {
		d.Root.Close()
	}
	if d.path != "" {
		os.RemoveAll(d.path)
		d.release()
	}
	if !d.placed {
		for i := len(d.made) - 1; i >= 0; i-- {
			os.Remove(d.made[i]) // only when empty
		}
	}
}

// Sync flushes the file system of the staged files to disk: once for all
// of them, before they are put in place.
func (d *Dir) Sync() error {
	f, err := d.Root.Open(".")
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syncFS(d.Root, f); err != nil {
		return fmt.Errorf("sync %s: %w", d.path, err)
	}
	return nil
}

// Replace renames the staged entries' folder to the destination, which
// must not exist: it appears whole, with the mode any new folder gets.
func (d *Dir) Replace() error {
	if err := os.Rename(filepath.Join(d.path, "data"), d.dest); err != nil {
		if errors.Is(err, fs.ErrExist) || errors.Is(err, errNotEmpty) {
			return fmt.Errorf("%s appeared while it was being filled; run again to add to it", d.dest)
		}
		return err
	}
	d.placed = true
	return nil
}

// Lock takes an exclusive lock on the destination folder (dest, at path),
// and a shared one on each folder above it, waiting while another unzip or
// s3get writes into it — or into a folder around it — until ctx ends: what
// is checked in dest before Apply stays true until Apply is done, and a
// restore into dest/sub waits for one into dest. Locks are taken from the
// root down, so two runs never wait for each other. Call the returned
// function to release them.
func Lock(ctx context.Context, path string, dest *os.Root, waiting func()) (func(), error) {
	var held []*os.File
	release := func() {
		for _, f := range held {
			f.Close()
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	var above []string
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		above = append([]string{p}, above...)
		if p == filepath.Dir(p) {
			break
		}
	}
	told := false
	take := func(f *os.File, try func(*os.File) error) error {
		for {
			err := try(f)
			if err == nil || errors.Is(err, flock.ErrUnsupported) {
				return nil // Windows cannot lock a folder: see docs/platforms.md
			}
			if !errors.Is(err, flock.ErrLocked) {
				return fmt.Errorf("lock %s: %w", f.Name(), err)
			}
			if !told && waiting != nil {
				waiting()
				told = true
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	for _, dir := range above {
		f, err := os.Open(dir)
		if err != nil {
			continue // a folder that cannot be read cannot be locked, by anyone
		}
		held = append(held, f)
		if err := take(f, flock.TryShared); err != nil {
			release()
			return nil, err
		}
	}
	f, err := dest.Open(".")
	if err != nil {
		release()
		return nil, err
	}
	held = append(held, f)
	if err := take(f, flock.TryExclusive); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// Apply puts the staged entries in dest as one change: the folders dirs
// and the parents of names are made where missing, and each staged file at
// names is renamed into place by name (renameat, through folders opened in
// dest, so no link on the way can lead it elsewhere; a link at the name is
// replaced, never followed). A file it replaces is first moved aside.
// When a move fails — another file system mounted inside dest, a file
// that cannot be replaced — every move made so far is undone and the
// folders made are removed: dest is as it was.
func (d *Dir) Apply(dest *os.Root, dirs, names []string) (err error) {
	aside, err := os.OpenRoot(filepath.Join(d.path, "replaced"))
	if err != nil {
		return err
	}
	defer aside.Close()
	type step struct {
		name     string
		replaced string // where the file it replaced waits in aside, or ""
	}
	var done []step
	var made []string
	defer func() {
		if err == nil {
			d.placed = true
			return
		}
		var left []string
		for i := len(done) - 1; i >= 0; i-- {
			s := done[i]
			var uerr error
			if s.replaced != "" {
				uerr = move(aside, s.replaced, dest, s.name) // back, over the new one
			} else if uerr = dest.Remove(s.name); errors.Is(uerr, fs.ErrNotExist) {
				uerr = nil // it never got there
			}
			if uerr != nil {
				left = append(left, fmt.Sprintf("%s (%v)", s.name, uerr))
			}
		}
		for i := len(made) - 1; i >= 0; i-- {
			if uerr := dest.Remove(made[i]); uerr != nil {
				left = append(left, fmt.Sprintf("the folder %s (%v: something else wrote into it)", made[i], uerr))
			}
		}
		if len(left) > 0 {
			err = fmt.Errorf("%w; undoing the change failed for: %s", err, strings.Join(left, ", "))
		} else {
			err = fmt.Errorf("%w; every change was undone: the destination is as it was", err)
		}
	}()
	mkdirs := func(dir string) error {
		if dir == "." {
			return nil
		}
		parts := strings.Split(dir, string(filepath.Separator))
		for i := range parts {
			p := filepath.Join(parts[:i+1]...)
			if _, err := dest.Lstat(p); errors.Is(err, fs.ErrNotExist) {
				if err := dest.Mkdir(p, 0o777); err != nil {
					return err
				}
				made = append(made, p)
			} else if err != nil {
				return err
			}
		}
		return nil
	}
	for _, dir := range dirs {
		if err := mkdirs(dir); err != nil {
			return err
		}
	}
	for i, name := range names {
		if err := mkdirs(filepath.Dir(name)); err != nil {
			return err
		}
		s := step{name: name}
		if _, err := dest.Lstat(name); err == nil {
			s.replaced = strconv.Itoa(i)
			if err := move(dest, name, aside, s.replaced); err != nil {
				return fmt.Errorf("move %s aside: %w", name, err)
			}
		}
		done = append(done, s)
		if err := move(d.Root, name, dest, name); err != nil {
			return fmt.Errorf("move %s into place: %w", name, err)
		}
	}
	return nil
}
