//go:build unix

package regfile

import (
	"io/fs"
	"os"
	"syscall"
)

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
