package distrun

import (
	"reflect"
	"strings"
	"testing"
)

func TestDependsIsReadAndEvaluatedAsArgoDoes(t *testing.T) {
	ended := map[string]Outcome{"a": Succeeded, "b": Skipped, "c": Failed, "d": Omitted, "e": Errored}
	lookup := func(n string) Outcome { return ended[n] }
	cases := []struct {
		expr string
		want bool
	}{
		{"a.Succeeded", true},
		{"b.Succeeded", false},
		{"(b.Succeeded || b.Skipped)", true},
		{"a.Succeeded && (b.Succeeded || b.Skipped)", true},
		{"a.Succeeded && c.Succeeded", false},
		{"c.Succeeded || c.Failed", true},
		{"(d.Succeeded || d.Failed || d.Errored || d.Skipped || d.Omitted)", true},
		{"e.Errored && d.Omitted", true},
		{"c.Failed || a.Failed && b.Skipped", true}, // && binds tighter
		{"(c.Failed || a.Failed) && b.Succeeded", false},
		{"a.Succeeded&&b.Skipped", true},
		{"((a.Succeeded))", true},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			d, err := parseDepends(c.expr)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.eval(lookup); got != c.want {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestDependsBeyondStatusTermsIsRefused(t *testing.T) {
	cases := []struct{ expr, says string }{
		{"a", `"a" is not TASK.Status`},
		{"!a.Succeeded", `"!a.Succeeded" is not TASK.Status`},
		{"a.AnySucceeded", "AnySucceeded is not a status the harness knows"},
		{"a.succeeded", "succeeded is not a status the harness knows"},
		{"a.Succeeded ||", "a term is missing at the end"},
		{"(a.Succeeded", "a ( is not closed"},
		{"a.Succeeded)", `unexpected ")" after a whole expression`},
		{"a.Succeeded b.Succeeded", `unexpected "b.Succeeded"`},
		{"a.Succeeded || && b.Failed", `unexpected "&&" where a term should be`},
		{"a.b.Succeeded", "b.Succeeded is not a status"},
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			_, err := parseDepends(c.expr)
			if err == nil || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "joined by ||, && and parentheses") {
				t.Errorf("got %v, want it to say %q and what the harness reads", err, c.says)
			}
		})
	}
}

// wf is a small workflow as runner export writes it: a plan, a fan-out
// over its result, and a task after it.
const wf = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: small-}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        failFast: false
        tasks:
          - {name: plan, template: plan}
          - name: fan
            template: fan
            depends: plan.Succeeded
            withParam: '{{tasks.plan.outputs.result}}'
            arguments: {parameters: [{name: item, value: '{{item}}'}]}
          - {name: after, template: after, depends: (fan.Succeeded || fan.Skipped)}
    - name: plan
      metadata: {annotations: {runner/step: fan.plan}}
      container: {image: runner:test, command: [runner], args: [exec, r.yaml, --run, '{{workflow.name}}', --plan]}
    - name: fan
      inputs: {parameters: [{name: item}]}
      container:
        image: runner:test
        command: [runner]
        args: [exec, r.yaml, --run, '{{workflow.name}}', --item, '{{inputs.parameters.item}}']
        env: [{name: MODE, value: fast}, {name: TOKEN, valueFrom: {secretKeyRef: {name: runner, key: TOKEN}}}]
      activeDeadlineSeconds: "90"
    - name: after
      container: {image: runner:test, command: [runner], args: [exec, r.yaml, --run, '{{ workflow.name }}']}
