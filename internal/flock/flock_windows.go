//go:build windows

package flock

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// try locks the whole file (every byte, however long it grows) with
// LockFileEx, failing at once. Unlike flock(2), the lock is mandatory for
// other handles' reads and writes of the range: runner locks only files
// it does not otherwise read or write through another handle (lock files,
// the recipe, whose contents it read before locking).
func try(f *os.File, exclusive bool) error {
	if info, err := f.Stat(); err == nil && info.IsDir() {
		return ErrUnsupported
	}
	var flags uint32 = windows.LOCKFILE_FAIL_IMMEDIATELY
	if exclusive {
		flags |= windows.LOCKFILE_EXCLUSIVE_LOCK
	}
	err := windows.LockFileEx(windows.Handle(f.Fd()), flags, 0, ^uint32(0), ^uint32(0), new(windows.Overlapped))
	switch {
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return ErrLocked
	}
	return err
}

func unlock(f *os.File) error {
	return windows.UnlockFileEx(windows.Handle(f.Fd()), 0, ^uint32(0), ^uint32(0), new(windows.Overlapped))
}
