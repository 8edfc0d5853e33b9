package scheduler

import (
	"sync"

	"github.com/novelfactory/runner/engine/state"
)

// saver writes state.json after changes without making the scheduler wait
// for the disk: changes that arrive while a write is under way are folded
// into the next write. Every write is atomic, so state.json on disk is
// always a complete snapshot, at most one write behind.
type saver struct {
	store *state.Store
	run   *state.Run
	mu    *sync.Mutex // guards run
	poked chan struct{}
	done  chan struct{}
	once  sync.Once
	err   error
}

func newSaver(store *state.Store, run *state.Run, mu *sync.Mutex) *saver {
	s := &saver{store: store, run: run, mu: mu, poked: make(chan struct{}, 1), done: make(chan struct{})}
	go s.loop()
	return s
}

// poke asks for a write; it never blocks.
func (s *saver) poke() {
	select {
	case s.poked <- struct{}{}:
	default:
	}
}

func (s *saver) loop() {
	defer close(s.done)
	for range s.poked {
		s.save()
	}
}

func (s *saver) save() {
	s.mu.Lock()
	err := s.store.Save(s.run)
	s.mu.Unlock()
	if err != nil && s.err == nil {
		s.err = err
	}
}

// stop writes the final state and returns the first error of any write.
func (s *saver) stop() error {
	s.once.Do(func() {
		close(s.poked)
		<-s.done
		s.save()
	})
	return s.err
}
