package engine

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"time"

	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/quote"
)

// Options are the engine's settings for `runner apply` and `runner plan`:
// what to run and how. How it is shown is the Reporter's business.
type Options struct {
	Recipe   string
	VarFiles []string
	Sets     []string
	DryRun   bool
	Jobs     int      // parallel tasks; number of CPUs when 0
	Only     []string // task ids to run, with what they need
	Resume   string   // "" for a new run, "latest", or a run id
	// Rerun names tasks of the run being resumed to run again even if they
	// succeeded (--rerun); with RerunDownstream, every task that needs
	// one of them, directly or not, runs again too.
	Rerun           []string
	RerunDownstream bool
	// RunID is the id of a new run; a fresh one (NewRunID) when empty. A
	// server names the run before it starts, to answer with it at once.
	RunID   string
	Workdir string
	// IncludeDirs are folders outside the recipe's own from which include:
	// may read (--include-dir).
	IncludeDirs []string
	StateDir    string // default: .runner beside the recipe

	Kill     <-chan struct{} // closed: kill the running tasks' processes at once (a second interrupt)
	Busy     *Busy           // marked while a run executes, for the signal handler
	Environ  []string        // the process environment
	Registry *tasktype.Registry
	Now      func() time.Time // the clock; time.Now when nil
	// Masker masks secrets in all that the engine keeps and reports; the
	// engine adds the environment's and the recipe's secrets to it. Give
	// the Reporter the same one. A new one when nil.
	Masker *secret.Masker
	// Reporter shows the run or the plan; nil shows nothing.
	Reporter Reporter
}

// Reporter shows a run or a plan to whoever reads runner's output (see
// package report). Event is called from the engine and from running tasks
// at once.
type Reporter interface {
	scheduler.Sink
	// Warn says something that does not stop the run (a damaged state
	// being recovered, a recipe changed since the run being resumed).
	Warn(msg string)
	// Plan shows what a dry run found.
	Plan(name string, plan []scheduler.PlannedTask)
	// Finish shows how a run ended; dir holds its state and logs.
	Finish(run *state.Run, dir string)
}

// Result is what Apply did: the run, or the plan of a dry run.
type Result struct {
	Run  *state.Run              // nil for dry runs and runs that never started
	Plan []scheduler.PlannedTask // dry runs only
}

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

