// Package regfile opens the files tasks read as data only when they are
// regular files. A named pipe where a file is expected blocks open(2) until
// something writes to it — uninterruptibly: no timeout or SIGTERM ends it —
// and a device may never end; a task must refuse them, not hang on them.
// Files are opened without blocking, checked, and only then read. Windows
// has no named pipes or devices among ordinary paths, so there a file is
// opened as usual and checked to be regular.
package regfile

import (
	"errors"
	"io"
)

// ErrNotRegular is returned (in an *fs.PathError) for a path that is a
// named pipe, a device, a socket or a folder.
var ErrNotRegular = errors.New("not a regular file (a named pipe, device, socket, folder or, where links are refused, a link, which runner does not read as data)")

// ReadFile reads the whole regular file at path.
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Check returns an error unless path is a regular file it can open.
func Check(path string) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	return f.Close()
}
