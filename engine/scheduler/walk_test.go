package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
)

// propParams are the params of the property test's task type.
type propParams struct {
	Value string `yaml:"value" json:"value"`
	Fail  bool   `yaml:"fail" json:"fail"`
}

// propRegistry holds "step", a task type whose Plan knows what its Run
// will do, as a type's Plan does when it checks what would make its Run
// fail: with fail it fails, else it gives its value as output. runs
// counts the calls of Run.
func propRegistry(runs *atomic.Int64) *tasktype.Registry {
	reg := tasktype.NewRegistry()
	tasktype.Add(reg, tasktype.Def[propParams]{
		Name:    "step",
		Outputs: []tasktype.Output{{Name: "value", Type: "string"}},
		Plan: func(_ context.Context, _ *tasktype.Env, p *propParams) (tasktype.Plan, error) {
			if p.Fail {
				return tasktype.Plan{}, errors.New("would fail on purpose")
			}
			return tasktype.Plan{Summary: "would give " + p.Value, Outputs: tasktype.Outputs{"value": p.Value}}, nil
		},
		Run: func(_ context.Context, _ *tasktype.Env, p *propParams) (tasktype.Outputs, error) {
			runs.Add(1)
			if p.Fail {
				return nil, errors.New("failed on purpose")
			}
			return tasktype.Outputs{"value": p.Value}, nil
		},
	})
	return reg
}

const (
	propFlags = 3
	propLists = 3
)

// genRecipe draws a recipe: a DAG of up to 8 tasks with conditions
// (on vars, on outputs, on statuses, with and without always(),
// failure() and success()), empty and
// non-empty fan-outs with per-item conditions, failures (always, or only
// in the first round), continue_on_error, and params read from outputs.
func genRecipe(t *rapid.T) string {
	n := rapid.IntRange(1, 8).Draw(t, "tasks")
	var b strings.Builder
	b.WriteString("version: 1\nvars:\n  round: 1\n")
	for i := range propFlags {
		fmt.Fprintf(&b, "  flag%d: true\n", i)
	}
	for i := range propLists {
		fmt.Fprintf(&b, "  list%d: []\n", i)
	}
	b.WriteString("tasks:\n")
	fanned := make([]bool, n)
	for i := range n {
		fmt.Fprintf(&b, "  t%d:\n    uses: step\n", i)
		var needs, plain []int
		for j := range i {
			if rapid.IntRange(0, 2).Draw(t, fmt.Sprintf("t%d needs t%d", i, j)) == 0 {
				needs = append(needs, j)
				if !fanned[j] {
					plain = append(plain, j)
				}
			}
		}
		if len(needs) > 0 {
			ids := make([]string, len(needs))
			for k, j := range needs {
				ids[k] = fmt.Sprintf("t%d", j)
			}
			fmt.Fprintf(&b, "    needs: [%s]\n", strings.Join(ids, ", "))
		}
		fanned[i] = rapid.IntRange(0, 2).Draw(t, fmt.Sprintf("t%d fans out", i)) == 0
		if fanned[i] {
			fmt.Fprintf(&b, "    for_each: ${{ vars.list%d }}\n", rapid.IntRange(0, propLists-1).Draw(t, fmt.Sprintf("t%d list", i)))
		}
		conds := []string{"", fmt.Sprintf("vars.flag%d", rapid.IntRange(0, propFlags-1).Draw(t, fmt.Sprintf("t%d flag", i))), "always()"}
		conds = append(conds, "always() && "+conds[1], "failure()", "success()", "failure() && "+conds[1], "success() || failure()", "!failure()")
		if len(plain) > 0 {
			ref := fmt.Sprintf("t%d", rapid.SampledFrom(plain).Draw(t, fmt.Sprintf("t%d reads", i)))
			conds = append(conds,
				fmt.Sprintf(`tasks.%s.outputs.value == "v%s"`, ref, ref[1:]),
				fmt.Sprintf(`tasks.%s.outputs.value != "v%s"`, ref, ref[1:]),
				fmt.Sprintf(`tasks.%s.status == "succeeded"`, ref),
				fmt.Sprintf(`always() && tasks.%s.status == "succeeded"`, ref))
		}
		if fanned[i] {
			conds = append(conds, `item != "b"`, `always() && item != "a"`)
		}
		if cond := rapid.SampledFrom(conds).Draw(t, fmt.Sprintf("t%d if", i)); cond != "" {
			fmt.Fprintf(&b, "    if: '%s'\n", cond)
		}
		fail := []string{"false", "true", "${{ vars.round == 1 }}"}
		if fanned[i] {
			fail = append(fail, `${{ item == "c" }}`)
		}
		value := fmt.Sprintf("v%d", i)
		if len(plain) > 0 && rapid.Bool().Draw(t, fmt.Sprintf("t%d value from a need", i)) {
			value = fmt.Sprintf("${{ tasks.t%d.outputs.value }}", rapid.SampledFrom(plain).Draw(t, fmt.Sprintf("t%d value of", i)))
		}
		fmt.Fprintf(&b, "    with:\n      value: %q\n      fail: %s\n", value, rapid.SampledFrom(fail).Draw(t, fmt.Sprintf("t%d fails", i)))
		if rapid.IntRange(0, 3).Draw(t, fmt.Sprintf("t%d continue_on_error", i)) == 0 {
			b.WriteString("    continue_on_error: true\n")
		}
	}
	return b.String()
}

