package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"time"

	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/report"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/internal/regfile"
)

// Exit codes of runner, as the design specifies.
const (
	ExitOK          = 0   // every task succeeded or was skipped
	ExitFailed      = 1   // a task failed
	ExitUsage       = 2   // usage or validation error
	ExitLocked      = 3   // another run of the recipe holds the lock
	ExitInterrupted = 130 // SIGINT or SIGTERM
)

// Output formats.
const (
	OutputText = "text"
	OutputJSON = "json"
)

// Options are everything `runner apply` and `runner plan` take.
type Options struct {
	Recipe   string
	VarFiles []string
	Sets     []string
	DryRun   bool
	Jobs     int      // parallel tasks; number of CPUs when 0
	Only     []string // task ids to run, with what they need
	Resume   string   // "" for a new run, "latest", or a run id
	Workdir  string
	// IncludeDirs are folders outside the recipe's own from which include:
	// may read (--include-dir).
	IncludeDirs []string
	StateDir    string // default: .runner beside the recipe
	Output      string // text or json

	Stdout      io.Writer
	Stderr      io.Writer
	Live        bool            // draw the live terminal view instead of plain lines
	Width       func() int      // terminal columns, for the live view
	StepSummary string          // file to append the Markdown summary to (GITHUB_STEP_SUMMARY)
	Kill        <-chan struct{} // closed: kill the running tasks' processes at once (a second interrupt)
	Busy        *Busy           // marked while a run executes, for the signal handler
	Environ     []string        // the process environment
	Registry    *tasktype.Registry
	Now         func() time.Time // the clock; time.Now when nil
}

// Result is the outcome of Apply.
type Result struct {
	Code int
	Run  *state.Run              // nil for dry runs and early errors
	Plan []scheduler.PlannedTask // dry runs only
}

// UsageError is an error of the recipe or the command line: exit code 2.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Load loads and validates a recipe with the options' var overrides.
func Load(opt Options) (*recipe.Recipe, error) {
	r, err := recipe.Load(opt.Recipe, recipe.Options{Registry: opt.Registry, VarFiles: opt.VarFiles, Sets: opt.Sets, Workdir: opt.Workdir, IncludeDirs: opt.IncludeDirs})
	if err != nil {
		return nil, &UsageError{err}
	}
	for _, id := range opt.Only {
		if r.Task(id) == nil {
			ids := make([]string, len(r.Tasks))
			for i, t := range r.Tasks {
				ids[i] = t.ID
			}
			return nil, &UsageError{fmt.Errorf("--only %s: no such task in %s%s", quote.Cut(id), opt.Recipe, diag.DidYouMean(id, ids))}
		}
	}
	return r, nil
}

// StateDir is where the runs of the recipe at path are kept.
func StateDir(recipePath, override string) string {
	if override != "" {
		return override
	}
	abs, err := filepath.Abs(recipePath)
	if err != nil {
		abs = recipePath
	}
	return filepath.Join(filepath.Dir(abs), ".runner")
}

