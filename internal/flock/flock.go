// Package flock takes and drops advisory locks on open files, the same way
// on every platform runner builds for: flock(2) on Linux and macOS,
// LockFileEx on Windows. A lock belongs to the open file and goes when it
// is closed or its process dies, even by a kill. It never waits: callers
// that must wait retry (so that a context can end the wait).
package flock

import (
	"errors"
	"os"
)

// ErrLocked says another open file — of this process or another — holds a
// lock that conflicts.
var ErrLocked = errors.New("locked by another holder")

// ErrUnsupported says the file cannot be locked on this platform: on
// Windows, a folder (LockFileEx locks byte ranges of files only).
var ErrUnsupported = errors.New("cannot lock this kind of file on this platform")

// TryExclusive takes an exclusive lock on f, or fails at once with
// ErrLocked.
func TryExclusive(f *os.File) error { return try(f, true) }

// TryShared takes a shared lock on f, or fails at once with ErrLocked
// while an exclusive one is held.
func TryShared(f *os.File) error { return try(f, false) }

// Unlock drops the lock on f. Closing f drops it too.
func Unlock(f *os.File) error { return unlock(f) }
