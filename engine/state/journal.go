package state

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/novelfactory/runner/internal/nofollow"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/internal/regfile"
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
	run    string // the run's id, in every line's checksum
}

// journalHeader is the first line of a journal: what a run is, so that it
// can be recovered from its journal alone when its state.json is damaged.
type journalHeader struct {
	Checksum string `json:"checksum"`
	Run      *Run   `json:"run"`
}

// OpenJournal starts an empty journal for run, headed by the run's own
// record (without its tasks): a resumed run's old journal has been folded
// into the state it was loaded from.
func (s *Store) OpenJournal(run *Run) (*Journal, error) {
	f, err := nofollow.OpenFile(filepath.Join(s.RunDir(run.ID), journalName), os.O_CREATE|os.O_WRONLY|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open journal of run %s: %w", run.ID, err)
	}
	head := *run
	head.Tasks, head.Checksum = nil, ""
	data, err := json.Marshal(journalHeader{Checksum: unsealed, Run: &head})
	if err == nil {
		_, err = f.Write(append(seal(data, run.ID), '\n'))
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("write journal of run %s: %w", run.ID, err)
	}
	return &Journal{f: f, masker: s.Masker, run: run.ID}, nil
}

// Append records a finished task.
func (j *Journal) Append(t *Task) error {
	sealed := maskedTask(t, j.masker)
	sealed.Checksum = unsealed
	data, err := json.Marshal(&sealed)
	if err != nil {
		return fmt.Errorf("encode journal entry for %s: %w", t.ID, err)
	}
	data = append(seal(data, j.run), '\n')
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
	_, err := s.readJournal(run)
	return err
}

// readJournal applies the journal of run to it and returns the run record
// of the journal's header (nil when it has none: journals of runner
// before 2026-12, or a journal cut before its first line).
func (s *Store) readJournal(run *Run) (*Run, error) {
	f, err := regfile.Open(filepath.Join(s.RunDir(run.ID), journalName))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal of run %s: %w", run.ID, err)
	}
	defer f.Close()
	index := make(map[string]int, len(run.Tasks))
	for i, t := range run.Tasks {
		index[t.ID] = i
	}
	var header *Run
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	line := 0
	var bad error
	for first := true; sc.Scan(); first = false {
		line++
		if bad != nil {
			// A damaged line with more after it: not a crash's cut line.
			run.JournalDamage = bad
			break
		}
		if err := verify(sc.Bytes(), run.ID); err != nil {
			bad = fmt.Errorf("line %d of journal.jsonl: %w; what it and the lines after it recorded is run again", line, err)
			continue
		}
		if first {
			var h journalHeader
			if json.Unmarshal(sc.Bytes(), &h) == nil && h.Run != nil {
				header = h.Run
				continue
			}
		}
		var t Task
		if err := json.Unmarshal(sc.Bytes(), &t); err != nil || t.ID == "" {
			bad = fmt.Errorf("line %d of journal.jsonl is not a task's record; what it and the lines after it recorded is run again", line)
			continue // a line cut short by a crash, if it is the last
		}
		t.Checksum = ""
		if i, ok := index[t.ID]; ok {
			run.Tasks[i] = &t
		} else {
			index[t.ID] = len(run.Tasks)
			run.Tasks = append(run.Tasks, &t)
		}
	}
	if bad != nil && run.JournalDamage == nil && endsWithNewline(f) {
		// The last line is whole yet unreadable: damage, not a crash.
		run.JournalDamage = bad
	}
	return header, nil
}

// endsWithNewline reports whether the file's last byte is a newline: a
// line a crash cut short has none.
func endsWithNewline(f *os.File) bool {
	info, err := f.Stat()
	if err != nil || info.Size() == 0 {
		return false
	}
	b := make([]byte, 1)
	_, err = f.ReadAt(b, info.Size()-1)
	return err == nil && b[0] == '\n'
}
