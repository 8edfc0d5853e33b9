package scheduler

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/novelfactory/runner/engine/dag"
	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/quote"
)

// Options configure one execution.
type Options struct {
	Jobs     int            // parallel tasks; at least 1
	Only     []string       // run only these tasks and what they need; all when empty
	Sink     Sink           // receives events; may be nil
	Store    *state.Store   // where state and logs go; nil keeps nothing on disk
	Run      *state.Run     // the run being recorded (filled in by Execute)
	Previous *state.Run     // when resuming: succeeded tasks here are not run again
	Scope    *eval.Scope    // vars, env, run info and helpers; tasks are filled in
	Environ  []string       // environment for the tasks' processes
	Masker   *secret.Masker // masks errors and logs
	// Processes hears of the process groups tasks start; may be nil.
	Processes ProcessRecorder
	// Now is the clock of timings and events; time.Now when nil.
	Now func() time.Time
}

// ProcessRecorder keeps track of the process groups tasks run (see
// state.Lock).
type ProcessRecorder interface {
	Started(task string, pgid int, command string) (ended func())
	Running(pid int) bool
}

// taskProcesses is a task's view of the ProcessRecorder.
type taskProcesses struct {
	r    ProcessRecorder
	task string
}

func (p taskProcesses) Started(pgid int, command string) func() {
	return p.r.Started(p.task, pgid, command)
}

func (p taskProcesses) Running(pid int) bool { return p.r.Running(pid) }

// unit is one runnable instance: a task, or one item of a for_each task.
type unit struct {
	g     *group
	id    string
	index int // for_each index; -1 for a plain task
	item  any
	st    *state.Task
}

// group is a recipe task with its instances.
type group struct {
	task      *recipe.Task
	ti        int
	st        *state.Task
	waiting   int  // needs not yet finished
	activated bool // activate has run: the task is decided or queued
	units     []*unit
	open      int // units not yet finished
}

type result struct {
	u       *unit
	outputs tasktype.Outputs
	err     error
	status  state.Status
}

type execution struct {
	opt     Options
	r       *recipe.Recipe
	graph   *dag.Graph
	groups  []*group
	ready   unitHeap
	results chan result
	mu      sync.Mutex // guards the state in opt.Run against the state writer
	saver   *saver
	journal *state.Journal
	records map[string]*state.Task // opt.Run.Tasks by id

	stateMu  sync.Mutex
	stateErr error // the first failure to write state, a journal entry or a log
}

// StateError says the run's state could not be kept — state.json, the
// journal or a task's log could not be written, most often because the
// disk is full. It is runner's failure, not the tasks'.
type StateError struct {
	Dir string // the run's folder
	Err error
}

func (e *StateError) Error() string {
	fix := "Make the folder writable"
	if errors.Is(e.Err, syscall.ENOSPC) || errors.Is(e.Err, syscall.EDQUOT) {
		fix = "Free space there"
	}
	return fmt.Sprintf("the run's state could not be written to %s: %v. The tasks' own results are above; no task was started after this. "+
		"%s, then continue with --resume", e.Dir, e.Err, fix)
}

func (e *StateError) Unwrap() error { return e.Err }

// stateFailed records a failure to write state; the first one is kept.
func (x *execution) stateFailed(err error) {
	x.stateMu.Lock()
	if x.stateErr == nil {
		x.stateErr = err
	}
	x.stateMu.Unlock()
}

func (x *execution) stateFailure() error {
	x.stateMu.Lock()
	defer x.stateMu.Unlock()
	if x.stateErr == nil {
		return nil
	}
	return &StateError{Dir: x.opt.Store.RunDir(x.opt.Run.ID), Err: x.stateErr}
}

// record returns the state record of id in the run, adding one if needed.
// The caller holds x.mu once the run has started.
func (x *execution) record(id string) *state.Task {
	if st, ok := x.records[id]; ok {
		return st
	}
	st := &state.Task{ID: id}
	x.opt.Run.Tasks = append(x.opt.Run.Tasks, st)
	x.records[id] = st
	return st
}