// Apply validates and runs (or plans) a recipe. Its error says why runner
// does not exit 0, and with which code (see ExitCoder): the recipe or the
// command line is wrong, the recipe is locked, the run was interrupted, or
// a task failed or would fail.
func Apply(ctx context.Context, opt Options) (Result, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Jobs <= 0 {
		opt.Jobs = runtime.NumCPU()
	}
	if opt.Masker == nil {
		opt.Masker = secret.New()
	}
	if opt.Reporter == nil {
		opt.Reporter = silent{}
	}
	masker, rep := opt.Masker, opt.Reporter
	masker.AddEnviron(opt.Environ)
	r, err := Load(opt)
	if err != nil {
		return Result{}, err
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
			return Result{}, &UsageError{fmt.Errorf("resume: %w", err)}
		}
		if previous.Recipe != abs {
			return Result{}, &UsageError{fmt.Errorf("resume: run %s is of %s, not %s", previous.ID, previous.Recipe, abs)}
		}
		if previous.Damaged != nil {
			done := 0
			for _, t := range previous.Tasks {
				if t.Status == state.Succeeded {
					done++
				}
			}
			rep.Warn(fmt.Sprintf("run %s: its state.json cannot be read (%v); recovered from its journal: %d tasks succeeded", previous.ID, previous.Damaged, done))
		}
		if previous.JournalDamage != nil {
			rep.Warn(fmt.Sprintf("run %s: %v", previous.ID, previous.JournalDamage))
		}
	}
	if len(opt.Rerun) > 0 {
		if previous == nil {
			return Result{}, &UsageError{errors.New("--rerun needs --resume: it names tasks of the run being resumed")}
		}
		if previous, err = forget(r, previous, opt.Rerun, opt.RerunDownstream); err != nil {
			return Result{}, &UsageError{err}
		}
	}
	started := opt.Now()
	runID := opt.RunID
	if runID == "" {
		runID = state.NewRunID(started)
	}
	if previous != nil {
		started, runID = previous.Started, previous.ID
	}
	scope, environ, err := prepareScope(r, opt, masker, runID, started, abs)
	if err != nil {
		return Result{}, &UsageError{err}
	}
	sched := scheduler.Options{
		Jobs: opt.Jobs, Only: opt.Only, Previous: previous, Scope: scope, Environ: environ, Masker: masker, Now: opt.Now,
		Run: state.Run{ID: runID, Recipe: abs, Name: r.Name, Digest: r.Digest, Started: started},
	}
	if opt.DryRun {
		return plan(ctx, r, rep, sched)
	}

	lock, err := state.LockRecipe(abs, runID, masker)
	if err != nil {
		return Result{}, &LockError{err}
	}
	defer lock.Unlock()
	if !opt.Busy.Start() {
		return Result{}, &InterruptedError{}
	}
	sched.Processes = lock
	defer killOn(opt.Kill, lock.KillAll)()

	if previous != nil {
		sched.Run.Resumes = previous.Resumes + 1
		if previous.Digest != r.Digest {
			rep.Warn(fmt.Sprintf("%s changed since run %s started; resuming with the current recipe", opt.Recipe, previous.ID))
		}
	}
	sched.Sink, sched.Store = rep, store
	res, err := scheduler.Execute(ctx, r, sched)
	run := res.Run
	opt.Busy.Stop() // the state is saved: an interrupt from here on ends runner at once
	if run.Finished != nil {
		rep.Finish(run, store.RunDir(run.ID)) // also when state failed: the tasks' own results
	}
	if err != nil {
		return Result{Run: run}, err
	}
	switch run.Status {
	case state.Failed:
		return Result{Run: run}, &RunError{Run: run}
	case state.Cancelled:
		return Result{Run: run}, &RunError{Run: run, Interrupted: ctx.Err() != nil}
	}
	return Result{Run: run}, nil
}

// killOn calls killAll when kill is closed (a second interrupt), until the
// function it returns is called.
func killOn(kill <-chan struct{}, killAll func()) (stop func()) {
	if kill == nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		select {
		case <-kill:
			killAll()
		case <-done:
		}
	}()
	return func() { close(done) }
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

func plan(ctx context.Context, r *recipe.Recipe, rep Reporter, sched scheduler.Options) (Result, error) {
	sched.DryRun = true
	res, err := scheduler.Execute(ctx, r, sched)
	if err != nil {
		return Result{}, err // a dry run keeps no state: never
	}
	rep.Plan(r.Name, res.Plan)
	failing := 0
	for _, t := range res.Plan {
		if t.Would == scheduler.WouldFail {
			failing++
		}
	}
	if failing > 0 {
		return Result{Plan: res.Plan}, &PlanError{Failing: failing}
	}
	return Result{Plan: res.Plan}, nil
}

// silent is the Reporter of nobody.
type silent struct{}

func (silent) Event(scheduler.Event)                {}
func (silent) Warn(string)                          {}
func (silent) Plan(string, []scheduler.PlannedTask) {}
func (silent) Finish(*state.Run, string)            {}

// VarScope loads nothing and runs nothing: it evaluates r's vars and env
// as a run starting now would, for tools that look at a recipe before any
// run (runner export counts for_each lists with it). The values of the
// recipe's secrets go to opt.Masker when it is set.
func VarScope(r *recipe.Recipe, opt Options) (*eval.Scope, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Masker == nil {
		opt.Masker = secret.New()
	}
	started := opt.Now()
	abs, _ := filepath.Abs(opt.Recipe)
	scope, _, err := prepareScope(r, opt, opt.Masker, state.NewRunID(started), started, abs)
	return scope, err
}
