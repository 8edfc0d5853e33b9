//go:build windows

package regfile

import (
	"errors"
	"io/fs"
	"os"

	"github.com/novelfactory/runner/internal/nofollow"
)

// Open opens path for reading when it is a regular file (links followed).
func Open(path string) (*os.File, error) {
	return checked(os.Open(path))
}

// OpenNoFollow is Open for a path whose last element must not be a
// symbolic link (a run's log, served to whoever may read the dashboard: a
// link there would serve whatever it points at). See package nofollow for
// how Windows checks it.
func OpenNoFollow(path string) (*os.File, error) {
	f, err := nofollow.OpenFile(path, os.O_RDONLY, 0)
	if pe := (*fs.PathError)(nil); errors.As(err, &pe) && errors.Is(pe.Err, nofollow.ErrLink) {
		pe.Err = ErrNotRegular
	}
	return checked(f, err)
}

// OpenAppend opens path for appending, creating it with perm if missing,
// when it is a regular file.
func OpenAppend(path string, perm os.FileMode) (*os.File, error) {
	return checked(os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, perm))
}

// checked returns f if it is a regular file, and closes it otherwise.
func checked(f *os.File, err error) (*os.File, error) {
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: f.Name(), Err: ErrNotRegular}
	}
	return f, nil
}
