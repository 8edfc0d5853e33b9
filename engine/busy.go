package engine

import "sync"

// Busy tells the signal handler whether runner has anything to wind down.
// While a run executes, an interrupt cancels it: its tasks get SIGTERM and
// its state is saved. Before a run starts (loading, validating, planning)
// and after its state is saved (printing the summary), there is nothing to
// wind down, and an interrupt ends runner at once: a process blocked on
// something slow must not swallow the first SIGTERM. A nil *Busy is never
// busy.
type Busy struct {
	mu          sync.Mutex
	running     bool
	interrupted bool
}

// Start marks a run as started. It returns false when an interrupt came
// first: the run must not start.
func (b *Busy) Start() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.interrupted {
		return false
	}
	b.running = true
	return true
}

// Stop marks the run's state as saved.
func (b *Busy) Stop() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.running = false
	b.mu.Unlock()
}

// Interrupt records an interrupt and reports whether a run is winding
// down; when it is not, the caller ends the process at once.
func (b *Busy) Interrupt() (running bool) {
	if b == nil {
		return false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.interrupted = true
	return b.running
}