// genVars draws the vars of one round: flags, and lists that may be
// empty, repeat an item, or hold the items of the round before in
// another order.
func genVars(t *rapid.T, round int) map[string]any {
	vars := map[string]any{"round": round}
	for i := range propFlags {
		vars[fmt.Sprintf("flag%d", i)] = rapid.Bool().Draw(t, fmt.Sprintf("round %d flag%d", round, i))
	}
	items := rapid.SliceOfN(rapid.SampledFrom([]string{"a", "b", "c"}), 0, 4)
	for i := range propLists {
		list := []any{}
		for _, s := range items.Draw(t, fmt.Sprintf("round %d list%d", round, i)) {
			list = append(list, s)
		}
		vars[fmt.Sprintf("list%d", i)] = list
	}
	return vars
}

// propWalk walks r once, as a plan or as a run, and says per task or
// instance what it would do or did: run, skip, reuse, fail or succeed
// (a fan-out over an empty list).
type propWalk struct {
	r        *recipe.Recipe
	vars     map[string]any
	previous *state.Run
	only     []string
	jobs     int
}

func (w propWalk) options(dry bool) scheduler.Options {
	started := time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)
	scope := eval.NewScope(w.r.Dir, started, map[string]string{})
	for k, v := range w.vars {
		scope.Vars[k] = v
	}
	scope.Run.Dry = dry
	return scheduler.Options{
		DryRun: dry, Jobs: w.jobs, Only: w.only, Previous: w.previous, Scope: scope,
		Masker: secret.New(), Run: state.Run{ID: "now", Started: started},
	}
}

func (w propWalk) plan(t *rapid.T) map[string]string {
	res, err := scheduler.Execute(context.Background(), w.r, w.options(true))
	if err != nil {
		t.Fatal(err)
	}
	would := map[string]string{}
	for _, p := range res.Plan {
		if _, dup := would[p.ID]; dup {
			t.Fatalf("the plan has %s twice", p.ID)
		}
		would[p.ID] = p.Would
	}
	return would
}

