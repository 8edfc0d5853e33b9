package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/secret"
)

// Status is where a task or a run stands.
type Status string

// The statuses of tasks and runs.
const (
	Pending   Status = "pending"
	Running   Status = "running"
	Succeeded Status = "succeeded"
	Failed    Status = "failed"
	Skipped   Status = "skipped"
	Cancelled Status = "cancelled"
)

// Terminal reports whether a task in this status will not change any more.
func (s Status) Terminal() bool {
	return s == Succeeded || s == Failed || s == Skipped || s == Cancelled
}

// Task is the recorded state of one task (or one for_each instance).
type Task struct {
	ID       string     `json:"id"`
	Status   Status     `json:"status"`
	Attempts int        `json:"attempts,omitempty"`
	Outputs  any        `json:"outputs,omitempty"`
	Item     any        `json:"item,omitempty"` // the for_each item of an instance
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	Error    string     `json:"error,omitempty"`
	Reason   string     `json:"reason,omitempty"` // why it was skipped or cancelled
	Log      string     `json:"log,omitempty"`    // path of the task's log, relative to the run folder
}

// Duration is how long the task ran, or 0.
func (t *Task) Duration() time.Duration {
	if t.Started == nil || t.Finished == nil {
		return 0
	}
	return t.Finished.Sub(*t.Started)
}

// Run is the recorded state of one run of a recipe.
type Run struct {
	ID       string     `json:"id"`
	Recipe   string     `json:"recipe"` // absolute path of the recipe file
	Name     string     `json:"name"`
	Digest   string     `json:"digest"` // of the recipe's files, to warn when a resumed recipe changed
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished,omitempty"`
	Status   Status     `json:"status"`
	Resumes  int        `json:"resumes,omitempty"`
	Tasks    []*Task    `json:"tasks"`
}

// Task returns the state of task id, or nil.
func (r *Run) Task(id string) *Task {
	for _, t := range r.Tasks {
		if t.ID == id {
			return t
		}
	}
	return nil
}

// Store is a state directory.
type Store struct {
	Dir    string
	Masker *secret.Masker // applied to everything written
	mu     sync.Mutex     // serialises writes of state.json
}

// NewRunID returns a new run id that sorts by start time.
func NewRunID(t time.Time) string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

var runIDRe = regexp.MustCompile(`^\d{8}T\d{6}Z-[0-9a-f]{6}$`)

// IsRunID reports whether s has the form of a run id.
func IsRunID(s string) bool { return runIDRe.MatchString(s) }

// RunDir is the folder of a run.
func (s *Store) RunDir(id string) string { return filepath.Join(s.Dir, "runs", id) }

// LogPath is the log file of a task in a run, relative to the run folder.
func LogPath(taskID string) string {
	safe := strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, taskID)
	return filepath.Join("logs", safe+".log")
}

// Create makes the folder of a new (or resumed) run.
func (s *Store) Create(run *Run) error {
	dir := s.RunDir(run.ID)
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return fmt.Errorf("create run folder: %w", err)
	}
	return s.Save(run)
}

// Save writes run's state.json atomically, with secrets masked.
func (s *Store) Save(run *Run) error {
	data, err := Encode(run, s.Masker)
	if err != nil {
		return err
	}
	return s.Write(run.ID, data)
}

// Encode renders run as state.json content, with secrets masked. Callers
// that guard run with a lock hold it only for this, not for the disk write.
func Encode(run *Run, m *secret.Masker) ([]byte, error) {
	data, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode state of run %s: %w", run.ID, err)
	}
	return append(m.Bytes(data), '\n'), nil
}

// Write atomically replaces the state.json of run id with data from Encode.
func (s *Store) Write(id string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := atomicfile.WriteFile(filepath.Join(s.RunDir(id), "state.json"), data, 0o644); err != nil {
		return fmt.Errorf("save state of run %s: %w", id, err)
	}
	return nil
}

// Load reads the state of run id.
func (s *Store) Load(id string) (*Run, error) {
	data, err := os.ReadFile(filepath.Join(s.RunDir(id), "state.json"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no run %s in %s", id, s.Dir)
		}
		return nil, fmt.Errorf("read state of run %s: %w", id, err)
	}
	var run Run
	if err := json.Unmarshal(data, &run); err != nil {
		return nil, fmt.Errorf("read state of run %s: %w", id, err)
	}
	if err := s.applyJournal(&run); err != nil {
		return nil, err
	}
	return &run, nil
}

// List returns every run in the store, oldest first. Unreadable run folders
// are skipped: one damaged state file must not hide the others.
func (s *Store) List() ([]*Run, error) {
	entries, err := os.ReadDir(filepath.Join(s.Dir, "runs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs in %s: %w", s.Dir, err)
	}
	var runs []*Run
	for _, e := range entries {
		if !e.IsDir() || !IsRunID(e.Name()) {
			continue
		}
		if r, err := s.Load(e.Name()); err == nil {
			runs = append(runs, r)
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].Started.Before(runs[j].Started) })
	return runs, nil
}

// LatestUnfinished returns the newest run of the recipe at path that did
// not succeed, for --resume without an id.
func (s *Store) LatestUnfinished(recipePath string) (*Run, error) {
	runs, err := s.List()
	if err != nil {
		return nil, err
	}
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		if r.Recipe != recipePath {
			continue
		}
		if r.Status == Succeeded {
			return nil, fmt.Errorf("the last run of %s (%s) succeeded: nothing to resume", filepath.Base(recipePath), r.ID)
		}
		return r, nil
	}
	return nil, fmt.Errorf("no earlier run of %s in %s to resume", filepath.Base(recipePath), s.Dir)
}
