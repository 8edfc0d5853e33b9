package github

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/export"
)

// workflowFile is the part of a workflow the semantic test reads.
type workflowFile struct {
	Jobs map[string]struct {
		Needs    []string          `yaml:"needs"`
		If       string            `yaml:"if"`
		Outputs  map[string]string `yaml:"outputs"`
		Strategy struct {
			FailFast *bool             `yaml:"fail-fast"`
			Matrix   map[string]string `yaml:"matrix"`
		} `yaml:"strategy"`
		Steps []struct {
			ID  string `yaml:"id"`
			Run string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// scenario is how the jobs that start end, for simulate.
type scenario struct {
	failed    []string // jobs that exit 1 when they run
	count     string   // what a plan job outputs as count
	cancelled bool     // the run was cancelled after init
}

// simulate runs GitHub's rules for starting jobs over the workflow: a job
// starts once every job it needs has ended and its if holds; a job that
// does not start is skipped. It returns the jobs that start.
func simulate(t *testing.T, wf workflowFile, sc scenario) []string {
	t.Helper()
	result := map[string]string{}  // success, failure or skipped
	outputs := map[string]string{} // count of plan jobs that ran
	var started []string
	for len(result) < len(wf.Jobs) {
		progress := false
		for id, j := range wf.Jobs {
			if result[id] != "" || slices.ContainsFunc(j.Needs, func(n string) bool { return result[n] == "" }) {
				continue
			}
			progress = true
			run := j.If == "" // init: no needs, no if
			if j.If != "" {
				run = evalIf(t, j.If, result, outputs, sc.cancelled && id != "init")
			}
			if !run {
				result[id] = "skipped"
				continue
			}
			started = append(started, id)
			result[id] = "success"
			if slices.Contains(sc.failed, id) {
				result[id] = "failure"
			}
			if j.Outputs["count"] != "" {
				outputs[id] = sc.count
			}
		}
		if !progress {
			t.Fatalf("jobs wait for each other: %v", result)
		}
	}
	slices.Sort(started)
	return started
}

// evalIf evaluates an if of the workflow: !, &&, ||, ==, !=, strings,
// cancelled() and needs.<job>.result / needs.<job>.outputs.count.
func evalIf(t *testing.T, cond string, result, outputs map[string]string, cancelled bool) bool {
	t.Helper()
	body, ok := strings.CutPrefix(cond, "${{")
	if !ok || !strings.HasSuffix(body, "}}") {
		t.Fatalf("if %q is not one ${{ }} expression", cond)
	}
	node, perr := actionlint.NewExprParser().Parse(actionlint.NewExprLexer(strings.TrimSpace(strings.TrimSuffix(body, "}}")) + "}}"))
	if perr != nil {
		t.Fatalf("if %q: %v", cond, perr)
	}
	var eval func(n actionlint.ExprNode) any
	eval = func(n actionlint.ExprNode) any {
		switch n := n.(type) {
		case *actionlint.NotOpNode:
			return !eval(n.Operand).(bool)
		case *actionlint.LogicalOpNode:
			l := eval(n.Left).(bool)
			if n.Kind == actionlint.LogicalOpNodeKindAnd {
				return l && eval(n.Right).(bool)
			}
			return l || eval(n.Right).(bool)
		case *actionlint.CompareOpNode:
			l, r := eval(n.Left), eval(n.Right)
			switch n.Kind {
			case actionlint.CompareOpNodeKindEq:
				return l == r
			case actionlint.CompareOpNodeKindNotEq:
				return l != r
			}
		case *actionlint.StringNode:
			return n.Value
		case *actionlint.FuncCallNode:
			if n.Callee == "cancelled" {
				return cancelled
			}
		case *actionlint.ObjectDerefNode:
			path := []string{n.Property}
			for r := n.Receiver; ; {
				if v, ok := r.(*actionlint.VariableNode); ok {
					path = append([]string{v.Name}, path...)
					break
				}
				d, ok := r.(*actionlint.ObjectDerefNode)
				if !ok {
					t.Fatalf("if %q: cannot evaluate %T", cond, r)
				}
				path, r = append([]string{d.Property}, path...), d.Receiver
			}
			switch {
			case len(path) == 3 && path[0] == "needs" && path[2] == "result":
				return result[path[1]]
			case len(path) == 4 && path[0] == "needs" && path[2] == "outputs" && path[3] == "count":
				return outputs[path[1]]
			}
			t.Fatalf("if %q reads %s", cond, strings.Join(path, "."))
		}
		t.Fatalf("if %q: cannot evaluate %T", cond, n)
		return nil
	}
	return eval(node).(bool)
}

func TestNeedsAndIfsKeepRunnersSkipRules(t *testing.T) {
	// a → b → c is a chain a failure runs down; d needs b but calls
	// always(); e fans out after a; f needs the fan-out.
	w := exportText(t, `version: 1
name: rules
vars: {list: [x, y]}
tasks:
  a: {uses: shell, with: {run: echo}}
  b: {uses: shell, needs: [a], with: {run: echo}}
  c: {uses: shell, needs: [b], with: {run: echo}}
  d: {uses: shell, needs: [b], if: always(), with: {run: echo}}
  e: {uses: shell, needs: [a], for_each: '${{ vars.list }}', with: {run: echo}}
  f: {uses: shell, needs: [e], with: {run: echo}}
`, export.Options{})
	data, _, err := render(w, clock)
	if err != nil {
		t.Fatal(err)
	}
	lint(t, "rules.yml", data)
	var wf workflowFile
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatal(err)
	}
	ids, _, _ := jobIDs(w.Steps)
	var plan string
	for s, id := range ids {
		if s.Kind == export.Plan {
			plan = id
		}
	}

	t.Run("each job's needs and if are what the graph's Accept says", func(t *testing.T) {
		want := map[string]struct {
			needs []string
			cond  string
		}{
			"b":  {[]string{"a"}, "${{ !cancelled() && needs.a.result == 'success' }}"},
			"c":  {[]string{"b"}, "${{ !cancelled() && needs.b.result == 'success' }}"},
			"d":  {[]string{"b"}, "${{ !cancelled() }}"},
			plan: {[]string{"a"}, "${{ !cancelled() && needs.a.result == 'success' }}"},
			"e":  {[]string{plan}, fmt.Sprintf("${{ !cancelled() && needs.%[1]s.result == 'success' && needs.%[1]s.outputs.count != '0' }}", plan)},
			"f":  {[]string{"e"}, "${{ !cancelled() && (needs.e.result == 'success' || needs.e.result == 'skipped') }}"},
		}
		for id, w := range want {
			j := wf.Jobs[id]
			if !reflect.DeepEqual(j.Needs, w.needs) || j.If != w.cond {
				t.Errorf("job %s: needs %v, if %q; want needs %v, if %q", id, j.Needs, j.If, w.needs, w.cond)
			}
		}
		if len(wf.Jobs["init"].Needs) != 0 || wf.Jobs["init"].If != "" {
			t.Errorf("init needs %v, if %q: it starts every run", wf.Jobs["init"].Needs, wf.Jobs["init"].If)
		}
	})

	t.Run("the fan-out is a matrix over the plan job's items", func(t *testing.T) {
		p, e := wf.Jobs[plan], wf.Jobs["e"]
		if p.Outputs["items"] != "${{ steps.exec.outputs.items }}" || p.Outputs["count"] != "${{ steps.exec.outputs.count }}" {
			t.Errorf("plan outputs = %v", p.Outputs)
		}
		if got := p.Steps[len(p.Steps)-1]; got.ID != "exec" || !strings.HasSuffix(got.Run, "--task e --plan --max-items 256") {
			t.Errorf("plan step = %+v", got)
		}
		if e.Strategy.FailFast == nil || *e.Strategy.FailFast || e.Strategy.Matrix["index"] != "${{ fromJSON(needs."+plan+".outputs.items) }}" {
			t.Errorf("strategy = %+v", e.Strategy)
		}
		if got := e.Steps[len(e.Steps)-1].Run; !strings.HasSuffix(got, "--task e --item ${{ matrix.index }}") {
			t.Errorf("instance step runs %q", got)
		}
		for id, j := range wf.Jobs {
			if !strings.Contains(j.Steps[len(j.Steps)-1].Run, "--run ${{ github.run_id }} ") {
				t.Errorf("job %s does not pass github.run_id as the run", id)
			}
		}
	})

	// Which jobs start under GitHub's rules. A job that starts where runner
	// would skip its task is allowed only where runner exec decides from
	// the store (f after a skipped fan-out): the check may let a job start,
	// never keep one from starting that runner would run.
	all := []string{"a", "b", "c", "d", "e", "f", "init", plan}
	slices.Sort(all)
	for _, c := range []struct {
		name string
		sc   scenario
		want []string
	}{
		{"every task succeeds", scenario{count: "2"}, all},
		{"a fails: b, c and the fan-out are skipped; d (always) starts; f starts and runner exec skips it",
			scenario{failed: []string{"a"}, count: "2"}, sorted("init", "a", "d", "f")},
		{"b fails: c is skipped, d (always) starts", scenario{failed: []string{"b"}, count: "2"}, sorted("init", "a", "b", "d", plan, "e", "f")},
		{"the list is empty: no matrix, and f still starts", scenario{count: "0"}, sorted("init", "a", "b", "c", "d", plan, "f")},
		{"an instance fails: f is skipped", scenario{failed: []string{"e"}, count: "2"}, sorted("init", "a", "b", "c", "d", plan, "e")},
		{"the run is cancelled: nothing after init starts", scenario{cancelled: true, count: "2"}, sorted("init")},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := simulate(t, wf, c.sc); !reflect.DeepEqual(got, c.want) {
				t.Errorf("started %v, want %v", got, c.want)
			}
		})
	}
}

func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}
