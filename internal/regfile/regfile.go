// Package regfile opens the files tasks read as data only when they are
// regular files. A named pipe where a file is expected blocks open(2) until
// something writes to it — uninterruptibly: no timeout or SIGTERM ends it —
// and a device may never end; a task must refuse them, not hang on them.
// Files are opened without blocking, checked, and only then read.
package regfile

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// ErrNotRegular is returned (in an *fs.PathError) for a path that is a
// named pipe, a device, a socket or a folder.
var ErrNotRegular = errors.New("not a regular file (a named pipe, device, socket, folder or, where links are refused, a link, which runner does not read as data)")

// Open opens path for reading when it is a regular file (links followed).
func Open(path string) (*os.File, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return checked(fd, path)
}

// OpenNoFollow is Open for a path whose last element must not be a
// symbolic link (a run's log, served to whoever may read the dashboard: a
// link there would serve whatever it points at).
func OpenNoFollow(path string) (*os.File, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOFOLLOW, 0)
	if err == syscall.ELOOP {
		err = ErrNotRegular
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return checked(fd, path)
}

// OpenAppend opens path for appending, creating it with perm if missing,
// when it is a regular file. A named pipe is refused without blocking (with
// no reader, opening it fails at once; with one, it is not a regular file).
func OpenAppend(path string, perm os.FileMode) (*os.File, error) {
	fd, err := syscall.Open(path, syscall.O_WRONLY|syscall.O_APPEND|syscall.O_CREAT|syscall.O_NONBLOCK|syscall.O_CLOEXEC, uint32(perm.Perm()))
	if err != nil {
		if err == syscall.ENXIO { // a named pipe with no reader
			err = ErrNotRegular
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return checked(fd, path)
}

// checked returns fd as a blocking *os.File if it is a regular file, and
// closes it otherwise.
func checked(fd int, path string) (*os.File, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: ErrNotRegular}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

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
