package state

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// LockedError says another live run holds the recipe's lock.
type LockedError struct {
	Recipe string
	Holder string // what the holder wrote: pid and start time
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("another run of %s is in progress (%s); wait for it to finish", e.Recipe, e.Holder)
}

// Lock takes the lock of the recipe called name. It uses flock(2): the
// kernel drops the lock when its holder dies, even by kill -9, so a stale
// lock of a dead process is simply taken over. Call the returned function
// to release it.
func (s *Store) Lock(name string) (func(), error) {
	dir := filepath.Join(s.Dir, "locks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create lock folder: %w", err)
	}
	path := filepath.Join(dir, name+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{Recipe: name, Holder: strings.TrimSpace(string(holder))}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := f.Truncate(0); err == nil {
		fmt.Fprintf(f, "pid %d since %s", os.Getpid(), time.Now().Format(time.RFC3339))
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
