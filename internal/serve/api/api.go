// Package api is the contract of `runner serve`: the JSON documents of its
// HTTP API under /api/v1/, the stable error codes, and Backend, what the
// HTTP layer (package web) asks of the server's core (package serve). The
// dashboard's pages are rendered from the same documents, so a page never
// shows what the API would not.
package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/novelfactory/runner/internal/finance"
)

// Recipe is one recipe the server loaded (or failed to load).
type Recipe struct {
	// ID names the recipe in URLs: its file name without extension, with a
	// short suffix when two served recipes would share it. It matches IDPattern.
	ID          string `json:"id"`
	Name        string `json:"name"`
	Path        string `json:"path"` // the recipe file, as given to serve (not resolved further)
	Description string `json:"description,omitempty"`
	// Errors are why the recipe cannot be run, each `file:line:col: what`;
	// empty when it is valid. An invalid recipe keeps its last runs.
	Errors    []string     `json:"errors,omitempty"`
	Vars      []Var        `json:"vars,omitempty"`
	Schedules []Schedule   `json:"schedules,omitempty"`
	Overlap   string       `json:"overlap,omitempty"`  // skip, queue or cancel_previous; empty without a schedule
	Catchup   string       `json:"catchup,omitempty"`  // latest, all or none; empty without a schedule
	NextRun   *time.Time   `json:"next_run,omitempty"` // the soonest of the schedules' next times
	LastRun   *RunSummary  `json:"last_run,omitempty"`
	Recent    []RunSummary `json:"recent,omitempty"` // the last 20 runs, newest first
	// Overdue is set when a scheduled recipe has not succeeded within its
	// expected interval (a weekly backup older than 8 days).
	Overdue *Overdue   `json:"overdue,omitempty"`
	Tasks   []TaskNode `json:"tasks,omitempty"` // the graph, in file order
}

// Var is a declared var of a recipe, which a run request may override.
type Var struct {
	Name    string `json:"name"`
	Default string `json:"default"` // as written in the recipe; `***` for a secret
	Secret  bool   `json:"secret,omitempty"`
	// Computed says the default is an expression, evaluated when a run
	// starts (`${{ strftime(now(), "%Y%m%d") }}`): Default is its text.
	Computed bool `json:"computed,omitempty"`
}

// Schedule is one schedule entry of a recipe.
type Schedule struct {
	Cron     string            `json:"cron"`
	Timezone string            `json:"timezone"`
	Words    string            `json:"words"` // "at 04:00 on Sunday"
	Next     *time.Time        `json:"next,omitempty"`
	Vars     map[string]string `json:"vars,omitempty"`
}

// Overdue says a scheduled recipe has not succeeded for too long.
type Overdue struct {
	Expected    time.Duration `json:"expected_ns"`            // the longest gap its schedule allows, with slack
	LastSuccess *time.Time    `json:"last_success,omitempty"` // nil: never
	Message     string        `json:"message"`                // "no successful run for 9 days (expected every 7 days)"
}

// TaskNode is a task of the recipe's graph.
type TaskNode struct {
	ID    string   `json:"id"`
	Uses  string   `json:"uses"`
	Needs []string `json:"needs,omitempty"`
}

// Run statuses beyond the engine's (pending, running, succeeded, failed,
// skipped, cancelled).
const (
	// StatusInterrupted is a run recorded as running whose process is gone
	// (the server or a shell's runner was killed): it can be resumed.
	StatusInterrupted = "interrupted"
	// StatusQueued is a run request waiting for the recipe's lock (overlap: queue).
	StatusQueued = "queued"
	// StatusDamaged is a run whose state cannot be read.
	StatusDamaged = "damaged"
)

// RunSummary is one run, as in lists.
type RunSummary struct {
	ID       string     `json:"id"`
	Recipe   string     `json:"recipe"` // Recipe.ID; empty when the recipe is no longer served
	Name     string     `json:"name"`   // the recipe's name when it ran
	Status   string     `json:"status"`
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished,omitempty"`
	Duration float64    `json:"duration_s,omitempty"` // finished runs
	Trigger  string     `json:"trigger,omitempty"`    // schedule, manual, api, shell (unknown: a run not started by this server)
	Resumes  int        `json:"resumes,omitempty"`
}

// Run is one run with its tasks.
type Run struct {
	RunSummary
	Tasks []Task     `json:"tasks"`
	Graph []TaskNode `json:"graph,omitempty"` // the recipe's graph, for drawing
	// Actions are what may be done to the run now: resume, cancel, retry.
	Actions []string `json:"actions,omitempty"`
	Problem string   `json:"problem,omitempty"` // why its state is damaged
}

// Task is a task (or a for_each instance, `id[n]`) of a run.
type Task struct {
	ID       string     `json:"id"`
	Base     string     `json:"base"` // the recipe's task id (id without [n])
	Status   string     `json:"status"`
	Attempts int        `json:"attempts,omitempty"`
	Started  *time.Time `json:"started,omitempty"`
	Finished *time.Time `json:"finished,omitempty"`
	Duration float64    `json:"duration_s,omitempty"`
	Outputs  any        `json:"outputs,omitempty"` // masked
	Error    string     `json:"error,omitempty"`
	Reason   string     `json:"reason,omitempty"`
	HasLog   bool       `json:"has_log,omitempty"`
}

// RunQuery filters and pages the run list.
type RunQuery struct {
	Recipe  string    // a Recipe.ID, or all
	Status  string    // a status, or all
	From    time.Time // started at or after; zero: no bound
	To      time.Time // started before; zero: no bound
	Page    int       // from 1
	PerPage int       // 1..200; 50 when 0
}

