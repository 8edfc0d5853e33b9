package argo

import (
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/export"
	"github.com/novelfactory/runner/engine/scheduler"
)

// TestNoArgoVariableComesFromTheInputs: Argo substitutes {{…}} in every
// argument and in image:, so only runner's own two variables, put in by
// Render, may stand there — not the same text from a --set or a path.
func TestNoArgoVariableComesFromTheInputs(t *testing.T) {
	for name, change := range map[string]func(*export.Options){
		"--set {{workflow.name}}":          func(o *export.Options) { o.Sets = []string{"projects={{workflow.name}}"} },
		"--set {{inputs.parameters.item}}": func(o *export.Options) { o.Sets = []string{"projects=x{{inputs.parameters.item}}"} },
		"--vars named as the run's id":     func(o *export.Options) { o.VarFiles = []string{runIDExpr} },
		"--vars named as the item":         func(o *export.Options) { o.VarFiles = []string{itemExpr} },
		"the recipe's path":                func(o *export.Options) { o.Recipe = "{{workflow.name}}.yaml" },
		"--state":                          func(o *export.Options) { o.State = "s3://b/{{workflow.name}}" },
		"--state-endpoint":                 func(o *export.Options) { o.StateEndpoint = "http://{{workflow.name}}" },
		"--include-dir":                    func(o *export.Options) { o.IncludeDirs = []string{"{{workflow.name}}"} },
	} {
		t.Run(name, func(t *testing.T) {
			opt := options("r.yaml")
			change(&opt)
			w, err := export.Build(loadText(t, fanOut), opt)
			if err != nil {
				return // refused before Render: as good
			}
			if _, _, err := Render(w); err == nil || !strings.Contains(err.Error(), "holds {{") {
				t.Errorf("err = %v, want one about {{", err)
			}
		})
	}
	// A schedule entry's vars become --set of its CronWorkflow.
	w, err := export.Build(loadText(t, `version: 1
name: cron
vars: {v: a}
schedule:
  - {cron: "0 6 * * *", timezone: Asia/Seoul, vars: {v: "{{workflow.name}}"}}
tasks:
  a: {uses: shell, with: {run: "echo ${{ vars.v }}"}}
`), options("cron.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Render(w); err == nil || !strings.Contains(err.Error(), "holds {{") {
		t.Errorf("schedule vars: err = %v, want one about {{", err)
	}
	// The image is checked by Render too, for a Workflow built elsewhere.
	w, err = export.Build(loadText(t, fanOut), options("r.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	w.Options.Image = `img:{{=sprig.env("HOME")}}`
	if _, _, err := Render(w); err == nil || !strings.Contains(err.Error(), "not a container image reference") {
		t.Errorf("image: err = %v", err)
	}
}

// TestTheHeaderKeepsEveryValueInTheComment: a line break in a value the
// header shows would end the comment and add keys.
func TestTheHeaderKeepsEveryValueInTheComment(t *testing.T) {
	w, err := export.Build(loadText(t, fanOut), options("r.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Past Build's checks, as a caller of Render might.
	w.Options.Recipe = "r\ndefaults: 1\n#.yaml"
	w.Options.State = "s3://b/p\u2028evil: 1\n#"
	w.Description = "one\r\ntwo\u0085three"
	data, _, err := Render(w)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	for k := range doc {
		if k != "apiVersion" && k != "kind" && k != "metadata" && k != "spec" {
			t.Errorf("key %q was added to the workflow", k)
		}
	}
	if !strings.Contains(string(data), "# one two three\n") {
		t.Errorf("the description is not one comment line:\n%s", data)
	}
}

func TestAFanOutOverMoreThanRunnerTakesIsRefused(t *testing.T) {
	src := func(n int) string {
		return "version: 1\nname: many\ntasks:\n  each: {uses: shell, for_each: '${{ 1.." + strconv.Itoa(n) + " }}', with: {run: echo}}\n"
	}
	for n, refused := range map[int]bool{scheduler.MaxInstances: false, scheduler.MaxInstances + 1: true} {
		r := loadText(t, src(n))
		w, err := export.Build(r, options("r.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		w.SetItems(map[string]int{"each": n})
		_, _, err = Render(w)
		if refused != (err != nil) || refused && !strings.Contains(err.Error(), "at most 10000 instances") {
			t.Errorf("%d items: err = %v", n, err)
		}
	}
}