// Execute runs the recipe to completion or cancellation. The outcome is in
// opt.Run; the error is non-nil only when state could not be kept.
func Execute(ctx context.Context, r *recipe.Recipe, opt Options) error {
	if opt.Jobs < 1 {
		opt.Jobs = 1
	}
	if opt.Sink == nil {
		opt.Sink = SinkFunc(func(Event) {})
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	x := &execution{opt: opt, r: r, graph: r.Graph(), results: make(chan result), records: map[string]*state.Task{}}
	selected := x.selection()
	run := opt.Run
	for _, st := range run.Tasks {
		x.records[st.ID] = st
	}
	for i, t := range r.Tasks {
		st := x.record(t.ID)
		st.Status, st.Error, st.Reason = state.Pending, "", ""
		g := &group{task: t, ti: i, st: st, waiting: len(t.Needs)}
		if !selected[i] {
			g.st.Status, g.st.Reason = state.Skipped, "not selected by --only"
			g.activated = true
		}
		x.groups = append(x.groups, g)
	}
	if opt.Previous != nil {
		// Until they are reused, the records of what already succeeded stay
		// on disk as they were: a kill now must not make them run again.
		for _, prev := range opt.Previous.Tasks {
			if prev.Status == state.Succeeded {
				copied := *prev
				*x.record(prev.ID) = copied
			}
		}
	}
	run.Status = state.Running
	if opt.Store != nil {
		if err := opt.Store.Create(run); err != nil {
			return &StateError{Dir: opt.Store.RunDir(run.ID), Err: err}
		}
		j, err := opt.Store.OpenJournal(run)
		if err != nil {
			return &StateError{Dir: opt.Store.RunDir(run.ID), Err: err}
		}
		x.journal = j
		defer j.Close()
		x.saver = newSaver(opt.Store, run, &x.mu, x.stateFailed)
		defer x.saver.stop()
	}
	x.emit(Event{Type: RunStarted, Run: run.ID})
	for _, g := range x.groups {
		if g.st.Status == state.Skipped {
			x.finishGroup(g)
		}
	}
	for _, g := range x.groups {
		if g.waiting == 0 {
			x.activate(ctx, g)
		}
	}
	x.loop(ctx)

	now := x.opt.Now()
	broken := x.stateFailure()
	x.mu.Lock()
	run.Finished = &now
	run.Status = state.Succeeded
	if broken != nil {
		run.Status = state.Failed // what ran is recorded incompletely at best
	}
	for _, g := range x.groups {
		if !g.st.Status.Terminal() {
			g.st.Status, g.st.Reason = state.Cancelled, "the run was interrupted"
		}
		switch {
		case g.st.Status == state.Cancelled:
			run.Status = state.Cancelled
		case g.st.Status == state.Failed && !g.task.ContinueOnError && run.Status != state.Cancelled:
			run.Status = state.Failed
		}
	}
	x.mu.Unlock()
	x.emit(Event{Type: RunFinished, Run: run.ID, Status: run.Status, Duration: now.Sub(run.Started)})
	if x.saver != nil {
		x.saver.stop()
	}
	return x.stateFailure()
}

// selection marks the tasks --only asks for, with everything they need.
func (x *execution) selection() []bool {
	sel := make([]bool, len(x.r.Tasks))
	if len(x.opt.Only) == 0 {
		for i := range sel {
			sel[i] = true
		}
		return sel
	}
	for _, id := range x.opt.Only {
		i := x.graph.Index(id)
		if i < 0 {
			continue // rejected by the CLI before running
		}
		sel[i] = true
		for a := range x.graph.Ancestors(i) {
			sel[a] = true
		}
	}
	return sel
}

func (x *execution) loop(ctx context.Context) {
	running := 0
	for {
		for running < x.opt.Jobs && x.ready.Len() > 0 {
			u := heap.Pop(&x.ready).(*unit)
			if ctx.Err() != nil {
				x.finishUnit(ctx, u, nil, state.Cancelled, nil, "the run was interrupted")
				continue
			}
			if x.stateFailure() != nil {
				// What runs now could not be recorded: stop starting tasks.
				x.finishUnit(ctx, u, nil, state.Cancelled, nil, "not started: the run's state could not be written")
				continue
			}
			prepared, ok := x.prepare(ctx, u)
			if !ok {
				continue
			}
			running++
			go x.work(ctx, u, prepared)
		}
		if running == 0 {
			return
		}
		res := <-x.results
		running--
		x.finishUnit(ctx, res.u, res.outputs, res.status, res.err, "")
	}
}

// activate is called when all of a group's needs have finished: it decides
// whether the task runs, and queues its instances.
func (x *execution) activate(ctx context.Context, g *group) {
	if g.activated {
		return
	}
	g.activated = true
	t := g.task
	always := t.If != nil && t.If.UsesAlways
	for _, n := range t.Needs {
		if always {
			break // `if: always()`: the condition decides, whatever happened upstream
		}
		ng := x.groups[x.graph.Index(n)]
		switch {
		case ng.st.Status == state.Cancelled:
			x.endGroup(g, state.Cancelled, fmt.Sprintf("needs %s, which was cancelled", n))
			return
		case ng.st.Status == state.Failed && !ng.task.ContinueOnError:
			x.endGroup(g, state.Skipped, fmt.Sprintf("needs %s, which failed", n))
			return
		case ng.st.Status == state.Skipped:
			x.endGroup(g, state.Skipped, fmt.Sprintf("needs %s, which was skipped", n))
			return
		}
	}
	if ctx.Err() != nil {
		x.endGroup(g, state.Cancelled, "the run was interrupted")
		return
	}
	if prev := x.previous(t.ID); prev != nil && t.ForEach == nil {
		x.reuse(g, prev)
		return
	}
	scope := x.scope(nil, -1)
	if t.If != nil && !t.If.UsesItem {
		ok, err := t.If.Bool(scope)
		if err != nil {
			x.endGroupErr(g, fmt.Errorf("if: %w", err))
			return
		}
		if !ok {
			x.endGroup(g, state.Skipped, "if: "+t.If.Source+" is false")
			return
		}
	}
	if t.ForEach == nil {
		u := &unit{g: g, id: t.ID, index: -1, st: g.st}
		g.units, g.open = []*unit{u}, 1
		heap.Push(&x.ready, u)
		return
	}
	v, err := t.ForEach.Eval(scope)
	if err != nil {
		x.endGroupErr(g, fmt.Errorf("for_each: %w", err))
		return
	}
	items, ok := asList(v)
	if !ok {
		x.endGroupErr(g, fmt.Errorf("for_each gave %s, not a list", quote.Cut(eval.Text(v))))
		return
	}
	if len(items) > MaxInstances {
		x.endGroupErr(g, tooMany(len(items)))
		return
	}
	if len(items) == 0 {
		x.mu.Lock()
		g.st.Outputs = []any{}
		x.mu.Unlock()
		x.endGroup(g, state.Succeeded, "for_each gave an empty list")
		return
	}
	x.mu.Lock()
	g.st.Status = state.Running
	for i, item := range items {
		id := fmt.Sprintf("%s[%d]", t.ID, i)
		st := x.record(id)
		st.Status, st.Item, st.Error, st.Reason = state.Pending, item, "", ""
		g.units = append(g.units, &unit{g: g, id: id, index: i, item: item, st: st})
	}
	g.open = len(items)
	x.mu.Unlock()
	done := x.previousItems(t.ID)
	for _, u := range g.units {
		if prev := done.take(u.item); prev != nil {
			x.mu.Lock()
			u.st.Outputs, u.st.Attempts, u.st.Log = prev.Outputs, prev.Attempts, prev.Log
			x.mu.Unlock()
			x.finishUnit(ctx, u, nil, state.Succeeded, nil, "reused from run "+x.opt.Previous.ID)
			continue
		}
		heap.Push(&x.ready, u)
	}
}

// previous returns the succeeded state of id in the run being resumed,
// unless what it recorded held a secret: a masked output is not the one
// later tasks need, so such a task runs again.
func (x *execution) previous(id string) *state.Task {
	if x.opt.Previous == nil {
		return nil
	}
	if st := x.opt.Previous.Task(id); st != nil && st.Status == state.Succeeded && !st.Masked {
		return st
	}
	return nil
}

func (x *execution) reuse(g *group, prev *state.Task) {
	x.mu.Lock()
	g.st.Outputs, g.st.Attempts, g.st.Started, g.st.Finished, g.st.Log = prev.Outputs, prev.Attempts, prev.Started, prev.Finished, prev.Log
	x.mu.Unlock()
	x.endGroup(g, state.Succeeded, "reused from run "+x.opt.Previous.ID)
}

// itemRecords are the succeeded instances of a for_each task in the run
// being resumed, by their item's text: a list that was reordered, grown or
// shrunk since is matched by value, never by index.
type itemRecords map[string][]*state.Task

func (x *execution) previousItems(id string) itemRecords {
	done := itemRecords{}
	if x.opt.Previous == nil {
		return done
	}
	prefix := id + "["
	for _, st := range x.opt.Previous.Tasks {
		if st.Status == state.Succeeded && !st.Masked && strings.HasPrefix(st.ID, prefix) && strings.HasSuffix(st.ID, "]") {
			key := eval.Text(st.Item)
			done[key] = append(done[key], st)
		}
	}
	return done
}

// take returns a succeeded record of item, once per record: a list with
// the same item twice reuses two records, not one twice.
func (r itemRecords) take(item any) *state.Task {
	key := eval.Text(item)
	list := r[key]
	if len(list) == 0 {
		return nil
	}
	r[key] = list[1:]
	return list[0]
}

func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case map[string]any:
		return nil, false
	case nil:
		return nil, true
	}
	// Any other slice: []string from glob(), []int from a range (1..3).
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// MaxInstances is how many instances one for_each may make. GitHub Actions
// allows 256 jobs a matrix; a recipe's lists (projects, episodes, days)
// are longer, but a million instances is a mistake, and each instance
// costs a line of state.
const MaxInstances = 10000

