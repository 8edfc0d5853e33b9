package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/testtools"
)

const execRecipe = `version: 1
name: exec-e2e
tasks:
  make:
    uses: shell
    with: {shell: sh, run: 'mkdir -p build && printf "made on one machine" > build/a.txt && echo "$PWD/build/a.txt"; echo "token is $DEPLOY_TOKEN" >&2'}
  read:
    uses: shell
    needs: [make]
    with: {shell: sh, run: 'cat ${{ tasks.make.outputs.stdout }}; echo " / $DEPLOY_TOKEN"'}
  fan:
    uses: shell
    needs: [read]
    for_each: '["a", "b"]'
    with: {run: 'echo ${{ item }}'}
  gather:
    uses: shell
    needs: [fan]
    with: {run: 'echo ${{ join(map(tasks.fan.outputs, .stdout), "+") }}'}
`

// Each step runs as its own runner process in its own empty folder (a
// copy of the recipe only), sharing nothing but versitygw.
func TestExecRunsARecipeStepByStepThroughS3(t *testing.T) {
	s3 := startS3(t, "state")
	const token = "tok-4f9a1c2e7b"
	env := testtools.BaseEnv(append(s3.env, "DEPLOY_TOKEN="+token)...)
	step := func(args ...string) testtools.Result {
		t.Helper()
		dir := t.TempDir()
		os.Mkdir(filepath.Join(dir, "recipes"), 0o755)
		if err := os.WriteFile(filepath.Join(dir, "recipes", "r.yaml"), []byte(execRecipe), 0o644); err != nil {
			t.Fatal(err)
		}
		all := append([]string{"exec", "recipes/r.yaml", "--run", "e2e-1", "--state", "s3://state/runs",
			"--state-endpoint", s3.endpoint, "--state-path-style"}, args...)
		return testtools.Run(t, runnerBin, dir, env, all...)
	}
	for _, args := range [][]string{{"--init"}, {"--task", "make"}, {"--task", "read"}} {
		if r := step(args...); r.Code != 0 || r.Stdout != "" {
			t.Fatalf("%v: exit %d, stdout %q, stderr %s", args, r.Code, r.Stdout, r.Stderr)
		}
	}
	plan := step("--task", "fan", "--plan")
	if plan.Code != 0 || plan.Stdout != "[0,1]\n" {
		t.Fatalf("plan: exit %d, stdout %q, stderr %s", plan.Code, plan.Stdout, plan.Stderr)
	}
	for _, i := range []string{"0", "1"} {
		if r := step("--task", "fan", "--item", i); r.Code != 0 {
			t.Fatalf("fan %s: %d %s", i, r.Code, r.Stderr)
		}
	}
	gather := step("--task", "gather")
	if gather.Code != 0 || !strings.Contains(gather.Stderr, "a+b") {
		t.Fatalf("gather: %d %s", gather.Code, gather.Stderr)
	}
	if r := step("--task", "fan"); r.Code != 2 || !strings.Contains(r.Stderr, "--plan") {
		t.Fatalf("a for_each task alone: exit %d, %s", r.Code, r.Stderr)
	}
	if r := step("--task", "make", "--run", "never-initialised"); r.Code != 2 || !strings.Contains(r.Stderr, "--init") {
		t.Fatalf("a run never initialised: exit %d, %s", r.Code, r.Stderr)
	}

	var read struct {
		Status  string
		Outputs map[string]any
	}
	data, err := os.ReadFile(filepath.Join(s3.dir, "state", "runs", "e2e-1", "tasks", "read.json"))
	if err != nil || json.Unmarshal(data, &read) != nil {
		t.Fatalf("read's record: %v %s", err, data)
	}
	if read.Status != "succeeded" || read.Outputs["stdout"] != "made on one machine / ***" {
		t.Fatalf("read's record: %+v", read)
	}
	objects := 0
	filepath.Walk(s3.dir, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		objects++
		data, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(data), token) {
			t.Errorf("%s holds the token", p)
		}
		return nil
	})
	if objects < 7 { // run.json, 4 records, 2 instances, 1 file
		t.Errorf("only %d objects in the store", objects)
	}
}
