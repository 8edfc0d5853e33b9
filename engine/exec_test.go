package engine_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/state"
)

// distributed runs steps of one run as separate execs, each in a fresh
// folder holding only the recipe, sharing a file:// store.
type distributed struct {
	t      *testing.T
	recipe string
	store  string
	run    string
	now    time.Time
	sets   []string
}

func newDistributed(t *testing.T, recipe string) *distributed {
	return &distributed{t: t, recipe: recipe, store: "file://" + t.TempDir(), run: "run-1",
		now: time.Date(2026, 11, 29, 23, 59, 59, 0, time.UTC)}
}

type step struct {
	res    engine.ExecResult
	err    error
	stdout string
	log    string
	dir    string
}

// exec runs one step in a new folder; mode sets Init, Task, Plan, Item.
func (d *distributed) exec(mode func(*engine.ExecOptions)) step {
	d.t.Helper()
	dir := d.t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	if err := os.WriteFile(path, []byte(d.recipe), 0o644); err != nil {
		d.t.Fatal(err)
	}
	var out, log bytes.Buffer
	opt := engine.ExecOptions{Recipe: path, RunID: d.run, State: d.store, Item: -1, Dir: dir, Sets: d.sets,
		Stdout: &out, Log: func(m string) { log.WriteString(m + "\n") }, Environ: os.Environ(),
		Now: func() time.Time { return d.now }}
	mode(&opt)
	res, err := engine.Exec(context.Background(), opt)
	return step{res: res, err: err, stdout: out.String(), log: log.String(), dir: dir}
}

func initRun(o *engine.ExecOptions) { o.Init = true }
func task(id string) func(*engine.ExecOptions) {
	return func(o *engine.ExecOptions) { o.Task = id }
}

func (d *distributed) mustInit() {
	d.t.Helper()
	if s := d.exec(initRun); s.err != nil {
		d.t.Fatal(s.err)
	}
}

func stdoutOf(s step) any {
	m, _ := s.res.Record.Outputs.(map[string]any)
	return m["stdout"]
}

const chain = `version: 1
vars:
  stamp: ${{ strftime(now(), "%Y%m%d") }}
tasks:
  make:
    uses: shell
    with: {shell: sh, run: 'mkdir -p build && printf "hello from make" > build/a.txt && echo "$PWD/build/a.txt"'}
  read:
    uses: shell
    needs: [make]
    with: {shell: sh, run: 'cat ${{ tasks.make.outputs.stdout }}'}
  report:
    uses: shell
    needs: [read]
    with: {run: 'echo ${{ tasks.read.outputs.stdout }} ${{ vars.stamp }}'}
`