// Apply validates and runs (or plans) a recipe. Errors that stop it before
// any task runs are returned with the matching exit code in the Result.
func Apply(ctx context.Context, opt Options) (Result, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Jobs <= 0 {
		opt.Jobs = runtime.NumCPU()
	}
	if opt.Stdout == nil {
		opt.Stdout = io.Discard
	}
	if opt.Stderr == nil {
		opt.Stderr = io.Discard
	}
	masker := secret.New()
	masker.AddEnviron(opt.Environ)
	r, err := Load(opt)
	if err != nil {
		return Result{Code: ExitUsage}, err
	}
	abs, _ := filepath.Abs(opt.Recipe)
	store := &state.Store{Dir: StateDir(opt.Recipe, opt.StateDir), Masker: masker}

	var previous *state.Run
	if opt.Resume != "" {
		if opt.Resume == "latest" {
			previous, err = store.LatestUnfinished(abs)
		} else {
			previous, err = store.Load(opt.Resume)
		}
		if err != nil {
			return Result{Code: ExitUsage}, &UsageError{fmt.Errorf("resume: %w", err)}
		}
		if previous.Recipe != abs {
			return Result{Code: ExitUsage}, &UsageError{fmt.Errorf("resume: run %s is of %s, not %s", previous.ID, previous.Recipe, abs)}
		}
		if previous.Damaged != nil {
			done := 0
			for _, t := range previous.Tasks {
				if t.Status == state.Succeeded {
					done++
				}
			}
			fmt.Fprintf(opt.Stderr, "warning: run %s: its state.json cannot be read (%v); recovered from its journal: %d tasks succeeded\n", previous.ID, previous.Damaged, done)
		}
		if previous.JournalDamage != nil {
			fmt.Fprintf(opt.Stderr, "warning: run %s: %v\n", previous.ID, previous.JournalDamage)
		}
	}
	started := opt.Now()
	runID := state.NewRunID(started)
	if previous != nil {
		started, runID = previous.Started, previous.ID
	}
	scope, environ, err := prepareScope(r, opt, masker, runID, started, abs)
	if err != nil {
		return Result{Code: ExitUsage}, &UsageError{err}
	}
	sched := scheduler.Options{
		Jobs: opt.Jobs, Only: opt.Only, Previous: previous, Scope: scope, Environ: environ, Masker: masker, Now: opt.Now,
		Run: state.Run{ID: runID, Recipe: abs, Name: r.Name, Digest: r.Digest, Started: started},
	}
	if opt.DryRun {
		return plan(ctx, r, opt, sched, masker)
	}

	lock, err := state.LockRecipe(abs, runID, masker)
	if err != nil {
		var le *state.LockedError
		var oe *state.OrphansError
		if errors.As(err, &le) || errors.As(err, &oe) {
			return Result{Code: ExitLocked}, err
		}
		return Result{Code: ExitFailed}, err
	}
	defer lock.Unlock()
	if !opt.Busy.Start() {
		return Result{Code: ExitInterrupted}, errors.New("interrupted before the run started")
	}
	sched.Processes = lock
	if opt.Kill != nil {
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-opt.Kill:
				lock.KillAll()
			case <-done:
			}
		}()
	}

	if previous != nil {
		sched.Run.Resumes = previous.Resumes + 1
		if previous.Digest != r.Digest {
			fmt.Fprintf(opt.Stderr, "warning: %s changed since run %s started; resuming with the current recipe\n", opt.Recipe, previous.ID)
		}
	}
	sink, closeSink := newSink(opt, masker)
	sched.Sink, sched.Store = sink, store
	res, err := scheduler.Execute(ctx, r, sched)
	closeSink()
	run := res.Run
	opt.Busy.Stop() // the state is saved: an interrupt from here on ends runner at once
	if run.Finished != nil {
		finish(opt, run, store, masker) // also when state failed: the tasks' own results
	}
	if err != nil {
		return Result{Code: ExitFailed, Run: run}, err
	}
	code := ExitOK
	switch run.Status {
	case state.Failed:
		code = ExitFailed
	case state.Cancelled:
		code = ExitFailed
		if ctx.Err() != nil {
			code = ExitInterrupted
		}
	}
	return Result{Code: code, Run: run}, nil
}

// secretTexts returns what of a secret var's value may be printed: its
// text, and for a map or a list (a set of credentials) every member's text
// at any depth, since each may be printed on its own.
func secretTexts(v any) []string {
	texts := []string{eval.Text(v)}
	return appendLeaves(texts, v)
}

// appendLeaves appends the text of every scalar inside v (not of the maps
// and lists between: the text of each level would hold all the levels
// below, quadratic in the depth).
func appendLeaves(texts []string, v any) []string {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			texts = appendLeaves(texts, e)
		}
	case []any:
		for _, e := range x {
			texts = appendLeaves(texts, e)
		}
	default:
		texts = append(texts, eval.Text(v))
	}
	return texts
}