// tooMany is the error of a for_each over more than MaxInstances items.
func tooMany(n int) error {
	return fmt.Errorf("for_each gave %d items: a task may have at most %d instances (split the list, or loop inside one task)", n, MaxInstances)
}

// scope returns the expression scope for an instance.
func (x *execution) scope(item any, index int) *eval.Scope {
	s := *x.opt.Scope
	s.Item, s.Index = item, index
	return &s
}

type prepared struct {
	typ    *tasktype.Type
	params any
}

// prepare evaluates an instance's condition and params in the scheduler's
// goroutine (the only one that touches the scope). It returns false when the
// unit has already been finished (skipped or failed).
func (x *execution) prepare(ctx context.Context, u *unit) (prepared, bool) {
	t := u.g.task
	scope := x.scope(u.item, u.index)
	if t.If != nil && t.If.UsesItem {
		ok, err := t.If.Bool(scope)
		if err != nil {
			x.finishUnit(ctx, u, nil, state.Failed, fmt.Errorf("if: %w", err), "")
			return prepared{}, false
		}
		if !ok {
			x.finishUnit(ctx, u, nil, state.Skipped, nil, "if: "+t.If.Source+" is false")
			return prepared{}, false
		}
	}
	var with any
	if t.With != nil {
		v, err := t.With.Eval(scope)
		if err != nil {
			x.finishUnit(ctx, u, nil, state.Failed, fmt.Errorf("with: %w", err), "")
			return prepared{}, false
		}
		with = v
	}
	p, err := t.Type.Decode(with)
	if err != nil {
		x.finishUnit(ctx, u, nil, state.Failed, err, "")
		return prepared{}, false
	}
	now := x.opt.Now()
	x.mu.Lock()
	u.st.Status, u.st.Started, u.st.Finished, u.st.Attempts = state.Running, &now, nil, 0
	if u.g.st != u.st && u.g.st.Started == nil {
		u.g.st.Started = &now
	}
	x.mu.Unlock()
	x.changed()
	x.emit(Event{Type: TaskStarted, Task: u.id, Attempts: t.Retry.Attempts})
	return prepared{typ: t.Type, params: p}, true
}

