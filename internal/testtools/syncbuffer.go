package testtools

import (
	"bytes"
	"sync"
)

// SyncBuffer is a buffer that takes writes from several goroutines at once
// (a task's stdout and stderr copiers, a live view's ticker), for tests.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
