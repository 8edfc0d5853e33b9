package recipe

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/cron"
	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/tasktype"
)

// Recipe is a loaded and validated recipe.
type Recipe struct {
	Path        string // as the user gave it
	Dir         string // absolute directory of the recipe file
	Name        string
	Description string
	Vars        []*Var
	Secrets     []string // names of vars whose values are masked
	Env         []*EnvEntry
	Tasks       []*Task // in file order: the tie-break order of the graph
	Digest      string  // sha256 of every file the recipe was read from
	// Location is the time zone of now(), strftime and dated names: the
	// recipe's timezone: key, else the machine's zone.
	Location *time.Location
	// Schedule says when runner serve starts the recipe by itself; nil
	// when the recipe has no schedule: key.
	Schedule *Schedule

	byID map[string]*Task

	varByName   map[string]*Var // index of Vars[:varsIndexed], kept by Var
	varsIndexed int
}

// Var is a declared variable with its effective value (after overrides).
type Var struct {
	Name  string
	Value eval.Value
	Pos   Pos
}

// EnvEntry is one variable exported to every task's process environment.
type EnvEntry struct {
	Name  string
	Value eval.Value
}

// Pos is a place in a file.
type Pos struct {
	File string
	Line int
	Col  int
}

// The overlap policies: what a scheduled start does while the recipe's
// previous run still runs (as Kubernetes CronJob's Forbid, Allow, Replace).
const (
	OverlapSkip           = "skip"            // do not start; the fire time counts as handled
	OverlapQueue          = "queue"           // start when the running one ends (at most one waits)
	OverlapCancelPrevious = "cancel_previous" // cancel the running one (resumable), then start
)

// The catch-up policies: what runner serve does with fire times it missed
// (it was down, or the machine slept).
const (
	CatchupLatest = "latest" // run the newest missed time once
	CatchupAll    = "all"    // run each missed time, oldest first, at most CatchupMax
	CatchupNone   = "none"   // run none; wait for the next time
)

// Schedule is a recipe's schedule: when it starts by itself under runner
// serve, and what happens to starts that overlap or were missed.
type Schedule struct {
	Entries       []*ScheduleEntry
	Overlap       string        // OverlapSkip, OverlapQueue or OverlapCancelPrevious
	Catchup       string        // CatchupLatest, CatchupAll or CatchupNone
	CatchupWindow time.Duration // missed times older than this are dropped
	CatchupMax    int           // the most missed times CatchupAll runs
	Pos           Pos           // where schedule: is written
}

// ScheduleEntry is one cron line of a schedule, in its time zone.
type ScheduleEntry struct {
	Spec     string     // the cron line as written
	Expr     *cron.Expr // Spec, parsed
	Location *time.Location
	// Zone names Location as written (an IANA name); "" when the entry
	// follows the recipe's zone and the recipe has none: the server's.
	Zone string
	Vars map[string]any // var values for the runs it starts: each scalar's text, as --set gives it
	Pos  Pos            // where its cron line is written
}

// Key identifies the entry among a recipe's: its cron line and zone.
// Editing either makes a new entry, which starts without a past.
func (e *ScheduleEntry) Key() string {
	zone := e.Zone
	if zone == "" {
		zone = "Local"
	}
	return e.Spec + " @ " + zone
}

// Sets returns the entry's vars as "name=value" overrides for
// Options.Sets, sorted by name.
func (e *ScheduleEntry) Sets() []string {
	sets := make([]string, 0, len(e.Vars))
	for name, v := range e.Vars {
		sets = append(sets, fmt.Sprintf("%s=%v", name, v))
	}
	sort.Strings(sets)
	return sets
}

// ShownSets returns Sets with the value of each var named in secrets
// (a recipe's secrets: list) replaced by ***, for output.
func (e *ScheduleEntry) ShownSets(secrets []string) []string {
	sets := e.Sets()
	for i, s := range sets {
		name, _, _ := strings.Cut(s, "=")
		if slices.Contains(secrets, name) {
			sets[i] = name + "=***"
		}
	}
	return sets
}

// Retry says how often and how patiently a failed task is tried again. It
// is also the grammar of a task's retry: key, for key.
type Retry struct {
	// Total number of tries, the first included.
	Attempts int `yaml:"attempts" json:"attempts" default:"1" min:"1" shape:"a whole number of tries, at least 1"`
	// Wait before the second try.
	Delay time.Duration `yaml:"delay" json:"delay"`
	// Factor applied to the wait after each try.
	Backoff float64 `yaml:"backoff" json:"backoff" default:"2" min:"1" shape:"a number of at least 1 (the factor between waits)"`
	// Upper bound of the wait between tries; one hour (or the delay, if longer) when omitted. It must not be shorter than the delay.
	MaxDelay time.Duration `yaml:"max_delay" json:"max_delay"`
	// Error classes worth a retry; all when omitted.
	On []string `yaml:"on" json:"on"`
}

// Task is one node of the recipe's graph.
type Task struct {
	ID              string
	Pos             Pos
	Dir             string // base directory for relative paths: its file's directory
	Uses            string
	Type            *tasktype.Type
	With            eval.Value // nil when the task has no params
	Needs           []string
	NeedsPos        []Pos      // where each need is written
	If              *eval.Expr // nil: always
	Retry           Retry
	Timeout         time.Duration // 0: none
	ForEach         eval.Value    // nil: a single instance
	ContinueOnError bool
	Description     string
}

// addTask appends t, keeping the index by id current.
func (r *Recipe) addTask(t *Task) {
	if r.byID == nil {
		r.byID = map[string]*Task{}
	}
	r.Tasks = append(r.Tasks, t)
	r.byID[t.ID] = t
}

// Task returns the task with the given id, or nil.
func (r *Recipe) Task(id string) *Task {
	if len(r.byID) != len(r.Tasks) {
		r.byID = make(map[string]*Task, len(r.Tasks))
		for _, t := range r.Tasks {
			r.byID[t.ID] = t
		}
	}
	return r.byID[id]
}

// Var returns the var called name, or nil.
func (r *Recipe) Var(name string) *Var {
	// Vars only grows (the loader appends): index what is new.
	if r.varByName == nil || r.varsIndexed > len(r.Vars) {
		r.varByName, r.varsIndexed = map[string]*Var{}, 0
	}
	for ; r.varsIndexed < len(r.Vars); r.varsIndexed++ {
		if v := r.Vars[r.varsIndexed]; r.varByName[v.Name] == nil {
			r.varByName[v.Name] = v
		}
	}
	return r.varByName[name]
}