func TestAChainRunAsSeparateExecsGivesWhatApplyGives(t *testing.T) {
	d := newDistributed(t, chain)
	d.mustInit()
	d.now = d.now.Add(time.Hour) // the next day: every step still dates by the run's start
	made := d.exec(task("make"))
	if made.err != nil {
		t.Fatal(made.err)
	}
	if len(made.res.Record.Files) != 1 || made.res.Record.Files[0].Path != "build/a.txt" || stdoutOf(made) != "build/a.txt" {
		t.Fatalf("make's record: %+v", made.res.Record)
	}
	read := d.exec(task("read"))
	report := d.exec(task("report"))
	if read.err != nil || report.err != nil {
		t.Fatal(read.err, report.err)
	}
	if data, err := os.ReadFile(filepath.Join(read.dir, "build", "a.txt")); err != nil || string(data) != "hello from make" {
		t.Fatalf("the file did not travel to read's folder: %q %v", data, err)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	os.WriteFile(path, []byte(chain), 0o644)
	res, err := engine.Apply(context.Background(), engine.Options{Recipe: path, Environ: os.Environ(),
		Now: func() time.Time { return time.Date(2026, 11, 29, 23, 59, 59, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		id  string
		got any
	}{{"read", stdoutOf(read)}, {"report", stdoutOf(report)}} {
		if want := res.Run.Task(s.id).Outputs.(map[string]any)["stdout"]; s.got != want {
			t.Errorf("%s: exec gave %q, apply %q", s.id, s.got, want)
		}
	}
	if stdoutOf(report) != "hello from make 20261129" {
		t.Errorf("report: %q", stdoutOf(report))
	}
}

const failures = `version: 1
tasks:
  bad:
    uses: shell
    with: {run: 'exit 3'}
  mid:
    uses: shell
    needs: [bad]
    with: {run: 'echo mid'}
  cleanup:
    uses: shell
    needs: [mid]
    if: always()
    with: {run: 'echo cleanup'}
  alarm:
    uses: shell
    needs: [mid]
    if: failure()
    with: {run: 'echo alarm'}
  calm:
    uses: shell
    needs: [mid]
    if: success()
    with: {run: 'echo calm'}
  soft:
    uses: shell
    continue_on_error: true
    with: {run: 'exit 1'}
  after-soft:
    uses: shell
    needs: [soft]
    with: {run: 'echo after'}
  never:
    uses: shell
    with: {run: 'echo never'}
  after-never:
    uses: shell
    needs: [never]
    with: {run: 'echo after never'}
`

func TestUpstreamOutcomesDecideAsInApply(t *testing.T) {
	d := newDistributed(t, failures)
	d.mustInit()
	want := []struct {
		task   string
		status state.Status
		failed bool // the step exits non-zero
	}{
		{"bad", state.Failed, true},
		{"mid", state.Skipped, false},       // its need failed
		{"cleanup", state.Succeeded, false}, // always()
		{"alarm", state.Succeeded, false},   // failure() sees bad, two levels up
		{"calm", state.Skipped, false},      // success() does not hold
		{"soft", state.Failed, false},       // continue_on_error: a success downstream
		{"after-soft", state.Succeeded, false},
		{"after-never", state.Skipped, false}, // never ran: no record
	}
	for _, w := range want {
		s := d.exec(task(w.task))
		if s.res.Status != w.status || (s.err != nil) != w.failed {
			t.Errorf("%s: %s, %v; want %s, failed %t", w.task, s.res.Status, s.err, w.status, w.failed)
		}
		var ee *engine.ExecError
		if w.failed && (!errors.As(s.err, &ee) || ee.ExitCode() != engine.ExitFailed) {
			t.Errorf("%s: %v, want an ExecError with exit 1", w.task, s.err)
		}
	}
}

func TestRetriesAreRecorded(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "count")
	d := newDistributed(t, `version: 1
tasks:
  flaky:
    uses: shell
    retry: {attempts: 3}
    with: {shell: sh, run: 'echo x >> `+marker+`; [ "$(wc -l < `+marker+`)" -ge 3 ]'}
`)
	d.mustInit()
	s := d.exec(task("flaky"))
	if s.err != nil || s.res.Record.Attempts != 3 || s.res.Status != state.Succeeded {
		t.Fatalf("%v attempts %d status %s", s.err, s.res.Record.Attempts, s.res.Status)
	}
	again := d.exec(task("flaky"))
	data, _ := os.ReadFile(marker)
	if again.err != nil || strings.Count(string(data), "x") != 3 || !strings.Contains(again.log, "succeeded already") {
		t.Fatalf("a retried step after success ran again: %v, %q, log %q", again.err, data, again.log)
	}
}

const fanOut = `version: 1
tasks:
  fan:
    uses: shell
    for_each: '["x", "y", "z"]'
    with: {run: 'echo ${{ item }}-${{ index }}'}
  gather:
    uses: shell
    needs: [fan]
    with: {run: 'echo ${{ join(map(tasks.fan.outputs, .stdout), ",") }}'}
  none:
    uses: shell
    for_each: '[]'
    with: {run: 'echo none'}
  after-none:
    uses: shell
    needs: [none]
    with: {run: 'echo ${{ len(tasks.none.outputs) }} outputs'}
`

func TestAForEachIsPlannedThenRunByInstance(t *testing.T) {
	d := newDistributed(t, fanOut)
	d.mustInit()
	if s := d.exec(task("fan")); s.err == nil || !strings.Contains(s.err.Error(), "--plan") {
		t.Fatalf("a for_each task without --plan or --item: %v", s.err)
	}
	if s := d.exec(func(o *engine.ExecOptions) { o.Task, o.Item = "fan", 0 }); s.err == nil || !strings.Contains(s.err.Error(), "--plan first") {
		t.Fatalf("an instance before its plan: %v", s.err)
	}
	plan := d.exec(func(o *engine.ExecOptions) { o.Task, o.Plan = "fan", true })
	if plan.err != nil || plan.stdout != "[0,1,2]\n" {
		t.Fatalf("plan: %v, stdout %q", plan.err, plan.stdout)
	}
	for i := 2; i >= 0; i-- {
		s := d.exec(func(o *engine.ExecOptions) { o.Task, o.Item = "fan", i })
		if s.err != nil || s.res.Record.ID != "fan["+string(rune('0'+i))+"]" {
			t.Fatalf("instance %d: %v %+v", i, s.err, s.res.Record)
		}
	}
	gather := d.exec(task("gather"))
	if gather.err != nil || stdoutOf(gather) != "x-0,y-1,z-2" {
		t.Fatalf("gather: %v, %q", gather.err, stdoutOf(gather))
	}
	again := d.exec(func(o *engine.ExecOptions) { o.Task, o.Plan = "fan", true })
	if again.stdout != "[0,1,2]\n" {
		t.Fatalf("a retried plan printed %q", again.stdout)
	}
	// An engine's limit (GitHub's 256 jobs of a matrix): a longer list fails
	// the plan, which says why; the fan-out's record is failed, not partial.
	limited := newDistributed(t, fanOut)
	limited.mustInit()
	over := limited.exec(func(o *engine.ExecOptions) { o.Task, o.Plan, o.MaxItems = "fan", true, 2 })
	if over.err == nil || over.stdout != "[]\n" || over.res.Status != state.Failed || !strings.Contains(over.res.Record.Error, "at most 2 instances") {
		t.Fatalf("a plan over --max-items: %v, stdout %q, %s %q", over.err, over.stdout, over.res.Status, over.res.Record.Error)
	}
	empty := d.exec(func(o *engine.ExecOptions) { o.Task, o.Plan = "none", true })
	if empty.err != nil || empty.stdout != "[]\n" || empty.res.Status != state.Succeeded {
		t.Fatalf("an empty list: %v %q %s", empty.err, empty.stdout, empty.res.Status)
	}
	// What needs it reads its outputs as an empty list, as under apply
	// (they were recorded as none: len() failed on a nil value).
	if after := d.exec(task("after-none")); after.err != nil || stdoutOf(after) != "0 outputs" {
		t.Fatalf("after an empty fan-out: %v %v", after.err, stdoutOf(after))
	}
}

func TestARunMustBeInitialisedWithTheSameRecipeAndVars(t *testing.T) {
	d := newDistributed(t, chain)
	s := d.exec(task("make"))
	var ue *engine.UsageError
	if !errors.As(s.err, &ue) || !strings.Contains(s.err.Error(), "--init") {
		t.Fatalf("a step before init: %v", s.err)
	}
	d.mustInit()
	d.mustInit() // a retried init pod
	d.sets = []string{"stamp=other"}
	for _, mode := range []func(*engine.ExecOptions){initRun, task("make")} {
		if s := d.exec(mode); !errors.As(s.err, &ue) || !strings.Contains(s.err.Error(), "other vars") {
			t.Fatalf("other vars: %v", s.err)
		}
	}
	d.sets = nil
	d.recipe += "  extra:\n    uses: shell\n    with: {run: 'true'}\n"
	if s := d.exec(task("make")); !errors.As(s.err, &ue) || !strings.Contains(s.err.Error(), "other recipe") {
		t.Fatalf("another recipe: %v", s.err)
	}
}

// TestOutputsThatHeldASecretAreNotReadAsStars: a need whose outputs held a
// secret is stored masked; a later step on another machine read "***" in
// their place, silently. It now fails saying how to pass the secret; a step
// that needs the task without reading its outputs runs.
func TestOutputsThatHeldASecretAreNotReadAsStars(t *testing.T) {
	t.Setenv("DEPLOY_TOKEN", "tok-5f1e9a0c33")
	d := newDistributed(t, `version: 1
tasks:
  login:
    uses: shell
    with: {run: 'echo "$DEPLOY_TOKEN"'}
  use:
    uses: shell
    needs: [login]
    with: {run: 'echo got ${{ tasks.login.outputs.stdout }}'}
  after:
    uses: shell
    needs: [login]
    if: tasks.login.status == "succeeded"
    with: {run: echo fine}
`)
	d.mustInit()
	if s := d.exec(task("login")); s.err != nil {
		t.Fatalf("login: %v", s.err)
	}
	use := d.exec(task("use"))
	if use.err == nil || use.res.Status != state.Failed || !strings.Contains(use.res.Record.Error, "which held a secret") {
		t.Fatalf("use read masked outputs: %v %s %q", use.err, use.res.Status, use.res.Record.Error)
	}
	if strings.Contains(use.log+use.res.Record.Error, "tok-5f1e9a0c33") {
		t.Error("the secret is printed")
	}
	if after := d.exec(task("after")); after.err != nil || stdoutOf(after) != "fine" {
		t.Fatalf("a task reading only the status: %v %v", after.err, stdoutOf(after))
	}
}

// TestAnItemThatHeldASecretIsNotReadAsStars: a for_each list holding a
// secret is stored masked in its plan; an instance ran with "***" as its
// item. It now fails, saying why.
func TestAnItemThatHeldASecretIsNotReadAsStars(t *testing.T) {
	t.Setenv("DEPLOY_TOKEN", "tok-5f1e9a0c33")
	d := newDistributed(t, `version: 1
tasks:
  fan:
    uses: shell
    for_each: ${{ ["plain", env.DEPLOY_TOKEN] }}
    with: {run: 'echo ${{ item }}'}
`)
	d.mustInit()
	if s := d.exec(func(o *engine.ExecOptions) { o.Task, o.Plan = "fan", true }); s.err != nil || s.stdout != "[0,1]\n" {
		t.Fatalf("plan: %v %q", s.err, s.stdout)
	}
	s := d.exec(func(o *engine.ExecOptions) { o.Task, o.Item = "fan", 1 })
	if s.err == nil || s.res.Status != state.Failed || !strings.Contains(s.res.Record.Error, "held a secret") {
		t.Fatalf("an instance of a masked list: %v %s %q", s.err, s.res.Status, s.res.Record.Error)
	}
}