// work runs one instance with its retries, in its own goroutine.
func (x *execution) work(ctx context.Context, u *unit, p prepared) {
	t := u.g.task
	logs := x.newTaskLog(u)
	env := &tasktype.Env{
		RunID:    x.opt.Run.ID,
		Recipe:   x.r.Name,
		TaskID:   u.id,
		Dir:      t.Dir,
		Environ:  append(append([]string{}, x.opt.Environ...), "RUNNER_TASK_ID="+u.id),
		Log:      logs,
		Logger:   logs.logger,
		Progress: &progress{x: x, task: u.id},
		Secrets:  x.opt.Masker,
	}
	if x.opt.Processes != nil {
		env.Processes = taskProcesses{x.opt.Processes, u.id}
	}
	var (
		out tasktype.Outputs
		err error
	)
	for attempt := 1; ; attempt++ {
		x.mu.Lock()
		u.st.Attempts = attempt
		x.mu.Unlock()
		out, err = x.attempt(ctx, t, env, p)
		if err == nil || ctx.Err() != nil {
			break
		}
		if attempt >= t.Retry.Attempts || !retryable(t.Retry.On, err) {
			break
		}
		wait := Backoff(t.Retry, attempt)
		x.emit(Event{Type: TaskRetrying, Task: u.id, Attempt: attempt, Attempts: t.Retry.Attempts, Wait: wait, Error: x.mask(err.Error())})
		logs.sink.note(fmt.Sprintf("runner: attempt %d of %d failed: %v; retrying in %s", attempt, t.Retry.Attempts, err, wait.Round(time.Millisecond)))
		x.changed()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	logs.Close()
	res := result{u: u, outputs: out, err: err, status: state.Succeeded}
	switch {
	case ctx.Err() != nil && err != nil:
		res.status = state.Cancelled
	case err != nil:
		res.status = state.Failed
	}
	x.results <- res
}

// attempt runs the task once, under its timeout.
func (x *execution) attempt(ctx context.Context, t *recipe.Task, env *tasktype.Env, p prepared) (out tasktype.Outputs, err error) {
	actx := ctx
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("task type %s panicked: %v", t.Uses, r)
		}
	}()
	out, err = p.typ.Run(actx, env, p.params)
	// A command's own exit status stands, even when the time ran out while
	// runner read what the command left behind.
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) && tasktype.Classify(err) != tasktype.ClassExit {
		err = &tasktype.ClassifiedError{Class: tasktype.ClassTimeout, Err: fmt.Errorf("timed out after %s: %w", t.Timeout, err)}
	}
	return out, err
}

