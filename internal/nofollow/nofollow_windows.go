//go:build windows

package nofollow

import (
	"errors"
	"io/fs"
	"os"
)

// OpenFile is os.OpenFile that refuses a symbolic link (or junction) as
// path's last element, with ErrLink: see the package comment for how.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	before, err := os.Lstat(path)
	switch {
	case err == nil && before.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0:
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrLink}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return nil, err
	case err != nil:
		before = nil // created by the open, if flag allows
	}
	f, err := os.OpenFile(path, flag, perm)
	if err != nil {
		return nil, err
	}
	opened, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if before == nil {
		// Created: what is at path now must be the file opened.
		if before, err = os.Lstat(path); err != nil {
			f.Close()
			return nil, err
		}
	}
	if before.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 || !os.SameFile(before, opened) {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrLink}
	}
	return f, nil
}
