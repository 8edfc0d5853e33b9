package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// File is a pending replacement of a destination path. Write to it, then call
// Commit to rename it into place, or Abort to throw it away. Abort after
// Commit is a no-op, so `defer f.Abort()` is always safe.
type File struct {
	*os.File
	dest string
	done bool
}

// Create starts writing a replacement for dest with the given permissions.
func Create(dest string, perm os.FileMode) (*File, error) {
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", dest, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create temp file for %s: %w", dest, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("chmod temp file for %s: %w", dest, err)
	}
	return &File{File: tmp, dest: dest}, nil
}

// Commit syncs the data and renames the temp file over the destination.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("commit %s: already finished", f.dest)
	}
	f.done = true
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.Name())
		return fmt.Errorf("sync %s: %w", f.dest, err)
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("close %s: %w", f.dest, err)
	}
	if err := os.Rename(f.Name(), f.dest); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("rename into %s: %w", f.dest, err)
	}
	return nil
}

// Abort removes the temp file, leaving the destination untouched.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}

// WriteFile atomically replaces dest with data.
func WriteFile(dest string, data []byte, perm os.FileMode) error {
	f, err := Create(dest, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	return f.Commit()
}

// Copy atomically replaces dest with everything read from r.
func Copy(dest string, r io.Reader, perm os.FileMode) (int64, error) {
	f, err := Create(dest, perm)
	if err != nil {
		return 0, err
	}
	defer f.Abort()
	n, err := io.Copy(f, r)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", dest, err)
	}
	return n, f.Commit()
}