// RunPage is one page of runs, newest first.
type RunPage struct {
	Runs    []RunSummary `json:"runs"`
	Total   int          `json:"total"` // runs matching the query
	Page    int          `json:"page"`
	PerPage int          `json:"per_page"`
}

// LogChunk is a piece of a task's log, for live logs. Offsets are byte
// offsets in the log file: a client that lost its connection resumes at
// the last End it saw (the SSE event id).
type LogChunk struct {
	Offset int64  `json:"offset"`
	End    int64  `json:"end"`
	Text   string `json:"text"`           // whole lines, masked
	Done   bool   `json:"done,omitempty"` // the task has finished and its log is complete
}

// Change tells watchers that something they show may have changed.
type Change struct {
	Recipe string `json:"recipe,omitempty"` // Recipe.ID
	Run    string `json:"run,omitempty"`    // run id
	Task   string `json:"task,omitempty"`   // a task of the run, for task changes and log lines
	Status string `json:"status,omitempty"` // the run's, or with Task the task's
	Log    bool   `json:"log,omitempty"`    // Task's log grew
}

// Finance is the finance page: the day-by-day series of a dated CSV and
// its totals, computed by the same code as the report task (the very
// type of package finance, so that nothing is copied on the way).
type Finance = finance.Summary

// Series is one column of the finance CSV; NaN (null in JSON) where a row
// has no value.
type Series = finance.Series

// Card is the totals of one series.
type Card = finance.Card

// Total is one total of a card ("최근 7일": "1,234,000 원").
type Total = finance.Total

// Backups is the backups page: the sets under the configured target.
type Backups struct {
	Target string      `json:"target"` // masked
	Sets   []BackupSet `json:"sets"`
}

// BackupSet is one backup set.
type BackupSet struct {
	Name           string    `json:"name"`
	Date           time.Time `json:"date"`
	Objects        int       `json:"objects"`
	Size           int64     `json:"size"`
	Complete       bool      `json:"complete"`
	Problem        string    `json:"problem,omitempty"`
	RestoreCommand string    `json:"restore_command,omitempty"`
}

// Backend is what the HTTP layer needs of the server's core. Every method
// validates the ids it is given (see ValidID) before touching the disk,
// returns *Error for what the client did wrong, and masks secrets in all it
// returns.
type Backend interface {
	Recipes(ctx context.Context) ([]Recipe, error)
	Recipe(ctx context.Context, id string) (Recipe, error)
	Runs(ctx context.Context, q RunQuery) (RunPage, error)
	Run(ctx context.Context, id string) (Run, error)
	// Log returns what task's log holds from offset on (at most about
	// 64 KiB, whole lines), and whether the task has finished.
	Log(ctx context.Context, runID, taskID string, offset int64) (LogChunk, error)
	// Watch returns a channel that receives a Change whenever a run starts,
	// changes or ends, or a recipe is (re)loaded; it is closed when ctx
	// ends. A slow reader misses changes rather than blocking the server:
	// a Change means "look again".
	Watch(ctx context.Context) <-chan Change

	// Start starts a run of a recipe with var overrides NAME=VALUE (checked
	// as --set is: an undeclared var is an *Error with CodeInvalidVar).
	Start(ctx context.Context, recipeID string, sets []string) (RunSummary, error)
	Resume(ctx context.Context, runID string) (RunSummary, error)
	Cancel(ctx context.Context, runID string) error
	// Retry runs one task of a finished run again, reusing the outputs of
	// the rest; with downstream, everything after it runs again too.
	Retry(ctx context.Context, runID, taskID string, downstream bool) (RunSummary, error)

	Finance(ctx context.Context) (Finance, error)
	Backups(ctx context.Context) (Backups, error)
}

// Stable error codes of the API.
const (
	CodeBadRequest    = "bad_request"    // malformed request
	CodeInvalidID     = "invalid_id"     // a run, task or recipe id of the wrong form
	CodeNotFound      = "not_found"      // no such recipe, run or task
	CodeInvalidVar    = "invalid_var"    // an undeclared var or a bad value in a run request
	CodeInvalidRecipe = "invalid_recipe" // the recipe does not load: see its errors
	CodeConflict      = "conflict"       // the action does not fit the run's state (resume a succeeded run)
	CodeLocked        = "locked"         // another run of the recipe holds its lock
	CodeUnauthorized  = "unauthorized"   // no or a wrong token
	CodeForbidden     = "forbidden"      // the token's role may not do this
	CodeCSRF          = "csrf"           // a state-changing request without a valid CSRF token
	CodeNotConfigured = "not_configured" // finance or backups has no source configured
	CodeUnavailable   = "unavailable"    // the server is shutting down
	CodeInternal      = "internal"       // runner's fault
)

// Error is an error the client can act on, with a stable code.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with code and the HTTP status that goes with it.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Status: statusOf(code), Code: code, Message: fmt.Sprintf(format, args...)}
}

func statusOf(code string) int {
	switch code {
	case CodeBadRequest, CodeInvalidID, CodeInvalidVar, CodeInvalidRecipe:
		return http.StatusBadRequest
	case CodeNotFound, CodeNotConfigured:
		return http.StatusNotFound
	case CodeConflict, CodeLocked:
		return http.StatusConflict
	case CodeUnauthorized:
		return http.StatusUnauthorized
	case CodeForbidden, CodeCSRF:
		return http.StatusForbidden
	case CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// AsError returns err as an *Error: itself, or CodeInternal for anything else.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Errorf(CodeInternal, "%v", err)
}

// IDPattern is the form of recipe ids; run ids are state.IsRunID's form;
// task ids are a recipe task id, optionally with an instance index `[n]`.
var (
	IDPattern   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)
	TaskPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,127}(\[[0-9]{1,5}\])?$`)
)
