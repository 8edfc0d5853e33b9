package serve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/serve/api"
)

// activeRun is a run this server executes now.
type activeRun struct {
	id      string
	recipe  *served
	trigger string
	cancel  context.CancelFunc
	started chan struct{} // closed when the engine reports the run started
	once    sync.Once
}

// request is a run to start: new, resumed, or a retry.
type request struct {
	s          *served
	sets       []string
	resume     string
	rerun      []string
	downstream bool
	trigger    string
	runID      string // a new run's id; fresh when empty
}

func (c *Core) isActive(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.active[id] != nil
}

// activeOf returns the server's running run of the recipe at abs, or nil.
func (c *Core) activeOf(abs string) *activeRun {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, a := range c.active {
		if a.recipe.abs == abs {
			return a
		}
	}
	return nil
}

func (c *Core) cancelActive(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.active[id]; a != nil {
		a.cancel()
		return true
	}
	return false
}

// start starts a run in its own goroutine and returns once it holds the
// recipe's lock and its folder exists, or failed before that.
func (c *Core) start(req request) (api.RunSummary, error) {
	s := req.s
	if s.recipe == nil {
		return api.RunSummary{}, api.Errorf(api.CodeInvalidRecipe, "recipe %s does not load: %s", s.id, strings.Join(s.errors, "; "))
	}
	id := req.runID
	if req.resume != "" {
		id = req.resume
	} else if id == "" {
		id = state.NewRunID(c.cfg.Now())
	}
	ctx, cancel := context.WithCancel(c.runCtx)
	a := &activeRun{id: id, recipe: s, trigger: req.trigger, cancel: cancel, started: make(chan struct{})}
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		cancel()
		return api.RunSummary{}, api.Errorf(api.CodeUnavailable, "the server is stopping: no run starts now")
	}
	if c.active[id] != nil {
		c.mu.Unlock()
		cancel()
		return api.RunSummary{}, api.Errorf(api.CodeConflict, "run %s is running", id)
	}
	c.active[id] = a
	c.wg.Add(1)
	c.mu.Unlock()

	failed := make(chan error, 1)
	go func() {
		defer c.wg.Done()
		defer cancel()
		runID := id
		if req.resume != "" {
			runID = ""
		}
		opt := engine.Options{
			Recipe: s.path, Sets: req.sets, Resume: req.resume, Rerun: req.rerun, RerunDownstream: req.downstream, RunID: runID,
			StateDir: c.cfg.StateDir, Environ: c.cfg.Environ, Registry: c.cfg.Registry, Now: c.cfg.Now, Masker: c.masker,
			Kill: c.cfg.Kill, Reporter: &runReporter{c: c, a: a},
		}
		_, err := engine.Apply(ctx, opt)
		c.mu.Lock()
		delete(c.active, id)
		c.mu.Unlock()
		startedOK := false
		select {
		case <-a.started:
			startedOK = true
		default:
		}
		if !startedOK {
			failed <- err
			a.once.Do(func() { close(a.started) })
			return
		}
		e := c.index.update(engine.StateDir(s.path, c.cfg.StateDir), id)
		c.hub.send(api.Change{Recipe: s.id, Run: id, Status: e.status})
		if err != nil {
			c.log.Info("serve: run ended", "recipe", s.id, "run", id, "status", e.status, "err", c.masker.String(err.Error()))
		}
	}()
	<-a.started
	select {
	case err := <-failed:
		return api.RunSummary{}, startError(err)
	default:
	}
	c.index.setTrigger(id, req.trigger)
	if e := c.index.get(id); e != nil {
		return c.summary(e), nil
	}
	return api.RunSummary{ID: id, Recipe: s.id, Name: s.recipe.Name, Status: string(state.Running), Trigger: req.trigger}, nil
}

// startError is the api form of why a run did not start.
func startError(err error) error {
	var lock *engine.LockError
	var usage *engine.UsageError
	switch {
	case err == nil:
		return api.Errorf(api.CodeInternal, "the run ended before it started")
	case errors.As(err, &lock):
		return api.Errorf(api.CodeLocked, "%v", err)
	case errors.As(err, &usage):
		if strings.HasPrefix(usage.Err.Error(), "resume") || strings.HasPrefix(usage.Err.Error(), "--rerun") {
			return api.Errorf(api.CodeConflict, "%v", err)
		}
		return api.Errorf(api.CodeInvalidRecipe, "%v", err)
	case errors.As(err, new(*engine.InterruptedError)):
		return api.Errorf(api.CodeUnavailable, "the server is stopping: no run starts now")
	}
	return fmt.Errorf("start run: %w", err)
}

// runReporter turns a run's events into changes for watchers, and its
// end into metrics.
type runReporter struct {
	c *Core
	a *activeRun
}

func (r *runReporter) Event(e scheduler.Event) {
	ch := api.Change{Recipe: r.a.recipe.id, Run: r.a.id, Task: e.Task, Status: string(e.Status)}
	switch e.Type {
	case scheduler.RunStarted:
		dir := engine.StateDir(r.a.recipe.path, r.c.cfg.StateDir)
		r.c.index.update(dir, r.a.id)
		r.c.index.setTrigger(r.a.id, r.a.trigger)
		r.a.once.Do(func() { close(r.a.started) })
		ch.Status = string(state.Running)
	case scheduler.TaskLog:
		ch.Log = true
	case scheduler.TaskProgress:
		return
	}
	r.c.hub.send(ch)
}

func (r *runReporter) Warn(msg string) {
	r.c.log.Warn("serve: "+msg, "recipe", r.a.recipe.id, "run", r.a.id)
}

func (r *runReporter) Plan(string, []scheduler.PlannedTask) {}

