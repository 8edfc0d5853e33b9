package state

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/internal/regfile"
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
	Checksum string `json:"checksum,omitempty"` // of a journal line (see checksum.go)
	ID       string `json:"id"`
	Status   Status `json:"status"`
	Attempts int    `json:"attempts,omitempty"`
	Outputs  any    `json:"outputs,omitempty"`
	Item     any    `json:"item,omitempty"` // the for_each item of an instance
	// Masked says a secret was masked in the outputs or item written down:
	// they are not what later tasks saw, and a resumed run runs it again.
	Masked   bool       `json:"masked,omitempty"`
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
	Checksum string     `json:"checksum,omitempty"` // of state.json (see checksum.go)
	ID       string     `json:"id"`
	Recipe   string     `json:"recipe"` // absolute path of the recipe file
	Name     string     `json:"name"`
	Digest   string     `json:"digest"` // of the recipe's files, to warn when a resumed recipe changed
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished,omitempty"`
	Status   Status     `json:"status"`
	Resumes  int        `json:"resumes,omitempty"`
	Tasks    []*Task    `json:"tasks"`

	// Damaged is why the run's state.json could not be read. The run was
	// then recovered from its journal when Recipe is set; else only its
	// id (and start, from the id) is known.
	Damaged error `json:"-"`
	// JournalDamage is why the journal could not be read to its end, when
	// the damage is not the last line cut short by a crash.
	JournalDamage error `json:"-"`
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
	sealed := *run
	sealed.Checksum = unsealed
	sealed.Tasks = make([]*Task, len(run.Tasks))
	masked := make([]Task, len(run.Tasks))
	for i, t := range run.Tasks {
		masked[i] = maskedTask(t, m)
		sealed.Tasks[i] = &masked[i]
	}
	data, err := json.MarshalIndent(&sealed, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode state of run %s: %w", run.ID, err)
	}
	return seal(append(data, '\n'), run.ID), nil
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

// ErrNeverStarted marks a run folder with neither state.json nor journal:
// runner was stopped while it created the run, before any task started.
var ErrNeverStarted = errors.New("never started: runner was stopped while it created the run, before any task ran")

// neverStarted reports whether run id's folder has neither state nor journal.
func (s *Store) neverStarted(id string) bool {
	for _, name := range []string{"state.json", journalName} {
		if _, err := os.Lstat(filepath.Join(s.RunDir(id), name)); !errors.Is(err, fs.ErrNotExist) {
			return false
		}
	}
	return true
}

// DamagedError says a run's state.json cannot be read and its journal
// cannot stand in for it.
type DamagedError struct {
	ID  string
	Err error
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("run %s: its state.json cannot be read (%v), and its journal does not say what the run was", e.ID, e.Err)
}

func (e *DamagedError) Unwrap() error { return e.Err }

// Load reads the state of run id. When state.json cannot be read, the run
// is recovered from its journal — the runs's record heads it, and every
// finished task follows — with Damaged saying why; when that is not
// possible either, the error is a *DamagedError.
func (s *Store) Load(id string) (*Run, error) {
	if _, err := os.Stat(s.RunDir(id)); err != nil {
		return nil, fmt.Errorf("no run %s in %s", id, s.Dir)
	}
	data, err := regfile.ReadFile(filepath.Join(s.RunDir(id), "state.json"))
	var run Run
	if err == nil {
		err = verify(data, id)
	}
	if err == nil {
		err = json.Unmarshal(data, &run)
		if err == nil && run.ID != id {
			err = fmt.Errorf("it is the state of run %q", run.ID)
		}
	}
	if err != nil {
		return s.recover(id, err)
	}
	if err := s.applyJournal(&run); err != nil {
		return nil, err
	}
	return &run, nil
}

// recover rebuilds run id from its journal after reading state.json failed
// with damage.
func (s *Store) recover(id string, damage error) (*Run, error) {
	if errors.Is(damage, os.ErrNotExist) {
		damage = errors.New("state.json is missing")
	}
	run := &Run{ID: id}
	header, err := s.readJournal(run)
	if err != nil || header == nil {
		return nil, &DamagedError{ID: id, Err: damage}
	}
	tasks := run.Tasks
	*run = *header
	run.ID, run.Tasks, run.Damaged = id, tasks, damage
	run.Status, run.Finished = Failed, nil // how it ended is in the lost state.json
	return run, nil
}

// List returns every run in the store, oldest first. A run whose
// state.json cannot be read is listed too: recovered from its journal, or
// with only its id, its start (from the id) and Damaged.
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
		r, err := s.Load(e.Name())
		if err != nil {
			started, _ := time.Parse("20060102T150405Z", e.Name()[:16])
			if s.neverStarted(e.Name()) {
				err = ErrNeverStarted
			}
			r = &Run{ID: e.Name(), Started: started, Damaged: err}
		}
		runs = append(runs, r)
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Started.Before(runs[j].Started) })
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
		if errors.Is(r.Damaged, ErrNeverStarted) {
			continue // nothing ran: nothing to resume, nothing to lose
		}
		if r.Damaged != nil && r.Recipe == "" {
			// It may be this recipe's newest run: resuming an older one
			// would redo what it did, silently.
			return nil, fmt.Errorf("%w; it may be the last run of %s, and what it did is lost: start a new run (without --resume), or resume an earlier run by its id (`runner runs` lists them)",
				r.Damaged, filepath.Base(recipePath))
		}
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
