package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/novelfactory/runner/engine/secret"
)

// journalName is the file, in a run's folder, that records finished tasks.
const journalName = "journal.jsonl"

// Journal appends the final record of every finished task to the run's
// journal.jsonl, one JSON object per line, before anything that depends on
// the task starts. state.json is rewritten in batches for speed; the
// journal makes a task's success durable against the process being killed
// at any moment (a write that returned is in the kernel's hands), so that
// --resume never repeats it. Loading a run applies the journal over
// state.json.
type Journal struct {
	mu     sync.Mutex
	f      *os.File
	masker *secret.Masker
}

// OpenJournal starts an empty journal for run id: a resumed run's old
// journal has been folded into the state it was loaded from.
func (s *Store) OpenJournal(id string) (*Journal, error) {
	f, err := os.OpenFile(filepath.Join(s.RunDir(id), journalName), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal of run %s: %w", id, err)
	}
	return &Journal{f: f, masker: s.Masker}, nil
}

// Append records a finished task.
func (j *Journal) Append(t *Task) error {
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("encode journal entry for %s: %w", t.ID, err)
	}
	data = append(j.masker.Bytes(data), '\n')
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(data); err != nil {
		return fmt.Errorf("write journal entry for %s: %w", t.ID, err)
	}
	return nil
}

// Close closes the journal file.
func (j *Journal) Close() error { return j.f.Close() }

// applyJournal replaces task records of run by the newer ones in its journal.
func (s *Store) applyJournal(run *Run) error {
	f, err := os.Open(filepath.Join(s.RunDir(run.ID), journalName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read journal of run %s: %w", run.ID, err)
	}
	defer f.Close()
	index := make(map[string]int, len(run.Tasks))
	for i, t := range run.Tasks {
		index[t.ID] = i
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		var t Task
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil {
			break // a line cut short by a crash: everything before it stands
		}
		if i, ok := index[t.ID]; ok {
			run.Tasks[i] = &t
		} else {
			index[t.ID] = len(run.Tasks)
			run.Tasks = append(run.Tasks, &t)
		}
	}
	return nil
}
