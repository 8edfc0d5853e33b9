package export_test

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/export"
	"github.com/novelfactory/runner/engine/recipe"
	_ "github.com/novelfactory/runner/tasks" // the built-in types
)

func load(t *testing.T, src string) *recipe.Recipe {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := recipe.Load(path, recipe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const chain = `version: 1
name: chain
vars:
  projects: [a, b, c]
tasks:
  dump:
    uses: shell
    timeout: 1m
    retry: {attempts: 3, delay: 10s, backoff: 2}
    with: {run: 'echo "${{ env.NOTIFY_TOKEN }}" "${{ env_or("PLAIN", "x") }}"'}
  zip:
    uses: shell
    needs: [dump]
    for_each: ${{ vars.projects }}
    with: {run: "echo ${{ item }}"}
  upload:
    uses: shell
    needs: [zip]
    with: {run: echo up}
  restart:
    uses: shell
    needs: [dump]
    if: always()
    with: {run: echo restart}
`

func TestBuildMakesOneStepPerTaskAndAPlanPerFanOut(t *testing.T) {
	r := load(t, chain)
	w, err := export.Build(r, export.Options{Recipe: "recipes/chain.yaml", State: "s3://bucket/runs", StatePathStyle: true, Sets: []string{"projects=a"}, Secrets: []string{"EXTRA"}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	byName := map[string]*export.Step{}
	for _, s := range w.Steps {
		names = append(names, s.Name)
		byName[s.Name] = s
	}
	if want := []string{"init", "dump", "zip.plan", "zip", "upload", "restart"}; !reflect.DeepEqual(names, want) {
		t.Fatalf("steps = %v, want %v", names, want)
	}
	needs := func(name string) []string {
		var out []string
		for _, n := range byName[name].Needs {
			out = append(out, n.Step.Name+"/"+map[export.Accept]string{export.Succeeded: "ok", export.SucceededOrEmpty: "ok-or-empty", export.Finished: "any"}[n.Accept])
		}
		return out
	}
	for name, want := range map[string][]string{
		"dump": {"init/ok"}, "zip.plan": {"dump/ok"}, "zip": {"zip.plan/ok"}, "upload": {"zip/ok-or-empty"}, "restart": {"dump/any"},
	} {
		if got := needs(name); !reflect.DeepEqual(got, want) {
			t.Errorf("%s needs %v, want %v", name, got, want)
		}
	}
	if byName["zip"].Plan != byName["zip.plan"] {
		t.Error("the fan-out does not name its plan step")
	}
	// 3 tries of 1m, waits of 10s and 20s, 10m to move files.
	if got, want := byName["dump"].Deadline, 3*time.Minute+30*time.Second+10*time.Minute; got != want {
		t.Errorf("deadline = %v, want %v", got, want)
	}
	if byName["upload"].Deadline != 0 {
		t.Errorf("a task without timeout has deadline %v", byName["upload"].Deadline)
	}
	if want := []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "EXTRA", "NOTIFY_TOKEN"}; !reflect.DeepEqual(w.Secrets, want) {
		t.Errorf("secrets = %v, want %v (PLAIN is no secret)", w.Secrets, want)
	}
	got := byName["zip"].Command(w, "RUN", "ITEM")
	want := []string{"exec", "recipes/chain.yaml", "--run", "RUN", "--state", "s3://bucket/runs", "--state-path-style", "--set", "projects=a", "--task", "zip", "--item", "ITEM"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("command = %q, want %q", got, want)
	}
	if got := byName["zip.plan"].Command(w, "R", ""); got[len(got)-1] != "--plan" {
		t.Errorf("plan command = %q", got)
	}
	if got := byName["init"].Command(w, "R", ""); got[len(got)-1] != "--init" {
		t.Errorf("init command = %q", got)
	}
}

func TestCountItemsKnowsListsOfVarsOnly(t *testing.T) {
	r := load(t, chain+`  again:
    uses: shell
    needs: [upload]
    for_each: ${{ [tasks.upload.outputs.stdout] }}
    with: {run: echo}
`)
	scope := eval.NewScope(r.Dir, time.Now(), nil)
	scope.Vars["projects"] = []any{"a", "b", "c"}
	if got := export.CountItems(r, scope); !reflect.DeepEqual(got, map[string]int{"zip": 3}) {
		t.Errorf("counts = %v, want zip: 3 only (again's list is known after upload)", got)
	}
}

func TestBuildWantsAStateStore(t *testing.T) {
	if _, err := export.Build(load(t, chain), export.Options{Recipe: "r.yaml"}); err == nil {
		t.Error("no error without --state")
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{"recipes/a.yaml": "recipes/a.yaml", "a b": "'a b'", "it's": `'it'\''s'`, "": "''", "k=v,w": "k=v,w"} {
		if got := export.Quote(in); got != want {
			t.Errorf("Quote(%q) = %s, want %s", in, got, want)
		}
	}
}