func (w propWalk) apply(t *rapid.T) (map[string]string, *state.Run) {
	var mu sync.Mutex
	started := map[string]bool{}
	finished := map[string]scheduler.Event{}
	opt := w.options(false)
	opt.Sink = scheduler.SinkFunc(func(e scheduler.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Type {
		case scheduler.TaskStarted:
			started[e.Task] = true
		case scheduler.TaskFinished:
			finished[e.Task] = e
		}
	})
	res, err := scheduler.Execute(context.Background(), w.r, opt)
	if err != nil {
		t.Fatal(err)
	}
	did := map[string]string{}
	for id, e := range finished {
		fanned := false
		for other := range finished {
			fanned = fanned || strings.HasPrefix(other, id+"[")
		}
		if fanned {
			continue // its instances say what happened
		}
		switch {
		case strings.HasPrefix(e.Reason, "reused from run "):
			did[id] = scheduler.WouldReuse
		case e.Status == state.Failed:
			did[id] = scheduler.WouldFail
		case e.Status == state.Skipped:
			did[id] = scheduler.WouldSkip
		case e.Status == state.Succeeded && started[id]:
			did[id] = scheduler.WouldRun
		case e.Status == state.Succeeded:
			did[id] = scheduler.WouldSucceed
		default:
			did[id] = string(e.Status)
		}
	}
	// Tasks left out by --only are recorded as skipped, without an event.
	for _, t := range w.r.Tasks {
		if st := res.Run.Task(t.ID); st != nil && st.Reason == "not selected by --only" {
			did[t.ID] = scheduler.WouldSkip
		}
	}
	return did, res.Run
}

// interrupted turns a finished run into the run a resume finds: some
// successes lost as if runner had been killed before writing them, some
// masked (a secret was in their outputs, so they must run again).
func interrupted(t *rapid.T, run *state.Run) *state.Run {
	prev := &state.Run{ID: "earlier", Status: state.Failed, Started: run.Started}
	for _, st := range run.Tasks {
		copied := *st
		if copied.Status == state.Succeeded {
			switch rapid.IntRange(0, 5).Draw(t, "fate of "+st.ID) {
			case 0:
				copied.Status = state.Running
			case 1:
				copied.Masked = true
			}
		}
		prev.Tasks = append(prev.Tasks, &copied)
	}
	return prev
}

// sameOutcomes fails the test unless plan and did say the same of every
// task and instance.
func sameOutcomes(t *rapid.T, round, text string, plan, did map[string]string) {
	var diffs []string
	for id, would := range plan {
		if did[id] != would {
			diffs = append(diffs, fmt.Sprintf("%s: plan says %q, apply did %q", id, would, did[id]))
		}
	}
	for id, d := range did {
		if _, ok := plan[id]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s: not in the plan, apply did %q", id, d))
		}
	}
	if len(diffs) > 0 {
		sort.Strings(diffs)
		t.Fatalf("%s: plan and apply disagree:\n%s\nrecipe:\n%s", round, strings.Join(diffs, "\n"), text)
	}
}

// TestPlanSaysWhatApplyDoes: for generated recipes, what a plan says each
// task and instance would do — run, be skipped, be reused, fail, or
// succeed with nothing to run — is what apply then does, in a new run and
// in a resumed one. Before the two were one walk, plan left out a task
// whose for_each list was empty (apply: succeeded), and said "would run"
// for instances that apply --resume reused.
func TestPlanSaysWhatApplyDoes(t *testing.T) {
	dir := t.TempDir()
	var runs atomic.Int64
	reg := propRegistry(&runs)
	var n atomic.Int64
	rapid.Check(t, func(rt *rapid.T) {
		text := genRecipe(rt)
		path := filepath.Join(dir, fmt.Sprintf("r%d.yaml", n.Add(1)))
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			rt.Fatal(err)
		}
		r, err := recipe.Load(path, recipe.Options{Registry: reg})
		if err != nil {
			rt.Fatalf("%v\n%s", err, text)
		}
		jobs := rapid.IntRange(1, 3).Draw(rt, "jobs")
		var only []string
		if rapid.IntRange(0, 4).Draw(rt, "only some") == 0 {
			only = []string{rapid.SampledFrom(r.Graph().IDs()).Draw(rt, "only")}
		}

		first := propWalk{r: r, vars: genVars(rt, 1), only: only, jobs: jobs}
		before := runs.Load()
		plan := first.plan(rt)
		if runs.Load() != before {
			rt.Fatalf("the plan ran %d tasks", runs.Load()-before)
		}
		did, run := first.apply(rt)
		sameOutcomes(rt, "first run", text, plan, did)

		second := propWalk{r: r, vars: genVars(rt, 2), only: only, jobs: jobs, previous: interrupted(rt, run)}
		plan = second.plan(rt)
		did, _ = second.apply(rt)
		sameOutcomes(rt, "resumed run", text, plan, did)
	})
}