func retryable(on []string, err error) bool {
	if len(on) == 0 {
		return true
	}
	class := tasktype.Classify(err)
	for _, c := range on {
		if c == class {
			return true
		}
	}
	return false
}

// DefaultMaxDelay caps the wait between tries when a retry sets no
// max_delay (or a delay longer than this: then the delay is the cap).
const DefaultMaxDelay = time.Hour

// Backoff is the wait after failed try number attempt (1-based): delay ×
// backoff^(attempt-1), plus up to 25% random jitter so that many runs
// retrying the same service spread out, capped at max_delay (by default
// DefaultMaxDelay, or the delay if that is longer). The cap holds after the
// jitter, and however many tries: a wait never overflows into a negative
// one, which would retry at once.
func Backoff(r recipe.Retry, attempt int) time.Duration {
	if r.Delay <= 0 {
		return 0 // no delay grows to none, whatever the factor (0 × ∞ is NaN)
	}
	limit := r.MaxDelay
	if limit <= 0 {
		limit = max(DefaultMaxDelay, r.Delay)
	}
	d := float64(r.Delay) * math.Pow(r.Backoff, float64(attempt-1))
	if math.IsNaN(d) || d >= float64(limit) {
		return limit
	}
	d += d * 0.25 * rand.Float64()
	if d >= float64(limit) {
		return limit
	}
	return time.Duration(d)
}

