package scheduler

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
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

// Options configure one walk of a recipe.
type Options struct {
	// DryRun plans instead of running: each instance's type says what it
	// would do (its Plan) instead of doing it (its Run); what is known only
	// after running reads as eval.Unknown; no state is kept and no event
	// is sent. Everything else — order, conditions, skips, for_each and
	// what a resumed run reuses — is decided as when running.
	DryRun bool
	Jobs   int          // parallel tasks; at least 1
	Only   []string     // run only these tasks and what they need; all when empty
	Sink   Sink         // receives events; may be nil
	Store  *state.Store // where state and logs go; nil keeps nothing on disk
	// Run names the run: its id, recipe, name, digest, start and resumes.
	// Its tasks and status are ignored: Execute records them in the run
	// it returns.
	Run      state.Run
	Previous *state.Run     // when resuming: succeeded tasks here are not run again
	Scope    *eval.Scope    // vars, env, run info and helpers; not changed
	Environ  []string       // environment for the tasks' processes
	Masker   *secret.Masker // masks errors and logs
	// Processes hears of the process groups tasks start; may be nil.
	Processes ProcessRecorder
	// Now is the clock of timings and events; time.Now when nil.
	Now func() time.Time

	// Settled are tasks decided elsewhere — by other `runner exec`s of the
	// run — by id: each is taken as finished with its recorded status and
	// outputs, never run, and what needs it is decided from that record
	// by the rules of a walk that ran it (see settled.go).
	Settled map[string]Settled
	// Instance, when set, runs one instance of a for_each task with the
	// item its plan recorded: the task's needs, if and list were decided
	// when it was planned, and are not decided again.
	Instance *Instance
	// DecideOnly names a for_each task whose fan-out is decided — its
	// needs' skip rules, its if, its list — and not run: the walk ends with
	// the task Running and its instances Pending, with their items.
	DecideOnly string
	// MaxItems bounds the instances of a for_each task below
	// MaxInstances (an engine's limit, as GitHub Actions' 256 jobs of a
	// matrix); MaxInstances when 0.
	MaxItems int
}

// Result is what a walk did or, in a dry run, would do.
type Result struct {
	// Run is the run as recorded: its status and every task and instance.
	// Its Finished is nil when the run could not start. Nil for a dry run.
	Run *state.Run
	// Plan is a dry run's answer: each task, or each instance of a
	// for_each task, in execution order, with what it would do.
	Plan []PlannedTask
}

// unit is one runnable instance: a task, or one item of a for_each task.
type unit struct {
	g     *group
	id    string
	index int // for_each index; -1 for a plain task
	item  any
	st    *state.Task

	reused  bool // succeeded in the run being resumed, not run again
	settled bool // decided elsewhere (Options.Settled): recorded, not reported

	// What a dry run says of the unit.
	ran     bool   // it would run: its status is known only after running
	ifNote  string // its own condition and what it gave
	params  any    // its resolved params
	summary string // what its type's Plan says it would do
	note    string // why it would run as it does, when that needs saying
}

// group is a recipe task with its instances.
type group struct {
	task      *recipe.Task
	ti        int
	st        *state.Task
	waiting   int  // needs not yet finished
	activated bool // activate has run: the task is decided or queued
	units     []*unit
	open      int  // units not yet finished
	fanned    bool // units are for_each instances, not the task itself
	done      bool // finished and published to later expressions
	decided   bool // Options.DecideOnly: its instances are decided, not run

	// What a dry run says of the task as a whole.
	ifNote  string    // its condition and what it gave
	unknown bool      // its for_each list is known only after running
	known   knowledge // what later expressions may read of it
}

type result struct {
	u       *unit
	outputs tasktype.Outputs
	err     error
	status  state.Status
	summary string // a dry run's: what the type would do
}