func (r *runReporter) Finish(run *state.Run, _ string) {
	r.c.metrics.finished(r.a.recipe, run)
}

// checkSets checks run request overrides as --set is checked: NAME=VALUE
// with NAME a declared var.
func checkSets(s *served, sets []string) error {
	declared := map[string]bool{}
	var names []string
	for _, v := range s.recipe.Vars {
		declared[v.Name] = true
		names = append(names, v.Name)
	}
	sort.Strings(names)
	for _, set := range sets {
		name, _, ok := strings.Cut(set, "=")
		if !ok || name == "" {
			return api.Errorf(api.CodeInvalidVar, "%q: give a var override as NAME=VALUE", set)
		}
		if !declared[name] {
			list := "it declares none"
			if len(names) > 0 {
				list = "it declares " + strings.Join(names, ", ")
			}
			return api.Errorf(api.CodeInvalidVar, "var %s is not declared by recipe %s (%s)%s", name, s.id, list, diag.DidYouMean(name, names))
		}
	}
	return nil
}

func (c *Core) recipeOf(id string) (*served, error) {
	if !api.IDPattern.MatchString(id) {
		return nil, api.Errorf(api.CodeInvalidID, "%q is not a recipe id", id)
	}
	s := c.catalog.get(id)
	if s == nil {
		return nil, api.Errorf(api.CodeNotFound, "no recipe %s", id)
	}
	return s, nil
}

// runOf returns the index entry of run id and the served recipe it is of.
func (c *Core) runOf(id string) (*entry, *served, error) {
	if !state.IsRunID(id) {
		return nil, nil, api.Errorf(api.CodeInvalidID, "%q is not a run id", id)
	}
	e := c.index.get(id)
	if e == nil {
		return nil, nil, api.Errorf(api.CodeNotFound, "no run %s", id)
	}
	return e, c.catalog.byAbsPath(e.recipe), nil
}

// Start implements api.Backend.
func (c *Core) Start(_ context.Context, recipeID string, sets []string) (api.RunSummary, error) {
	s, err := c.recipeOf(recipeID)
	if err != nil {
		return api.RunSummary{}, err
	}
	if s.recipe == nil {
		return api.RunSummary{}, api.Errorf(api.CodeInvalidRecipe, "recipe %s does not load: %s", s.id, strings.Join(s.errors, "; "))
	}
	if err := checkSets(s, sets); err != nil {
		return api.RunSummary{}, err
	}
	return c.start(request{s: s, sets: sets, trigger: "api"})
}

// resumable checks that run e may be resumed or retried now.
func (c *Core) resumable(e *entry, s *served) error {
	if s == nil {
		return api.Errorf(api.CodeConflict, "run %s is of %s, which this server does not serve", e.id, e.recipe)
	}
	switch st := c.liveStatus(e); st {
	case string(state.Running), string(state.Pending):
		return api.Errorf(api.CodeConflict, "run %s is running", e.id)
	case api.StatusDamaged:
		return api.Errorf(api.CodeConflict, "run %s: its state cannot be read", e.id)
	}
	return nil
}

// Resume implements api.Backend. The run keeps its trigger; its succeeded
// tasks are not run again.
func (c *Core) Resume(_ context.Context, runID string) (api.RunSummary, error) {
	e, s, err := c.runOf(runID)
	if err != nil {
		return api.RunSummary{}, err
	}
	if err := c.resumable(e, s); err != nil {
		return api.RunSummary{}, err
	}
	if c.liveStatus(e) == string(state.Succeeded) {
		return api.RunSummary{}, api.Errorf(api.CodeConflict, "run %s succeeded: nothing to resume (retry a task to run it again)", runID)
	}
	return c.start(request{s: s, resume: runID, trigger: e.trigger})
}

// Retry implements api.Backend.
func (c *Core) Retry(_ context.Context, runID, taskID string, downstream bool) (api.RunSummary, error) {
	if !api.TaskPattern.MatchString(taskID) {
		return api.RunSummary{}, api.Errorf(api.CodeInvalidID, "%q is not a task id", taskID)
	}
	e, s, err := c.runOf(runID)
	if err != nil {
		return api.RunSummary{}, err
	}
	if err := c.resumable(e, s); err != nil {
		return api.RunSummary{}, err
	}
	base, _, _ := strings.Cut(taskID, "[")
	if s.recipe == nil || s.recipe.Task(base) == nil {
		return api.RunSummary{}, api.Errorf(api.CodeNotFound, "recipe %s has no task %s", s.id, base)
	}
	return c.start(request{s: s, resume: runID, rerun: []string{base}, downstream: downstream, trigger: e.trigger})
}

// Cancel implements api.Backend: it cancels a run of this server (its
// tasks get SIGTERM, its state is saved, it can be resumed) or drops a
// queued one. A run started elsewhere is not signalled.
func (c *Core) Cancel(_ context.Context, runID string) error {
	if !state.IsRunID(runID) {
		return api.Errorf(api.CodeInvalidID, "%q is not a run id", runID)
	}
	if c.cancelActive(runID) || c.timer.unqueue(runID) {
		c.hub.send(api.Change{Run: runID, Status: string(state.Cancelled)})
		return nil
	}
	e := c.index.get(runID)
	if e == nil {
		return api.Errorf(api.CodeNotFound, "no run %s", runID)
	}
	if st := c.liveStatus(e); st == string(state.Running) {
		h, _ := state.CurrentHolder(e.recipe)
		pid := 0
		if h != nil {
			pid = h.PID
		}
		return api.Errorf(api.CodeConflict, "run %s was started outside this server (pid %d): stop it there", runID, pid)
	}
	return api.Errorf(api.CodeConflict, "run %s is not running", runID)
}