// finishUnit records the end of an instance and, when it was the last one
// of its task, the end of the task.
func (x *execution) finishUnit(ctx context.Context, u *unit, out tasktype.Outputs, status state.Status, err error, reason string) {
	now := x.opt.Now()
	x.mu.Lock()
	u.st.Status, u.st.Finished, u.st.Reason = status, &now, reason
	if u.st.Started == nil {
		u.st.Started = &now
	}
	if out != nil {
		u.st.Outputs = out
	}
	if err != nil {
		u.st.Error = x.mask(err.Error())
	}
	x.mu.Unlock()
	x.journalize(u.st)
	x.emit(Event{Type: TaskFinished, Task: u.id, Status: status, Attempt: u.st.Attempts, Duration: now.Sub(*u.st.Started), Error: u.st.Error, Reason: reason})
	g := u.g
	g.open--
	if g.open > 0 {
		x.changed()
		return
	}
	if u.st != g.st {
		x.aggregate(g)
		x.journalize(g.st)
		x.emit(Event{Type: TaskFinished, Task: g.task.ID, Status: g.st.Status, Duration: g.st.Duration(), Error: g.st.Error, Reason: g.st.Reason})
	}
	x.finishGroup(g)
	for _, d := range x.graph.Dependents(g.ti) {
		dg := x.groups[d]
		dg.waiting--
		if dg.waiting == 0 {
			x.activate(ctx, dg)
		}
	}
}

// journalize appends a finished record to the journal before anything that
// depends on it can start.
func (x *execution) journalize(st *state.Task) {
	if x.journal == nil {
		return
	}
	x.mu.Lock()
	copied := *st
	x.mu.Unlock()
	if err := x.journal.Append(&copied); err != nil {
		x.stateFailed(err)
	}
}

// aggregate sets a for_each task's status and outputs from its instances.
func (x *execution) aggregate(g *group) {
	x.mu.Lock()
	defer x.mu.Unlock()
	outs := make([]any, len(g.units))
	var failed, cancelled, skipped int
	for i, u := range g.units {
		outs[i] = u.st.Outputs
		switch u.st.Status {
		case state.Failed:
			failed++
		case state.Cancelled:
			cancelled++
		case state.Skipped:
			skipped++
		}
	}
	now := x.opt.Now()
	g.st.Outputs, g.st.Finished = outs, &now
	switch {
	case cancelled > 0:
		g.st.Status = state.Cancelled
	case failed > 0:
		g.st.Status, g.st.Error = state.Failed, fmt.Sprintf("%d of %d instances failed", failed, len(g.units))
	case skipped == len(g.units):
		g.st.Status, g.st.Reason = state.Skipped, "every instance was skipped"
	default:
		g.st.Status = state.Succeeded
	}
}

// endGroup finishes a task that will not run, and what waits for it.
func (x *execution) endGroup(g *group, status state.Status, reason string) {
	u := &unit{g: g, id: g.task.ID, index: -1, st: g.st}
	g.units, g.open = []*unit{u}, 1
	x.finishUnit(context.Background(), u, nil, status, nil, reason)
}

func (x *execution) endGroupErr(g *group, err error) {
	u := &unit{g: g, id: g.task.ID, index: -1, st: g.st}
	g.units, g.open = []*unit{u}, 1
	x.finishUnit(context.Background(), u, nil, state.Failed, err, "")
}

// finishGroup publishes a finished task to later expressions.
func (x *execution) finishGroup(g *group) {
	x.mu.Lock()
	x.opt.Scope.Tasks[g.task.ID] = eval.TaskView{Outputs: g.st.Outputs, Status: string(g.st.Status)}
	x.mu.Unlock()
	x.changed()
}

func (x *execution) changed() {
	if x.saver != nil {
		x.saver.poke()
	}
}

func (x *execution) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = x.opt.Now()
	}
	x.opt.Sink.Event(e)
}

func (x *execution) mask(s string) string { return x.opt.Masker.String(s) }

// unitHeap orders ready instances by their task's place in the file, then index.
type unitHeap []*unit

func (h unitHeap) Len() int { return len(h) }
func (h unitHeap) Less(i, j int) bool {
	if h[i].g.ti != h[j].g.ti {
		return h[i].g.ti < h[j].g.ti
	}
	return h[i].index < h[j].index
}
func (h unitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *unitHeap) Push(v any)   { *h = append(*h, v.(*unit)) }
func (h *unitHeap) Pop() any {
	old := *h
	u := old[len(old)-1]
	*h = old[:len(old)-1]
	return u
}
