package scheduler

import (
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/state"
)

// minSaveInterval folds bursts of changes (a thousand quick tasks) into one
// write of state.json; a change is there at most this long, plus one write,
// after it happened. Finished tasks do not wait for it: the journal records
// them before anything that depends on them starts.
const minSaveInterval = 50 * time.Millisecond

// saver writes state.json after changes without making the scheduler wait
// for the disk: under the lock it only copies the task records; encoding,
// writing and fsync happen outside it. Changes that arrive while a write is
// under way are folded into the next write. Every write is atomic, so
// state.json on disk is always a complete snapshot.
type saver struct {
	store *state.Store
	run   *state.Run
	mu    *sync.Mutex // guards run
	poked chan struct{}
	quit  chan struct{}
	done  chan struct{}
	once  sync.Once
	fail  func(error) // hears of every failed write
}

func newSaver(store *state.Store, run *state.Run, mu *sync.Mutex, fail func(error)) *saver {
	s := &saver{store: store, run: run, mu: mu, poked: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{}), fail: fail}
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
	var last time.Time
	for {
		select {
		case <-s.poked:
		case <-s.quit:
			return
		}
		if wait := minSaveInterval - time.Since(last); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-s.quit: // stop writes the final state at once
				t.Stop()
				return
			}
		}
		last = time.Now()
		s.save()
	}
}

func (s *saver) save() {
	s.mu.Lock()
	snap := *s.run
	snap.Tasks = make([]*state.Task, len(s.run.Tasks))
	records := make([]state.Task, len(s.run.Tasks))
	for i, t := range s.run.Tasks {
		// Field values are replaced, never mutated in place, so a shallow
		// copy is a consistent snapshot.
		records[i] = *t
		snap.Tasks[i] = &records[i]
	}
	s.mu.Unlock()
	data, err := state.Encode(&snap, s.store.Masker)
	if err == nil {
		err = s.store.Write(s.run.ID, data)
	}
	if err != nil {
		s.fail(err)
	}
}

// stop writes the final state.
func (s *saver) stop() {
	s.once.Do(func() {
		close(s.quit)
		<-s.done
		s.save()
	})
}