type execution struct {
	opt     Options
	r       *recipe.Recipe
	graph   *dag.Graph
	run     *state.Run
	scope   *eval.Scope // the run's scope: opt.Scope with the tasks finished so far
	groups  []*group
	ready   unitHeap
	results chan result
	mu      sync.Mutex // guards the state in run against the state writer
	saver   *saver
	journal *state.Journal
	records map[string]*state.Task // run.Tasks by id

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
	return &StateError{Dir: x.opt.Store.RunDir(x.run.ID), Err: x.stateErr}
}

// record returns the state record of id in the run, adding one if needed.
// The caller holds x.mu once the run has started.
func (x *execution) record(id string) *state.Task {
	if st, ok := x.records[id]; ok {
		return st
	}
	st := &state.Task{ID: id}
	x.run.Tasks = append(x.run.Tasks, st)
	x.records[id] = st
	return st
}

// Execute walks the recipe to completion or cancellation: it runs it or,
// with opt.DryRun, plans it. Both are the same walk; only the action at
// each instance differs. The error is non-nil only when state could not
// be kept; the Result is never nil.
func Execute(ctx context.Context, r *recipe.Recipe, opt Options) (*Result, error) {
	if opt.Jobs < 1 {
		opt.Jobs = 1
	}
	if opt.Sink == nil || opt.DryRun {
		opt.Sink = SinkFunc(func(Event) {})
	}
	if opt.DryRun {
		opt.Store = nil // a dry run changes nothing, not even state
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	run := opt.Run
	run.Tasks, run.Finished, run.Status = nil, nil, state.Running
	x := &execution{opt: opt, r: r, graph: r.Graph(), run: &run, results: make(chan result), records: map[string]*state.Task{}}
	scope := *opt.Scope
	scope.Tasks = make(map[string]eval.TaskView, len(r.Tasks))
	if opt.DryRun {
		scope.Known = x.known
	}
	x.scope = &scope
	selected := x.selection()
	for i, t := range r.Tasks {
		st := x.record(t.ID)
		st.Status = state.Pending
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
	if opt.Store != nil {
		if err := opt.Store.Create(&run); err != nil {
			return &Result{Run: &run}, &StateError{Dir: opt.Store.RunDir(run.ID), Err: err}
		}
		j, err := opt.Store.OpenJournal(&run)
		if err != nil {
			return &Result{Run: &run}, &StateError{Dir: opt.Store.RunDir(run.ID), Err: err}
		}
		x.journal = j
		defer j.Close()
		x.saver = newSaver(opt.Store, &run, &x.mu, x.stateFailed)
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
	if opt.DryRun {
		return &Result{Plan: x.plan()}, nil
	}

	now := x.opt.Now()
	broken := x.stateFailure()
	x.mu.Lock()
	run.Finished = &now
	run.Status = state.Succeeded
	if broken != nil {
		run.Status = state.Failed // what ran is recorded incompletely at best
	}
	for _, g := range x.groups {
		if !g.st.Status.Terminal() && !g.decided {
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
	return &Result{Run: &run}, x.stateFailure()
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
		if x.opt.DryRun && res.status == state.Succeeded {
			res.u.ran, res.u.summary = true, res.summary
		}
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
	if s, ok := x.opt.Settled[t.ID]; ok {
		x.settle(ctx, g, s)
		return
	}
	if in := x.opt.Instance; in != nil && in.Task == t.ID && t.ForEach != nil {
		x.runInstance(g, in)
		return
	}
	decides := t.If != nil && (t.If.UsesAlways || t.If.UsesFailure)
	for _, n := range t.Needs {
		if decides {
			break // `if: always()` or `if: failure()`: the condition decides, whatever happened upstream
		}
		ng := x.groups[x.graph.Index(n)]
		switch {
		case ng.st.Status == state.Cancelled,
			ng.st.Status == state.Failed && !ng.task.ContinueOnError,
			ng.st.Status == state.Skipped:
			status := state.Skipped
			if ng.st.Status == state.Cancelled {
				status = state.Cancelled
			}
			x.endGroup(g, status, x.upstream(n, ng.st.Status))
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
	scope := x.scopeOf(nil, -1)
	x.statusFuncs(scope, g)
	if t.If != nil && !t.If.UsesItem {
		ok, err := x.condition(t.If, scope, &g.ifNote)
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
	if isUnknown(v) {
		x.fanOutUnknown(g)
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
	if x.opt.MaxItems > 0 && len(items) > x.opt.MaxItems {
		x.endGroupErr(g, fmt.Errorf("for_each gave %d items: this run may fan a task out to at most %d instances (--max-items; GitHub Actions runs at most 256 jobs of a matrix): split the list over two tasks, or export to Argo Workflows", len(items), x.opt.MaxItems))
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
		// The record of this index in the run being resumed may be of
		// another item: instances are matched by item, below.
		st := x.record(id)
		*st = state.Task{ID: id, Status: state.Pending, Item: item}
		g.units = append(g.units, &unit{g: g, id: id, index: i, item: item, st: st})
	}
	g.open, g.fanned = len(items), true
	x.mu.Unlock()
	if t.ID == x.opt.DecideOnly {
		g.decided = true
		return
	}
	done := x.previousItems(t.ID)
	for _, u := range g.units {
		if prev := done.take(u.item); prev != nil {
			x.mu.Lock()
			u.st.Outputs, u.st.Attempts, u.st.Log = prev.Outputs, prev.Attempts, prev.Log
			x.mu.Unlock()
			u.reused = true
			x.finishUnit(ctx, u, nil, state.Succeeded, nil, x.reusedReason())
			continue
		}
		heap.Push(&x.ready, u)
	}
}

// upstream says why a task does not run: need n ended with status.
func (x *execution) upstream(n string, status state.Status) string {
	which := map[state.Status]string{state.Cancelled: "was cancelled", state.Failed: "failed", state.Skipped: "was skipped"}
	if x.opt.DryRun {
		which = map[state.Status]string{state.Cancelled: "would be cancelled", state.Failed: "would fail", state.Skipped: "would be skipped"}
	}
	return fmt.Sprintf("needs %s, which %s", n, which[status])
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
	u := &unit{g: g, id: g.task.ID, index: -1, st: g.st, reused: true}
	g.units, g.open = []*unit{u}, 1
	x.finishUnit(context.Background(), u, nil, state.Succeeded, nil, x.reusedReason())
}

// reusedReason says why a task or instance is not run again.
func (x *execution) reusedReason() string {
	if x.opt.DryRun {
		return "succeeded in run " + x.opt.Previous.ID
	}
	return "reused from run " + x.opt.Previous.ID
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

// scopeOf returns the expression scope for an instance.
func (x *execution) scopeOf(item any, index int) *eval.Scope {
	s := *x.scope
	s.Item, s.Index = item, index
	return &s
}

// statusFuncs sets success() and failure() in scope for g's condition,
// for_each and params (a message under always() may word its status with
// failure()).
// Both look at every task g needs, directly or through others, as GitHub
// Actions' failure() does along a chain of jobs: a notification after an
// upload hears of the dump that failed before it (the upload was skipped).
// A failure under continue_on_error counts as a success. In a dry run,
// the tasks that would run count as succeeded (a type's Plan checks what
// would make it fail; those that would fail are failed already).
func (x *execution) statusFuncs(scope *eval.Scope, g *group) {
	scope.Failure = func() bool {
		for _, a := range x.ancestors(g) {
			if a.st.Status == state.Failed && !a.task.ContinueOnError {
				return true
			}
		}
		return false
	}
	scope.Success = func() bool {
		for _, a := range x.ancestors(g) {
			ok := a.st.Status == state.Succeeded || a.st.Status == state.Failed && a.task.ContinueOnError
			if !ok {
				return false
			}
		}
		return true
	}
}

// ancestors returns the groups g needs, directly or through others.
func (x *execution) ancestors(g *group) []*group {
	seen := map[int]bool{}
	var out []*group
	stack := append([]string(nil), g.task.Needs...)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		i := x.graph.Index(id)
		if i < 0 || seen[i] {
			continue
		}
		seen[i] = true
		a := x.groups[i]
		out = append(out, a)
		stack = append(stack, a.task.Needs...)
	}
	return out
}

// maskSecretParams registers with the run's masker the values of the
// params typ marks secret, as soon as they are known: before a plan shows
// params its type's Plan never saw, or an error quotes them.
func (x *execution) maskSecretParams(typ *tasktype.Type, with any) {
	m, ok := with.(map[string]any)
	if !ok || typ == nil || typ.Params == nil || x.opt.Masker == nil {
		return
	}
	for _, f := range typ.Params.Fields {
		if s, ok := m[f.Name].(string); ok && f.Secret {
			x.opt.Masker.Add(s)
		}
	}
}

type prepared struct {
	typ    *tasktype.Type
	params any
}

// prepare evaluates an instance's condition and params in the scheduler's
// goroutine (the only one that touches the scope). It returns false when the
// unit has already been finished (skipped or failed, or in a dry run,
// known to run with params known only after running).
func (x *execution) prepare(ctx context.Context, u *unit) (prepared, bool) {
	t := u.g.task
	scope := x.scopeOf(u.item, u.index)
	x.statusFuncs(scope, u.g)
	if t.If != nil && t.If.UsesItem {
		ok, err := x.condition(t.If, scope, &u.ifNote)
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
		x.maskSecretParams(t.Type, with)
	}
	// A record that succeeded in the run being resumed and was not reused
	// (its outputs held a secret) must not lend them to the next tasks.
	x.mu.Lock()
	u.st.Outputs, u.st.Masked = nil, false
	x.mu.Unlock()
	if x.opt.DryRun {
		u.params = with
		if eval.HasUnknown(with) {
			u.ran, u.summary = true, "details known after run (params depend on outputs of earlier tasks)"
			x.finishUnit(ctx, u, nil, state.Succeeded, nil, "")
			return prepared{}, false
		}
	}
	p, err := t.Type.Decode(with, t.Dir)
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

// work carries out one instance in its own goroutine: it runs it, with
// its retries, or in a dry run asks its type what it would do.
func (x *execution) work(ctx context.Context, u *unit, p prepared) {
	if x.opt.DryRun {
		x.results <- x.planUnit(ctx, u, p)
		return
	}
	x.results <- x.runUnit(ctx, u, p)
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
	if status != state.Succeeded {
		u.st.Outputs, u.st.Masked = nil, false // not those of the run being resumed
	}
	if out != nil {
		u.st.Outputs = out
	}
	if err != nil {
		u.st.Error = x.mask(err.Error())
	}
	x.mu.Unlock()
	x.journalize(u.st)
	if !u.settled {
		x.emit(Event{Type: TaskFinished, Task: u.id, Status: status, Attempt: u.st.Attempts, Duration: now.Sub(*u.st.Started), Error: u.st.Error, Reason: reason})
	}
	g := u.g
	g.open--
	if g.open > 0 {
		x.changed()
		return
	}
	if u.st != g.st {
		x.aggregate(g)
		x.journalize(g.st)
		if !u.settled {
			x.emit(Event{Type: TaskFinished, Task: g.task.ID, Status: g.st.Status, Duration: g.st.Duration(), Error: g.st.Error, Reason: g.st.Reason})
		}
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
	g.done = true
	if x.opt.DryRun {
		g.known = g.learn()
	}
	x.mu.Lock()
	x.scope.Tasks[g.task.ID] = eval.TaskView{Outputs: g.st.Outputs, Status: string(g.st.Status)}
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
