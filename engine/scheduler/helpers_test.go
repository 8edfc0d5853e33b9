package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
)

// testParams is shared by the in-process test task types.
type testParams struct {
	Value string `yaml:"value" json:"value"`
	Fail  int    `yaml:"fail" json:"fail"`   // flaky: fail this many first tries
	Class string `yaml:"class" json:"class"` // flaky: error class of the failures
	Print string `yaml:"print" json:"print"` // written to the task log
}

// harness records what the test task types did.
type harness struct {
	reg      *tasktype.Registry
	mu       sync.Mutex
	order    []string               // task ids in the order they started
	tries    map[string][]time.Time // start time of every try
	running  int
	maxRun   int
	started  chan string // "block" tasks announce themselves here
	retrying chan string // the ids of retry events, as they happen
	barrier  *barrier
}

func newHarness() *harness {
	h := &harness{reg: tasktype.NewRegistry(), tries: map[string][]time.Time{}, started: make(chan string, 100), retrying: make(chan string, 100), barrier: newBarrier(2)}
	plan := func(context.Context, *tasktype.Env, *testParams) (tasktype.Plan, error) {
		return tasktype.Plan{Summary: "would test"}, nil
	}
	add := func(name string, run func(ctx context.Context, env *tasktype.Env, p *testParams) (tasktype.Outputs, error)) {
		tasktype.Add(h.reg, tasktype.Def[testParams]{
			Name: name, Summary: name, Plan: plan,
			Outputs: []tasktype.Output{{Name: "value", Type: "string"}},
			Run: func(ctx context.Context, env *tasktype.Env, p *testParams) (tasktype.Outputs, error) {
				h.mu.Lock()
				if len(h.tries[env.TaskID]) == 0 {
					h.order = append(h.order, env.TaskID)
				}
				h.tries[env.TaskID] = append(h.tries[env.TaskID], time.Now())
				h.running++
				h.maxRun = max(h.maxRun, h.running)
				h.mu.Unlock()
				defer func() {
					h.mu.Lock()
					h.running--
					h.mu.Unlock()
				}()
				if p.Print != "" {
					fmt.Fprintln(env.Log, p.Print)
				}
				return run(ctx, env, p)
			},
		})
	}
	ok := func(_ context.Context, _ *tasktype.Env, p *testParams) (tasktype.Outputs, error) {
		return tasktype.Outputs{"value": p.Value}, nil
	}
	add("ok", ok)
	add("fail", func(context.Context, *tasktype.Env, *testParams) (tasktype.Outputs, error) {
		return nil, errors.New("it broke")
	})
	add("flaky", func(_ context.Context, env *tasktype.Env, p *testParams) (tasktype.Outputs, error) {
		h.mu.Lock()
		n := len(h.tries[env.TaskID])
		h.mu.Unlock()
		if n <= p.Fail {
			err := fmt.Errorf("try %d failed", n)
			if p.Class != "" {
				return nil, &tasktype.ClassifiedError{Class: p.Class, Err: err}
			}
			return nil, err
		}
		return tasktype.Outputs{"value": p.Value}, nil
	})
	add("block", func(ctx context.Context, env *tasktype.Env, _ *testParams) (tasktype.Outputs, error) {
		h.started <- env.TaskID
		<-ctx.Done()
		return nil, ctx.Err()
	})
	add("meet", func(ctx context.Context, _ *tasktype.Env, p *testParams) (tasktype.Outputs, error) {
		if err := h.barrier.wait(ctx); err != nil {
			return nil, err
		}
		return tasktype.Outputs{"value": p.Value}, nil
	})
	add("panic", func(context.Context, *tasktype.Env, *testParams) (tasktype.Outputs, error) {
		panic("boom")
	})
	return h
}

// barrier releases its waiters n at a time.
type barrier struct {
	mu      sync.Mutex
	n       int
	waiting int
	release chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, release: make(chan struct{})} }

func (b *barrier) wait(ctx context.Context) error {
	b.mu.Lock()
	b.waiting++
	ch := b.release
	if b.waiting == b.n {
		close(b.release)
		b.release, b.waiting = make(chan struct{}), 0
	}
	b.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *harness) load(t *testing.T, text string) *recipe.Recipe {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Load(path, recipe.Options{Registry: h.reg})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type execResult struct {
	run    *state.Run
	events []scheduler.Event
}

// wantRun fails the test unless the run ended with status want; why says
// what that status means here.
func (res *execResult) wantRun(t *testing.T, want state.Status, why string) {
	t.Helper()
	if res.run.Status != want {
		t.Fatalf("run status %s, want %s%s", res.run.Status, want, why)
	}
}

func (res *execResult) task(t *testing.T, id string) *state.Task {
	t.Helper()
	st := res.run.Task(id)
	if st == nil {
		t.Fatalf("no state for %s", id)
	}
	return st
}

// execute runs r with jobs parallel tasks and no state on disk, unless
// opt says otherwise.
func (h *harness) execute(ctx context.Context, t *testing.T, r *recipe.Recipe, opt scheduler.Options) *execResult {
	t.Helper()
	res := &execResult{}
	var mu sync.Mutex
	opt.Sink = scheduler.SinkFunc(func(e scheduler.Event) {
		mu.Lock()
		res.events = append(res.events, e)
		mu.Unlock()
		if e.Type == scheduler.TaskRetrying {
			h.retrying <- e.Task
		}
	})
	if opt.Jobs == 0 {
		opt.Jobs = 4
	}
	if opt.Masker == nil {
		opt.Masker = secret.New()
	}
	if opt.Run.ID == "" {
		opt.Run = state.Run{ID: "test", Started: time.Now()}
	}
	opt.Scope = h.scope(t, r, opt.Run.Started)
	// A deadlock guard, not a timing assertion: a broken scheduler must fail
	// the test instead of hanging it.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := scheduler.Execute(ctx, r, opt)
	if err != nil {
		t.Fatal(err)
	}
	res.run = out.Run
	return res
}

// plan plans r: a dry run of the same walk.
func (h *harness) plan(t *testing.T, r *recipe.Recipe, opt scheduler.Options) []scheduler.PlannedTask {
	t.Helper()
	opt.DryRun = true
	if opt.Masker == nil {
		opt.Masker = secret.New()
	}
	if opt.Run.ID == "" {
		opt.Run = state.Run{ID: "test", Started: time.Now()}
	}
	opt.Scope = h.scope(t, r, opt.Run.Started)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := scheduler.Execute(ctx, r, opt)
	if err != nil {
		t.Fatal(err)
	}
	return out.Plan
}

// scope is the expression scope of a run of r started at started, with
// the recipe's vars.
func (h *harness) scope(t *testing.T, r *recipe.Recipe, started time.Time) *eval.Scope {
	t.Helper()
	scope := eval.NewScope(r.Dir, started, map[string]string{})
	for _, v := range r.Vars {
		val, err := v.Value.Eval(scope)
		if err != nil {
			t.Fatal(err)
		}
		scope.Vars[v.Name] = val
	}
	return scope
}