`

func TestReadArgoReadsTheDAGAndItsTemplates(t *testing.T) {
	w, err := ReadArgo(strings.NewReader(wf))
	if err != nil {
		t.Fatal(err)
	}
	if w.Name != "small-" || len(w.Tasks) != 3 {
		t.Fatalf("%q with %d tasks", w.Name, len(w.Tasks))
	}
	plan, fan, after := w.Tasks[0], w.Tasks[1], w.Tasks[2]
	if plan.Step != "fan.plan" || plan.FanOutOf != "" || fan.FanOutOf != "plan" || after.Depends != "(fan.Succeeded || fan.Skipped)" {
		t.Errorf("plan %+v\nfan %+v\nafter %+v", plan, fan, after)
	}
	if fan.Deadline.Seconds() != 90 || !reflect.DeepEqual(fan.Env, []string{"MODE=fast"}) {
		t.Errorf("fan: deadline %v, env %v", fan.Deadline, fan.Env)
	}
	for _, c := range []struct {
		task *Task
		item string
		want []string
	}{
		{fan, "Project 1", []string{"exec", "r.yaml", "--run", "run-7", "--item", "Project 1"}},
		{fan, "{{workflow.name}}", []string{"exec", "r.yaml", "--run", "run-7", "--item", "{{workflow.name}}"}}, // not read again
		{after, "", []string{"exec", "r.yaml", "--run", "run-7"}},
	} {
		got, err := c.task.command("run-7", c.item)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s with item %q: %q, %v; want %q", c.task.Name, c.item, got, err, c.want)
		}
	}
}

func TestAWithParamListGivesEachElementToItem(t *testing.T) {
	items, err := parseItems("[0, \"Pilot\", {\"b\": 1, \"a\": [2]}, true]\n")
	if err != nil || !reflect.DeepEqual(items, []string{"0", "Pilot", `{"b":1,"a":[2]}`, "true"}) {
		t.Errorf("%q, %v", items, err)
	}
	for _, bad := range []string{"", "3", `{"a": 1}`, "[1, 2", "null"} {
		if _, err := parseItems(bad); err == nil || !strings.Contains(err.Error(), "is no JSON list") {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

func TestReadArgoRefusesWhatTheHarnessWouldNotDoAsArgo(t *testing.T) {
	cases := []struct {
		name, from, to, says string
	}{
		{"a second document", "kind: Workflow\n", "kind: Workflow\n---\n" + wf, "more than one document"},
		{"another kind", "kind: Workflow", "kind: WorkflowTemplate", `kind "WorkflowTemplate": want Workflow or CronWorkflow`},
		{"an entrypoint naming no template", "entrypoint: main", "entrypoint: mian", `spec.entrypoint "mian" names no template`},
		{"fail-fast", "failFast: false", "failFast: true", "only with failFast: false"},
		{"a when", "- {name: plan, template: plan}", "- {name: plan, template: plan, when: '1 == 1'}", `task "plan" of template main: the harness does not do what when asks of Argo`},
		{"withItems", "- {name: plan, template: plan}", "- {name: plan, template: plan, withItems: [1]}", "withItems"},
		{"a task's template that does not exist", "- {name: plan, template: plan}", "- {name: plan, template: plann}", `template "plann": no template of the workflow has that name`},
		{"a command other than runner", "command: [runner], args: [exec, r.yaml, --run, '{{workflow.name}}', --plan]", "command: [sh], args: [-c, true]", "container command [\"sh\"]: want [runner]"},
		{"a retry strategy", "    - name: after\n", "    - name: after\n      retryStrategy: {limit: 2}\n", "template after: the harness does not do what retryStrategy asks of Argo"},
		{"a script template", "container: {image: runner:test, command: [runner], args: [exec, r.yaml, --run, '{{ workflow.name }}']}", "script: {image: x, source: x}", "template after: the harness does not do what script asks"},
		{"another variable in args", "--plan]", "--plan, '{{workflow.uid}}']", "{{workflow.uid}} is no variable the harness replaces"},
		{"an unclosed variable", "--plan]", "--plan, '{{workflow.name']", "a {{ is not closed"},
		{"{{item}} outside a fan-out", "--plan]", "--plan, '{{item}}']", "{{item}} is no variable the harness replaces"},
		{"an input given no argument", "arguments: {parameters: [{name: item, value: '{{item}}'}]}", "arguments: {parameters: []}", "template fan's input item is given no argument"},
		{"an argument no input takes", "{name: item, value: '{{item}}'}", "{name: item, value: '{{item}}'}, {name: other, value: x}", "argument other: template fan has no such input"},
		{"a withParam of anything but a task's result", "'{{tasks.plan.outputs.result}}'", "'[1, 2]'", `withParam "[1, 2]": the harness reads only`},
		{"a withParam over a task it does not wait for", "depends: plan.Succeeded", "depends: after.Succeeded", "cycle"},
		{"a withParam naming no task", "'{{tasks.plan.outputs.result}}'", "'{{tasks.plam.outputs.result}}'", "withParam names plam, which is no task of the DAG"},
		{"a depends naming no task", "depends: plan.Succeeded", "depends: plan.Succeeded && plam.Succeeded", `depends "plan.Succeeded && plam.Succeeded" names plam, which is no task of the DAG`},
		{"a bad depends", "depends: plan.Succeeded", "depends: '!plan.Failed'", `"!plan.Failed" is not TASK.Status`},
		{"a bad deadline", `activeDeadlineSeconds: "90"`, `activeDeadlineSeconds: "1m"`, `activeDeadlineSeconds "1m": want a positive number of seconds`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := strings.Replace(wf, c.from, c.to, 1)
			if src == wf {
				t.Fatalf("%q is not in the workflow", c.from)
			}
			_, err := ReadArgo(strings.NewReader(src))
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Errorf("got %v, want it to say %q", err, c.says)
			}
		})
	}
}

func TestAWithParamOverATaskNotWaitedForIsRefused(t *testing.T) {
	src := strings.Replace(wf, "            depends: plan.Succeeded\n", "", 1)
	_, err := ReadArgo(strings.NewReader(src))
	if err == nil || !strings.Contains(err.Error(), "task fan: withParam reads the result of plan, which its depends does not wait for") {
		t.Errorf("got %v", err)
	}
}