// prepareScope evaluates vars (in order, each seeing the ones before) and
// the recipe's env, and registers secret values with the masker.
func prepareScope(r *recipe.Recipe, opt Options, masker *secret.Masker, runID string, started time.Time, abs string) (*eval.Scope, []string, error) {
	envMap := eval.EnvironMap(opt.Environ)
	if r.Location != nil {
		started = started.In(r.Location) // now() and strftime keep the recipe's clock
	}
	scope := eval.NewScope(r.Dir, started, envMap)
	scope.Run = eval.RunInfo{ID: runID, Dry: opt.DryRun, Recipe: abs, Started: started}
	for _, v := range r.Vars {
		val, err := v.Value.Eval(scope)
		if err != nil {
			return nil, nil, fmt.Errorf("%s:%d:%d: var %s: %w", v.Pos.File, v.Pos.Line, v.Pos.Col, v.Name, err)
		}
		scope.Vars[v.Name] = val
	}
	for _, name := range r.Secrets {
		masker.Add(secretTexts(scope.Vars[name])...)
	}
	environ := append([]string{}, opt.Environ...)
	merged := make(map[string]string, len(envMap)+len(r.Env))
	for k, v := range envMap {
		merged[k] = v
	}
	for _, e := range r.Env {
		val, err := e.Value.Eval(scope)
		if err != nil {
			return nil, nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		text := eval.Text(val)
		environ = append(environ, e.Name+"="+text)
		merged[e.Name] = text
	}
	masker.AddEnviron(environ)
	scope.Env = merged
	environ = append(environ, "RUNNER_RUN_ID="+runID)
	return scope, environ, nil
}

func plan(ctx context.Context, r *recipe.Recipe, opt Options, sched scheduler.Options, masker *secret.Masker) (Result, error) {
	sched.DryRun = true
	res, err := scheduler.Execute(ctx, r, sched)
	if err != nil {
		return Result{Code: ExitUsage}, &UsageError{err}
	}
	p := res.Plan
	if opt.Output == OutputJSON {
		j := report.NewJSON(opt.Stdout, masker)
		for _, t := range p {
			j.Write(struct {
				Event string `json:"event"`
				scheduler.PlannedTask
			}{"plan", t})
		}
	} else {
		report.WritePlan(opt.Stdout, r.Name, p, masker)
	}
	code := ExitOK
	for _, t := range p {
		if t.Would == scheduler.WouldFail {
			code = ExitFailed
		}
	}
	return Result{Code: code, Plan: p}, nil
}

func newSink(opt Options, masker *secret.Masker) (scheduler.Sink, func()) {
	switch {
	case opt.Output == OutputJSON:
		j := report.NewJSON(opt.Stdout, masker)
		return j, func() {}
	case opt.Live:
		width := opt.Width
		if width == nil {
			width = func() int { return 80 }
		}
		l := report.NewLive(opt.Stdout, masker, width)
		return l, func() { l.Close() }
	}
	p := report.NewPlain(opt.Stdout, masker)
	return p, func() {}
}

// finish prints the summary and appends it to GITHUB_STEP_SUMMARY.
func finish(opt Options, run *state.Run, store *state.Store, masker *secret.Masker) {
	if opt.Output == OutputJSON {
		report.NewJSON(opt.Stdout, masker).Write(map[string]any{
			"event": "summary", "run": run.ID, "status": run.Status, "tasks": report.Summarize(run),
			"state": filepath.Join(store.RunDir(run.ID), "state.json"),
		})
	} else {
		fmt.Fprintln(opt.Stdout)
		report.WriteSummary(opt.Stdout, run, masker)
		fmt.Fprintf(opt.Stdout, "\nrun %s %s; state and logs: %s\n", run.ID, run.Status, masker.String(store.RunDir(run.ID)))
	}
	if opt.StepSummary == "" {
		return
	}
	f, err := regfile.OpenAppend(opt.StepSummary, 0o644) // never a pipe: it would block with the lock held
	if err != nil {
		fmt.Fprintf(opt.Stderr, "warning: cannot append to GITHUB_STEP_SUMMARY: %v\n", err)
		return
	}
	defer f.Close()
	if _, err := io.WriteString(f, report.Markdown(run, masker)); err != nil {
		fmt.Fprintf(opt.Stderr, "warning: cannot append to GITHUB_STEP_SUMMARY: %v\n", err)
	}
}
