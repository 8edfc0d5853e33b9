package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine"
)

// The golden files under testdata/golden are the texts users read: plans,
// the output and summary of a run, graphs and task docs. A change to any of
// them shows up as a diff in review. Accept an intended change with
//
//	go test ./cmd/runner -run Golden -update

// goldenClock is the fixed time of the golden runs: every timestamp, run
// id and duration comes from it, so the texts do not change between runs.
var goldenClock = time.Date(2026, 3, 1, 4, 0, 0, 0, time.UTC)

// runIDSuffix is the random part of a run id, the one thing the clock does
// not fix.
var runIDSuffix = regexp.MustCompile(`(\d{8}T\d{6}Z)-[0-9a-f]{6}`)

// inProcess runs runner in-process with the golden clock and returns its
// stdout, stderr and exit code, with dir written as $DIR and the random
// part of run ids as xxxxxx.
func inProcess(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	p := process{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, environ: env,
		sig: signals{kill: make(chan struct{}), busy: &engine.Busy{}},
		now: func() time.Time { return goldenClock },
	}
	code := run(context.Background(), p, append([]string{"runner"}, args...))
	return result{normalize(stdout.String(), dir), normalize(stderr.String(), dir), code}
}

func normalize(s, dir string) string {
	s = strings.ReplaceAll(s, dir, "$DIR")
	return runIDSuffix.ReplaceAllString(s, "$1-xxxxxx")
}

// golden compares got with the file testdata/golden/name, or rewrites the
// file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		writeFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run `go test ./cmd/runner -run Golden -update` to accept it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// goldenDir copies the golden recipes into a new folder: a run writes its
// state beside its recipe.
func goldenDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"plan.yaml", "apply.yaml"} {
		writeFile(t, filepath.Join(dir, name), readFile(t, filepath.Join("testdata", "golden", name)))
	}
	return dir
}

func TestGoldenPlan(t *testing.T) {
	dir := goldenDir(t)
	env := baseEnv("GOLDEN_API_TOKEN=s3cr3t-environ-token")
	recipe := filepath.Join(dir, "plan.yaml")
	for _, c := range []struct {
		name string
		args []string
		code int // 1 when broken is planned: its condition gives a string, not true or false
	}{
		{"plan.txt", []string{"plan", recipe}, 1},
		{"plan.json", []string{"plan", recipe, "-o", "json"}, 1},
		{"plan-only.txt", []string{"plan", recipe, "--only", "report"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := inProcess(t, dir, env, c.args...)
			if res.code != c.code {
				t.Errorf("exit %d, want %d\n%s", res.code, c.code, res.stderr)
			}
			if strings.Contains(res.stdout, "s3cr3t") {
				t.Errorf("the plan shows a secret:\n%s", res.stdout)
			}
			golden(t, c.name, res.stdout)
		})
	}
	if _, err := os.Stat(filepath.Join(dir, ".runner")); !os.IsNotExist(err) {
		t.Errorf("a plan left run state behind: %v", err)
	}
}

// TestGoldenRun: the lines of a run in CI, its summary, the same summary
// as Markdown for GITHUB_STEP_SUMMARY, and the plan of resuming it.
func TestGoldenRun(t *testing.T) {
	dir := goldenDir(t)
	step := filepath.Join(dir, "step-summary.md")
	env := baseEnv("GITHUB_STEP_SUMMARY=" + step)
	recipe := filepath.Join(dir, "apply.yaml")
	res := inProcess(t, dir, env, "apply", recipe, "--jobs", "1")
	if res.code != engine.ExitFailed {
		t.Errorf("apply: exit %d, want 1 (each[1] fails)\n%s", res.code, res.stderr)
	}
	golden(t, "apply.txt", res.stdout)
	golden(t, "apply-step-summary.md", normalize(readFile(t, step), dir))

	resume := inProcess(t, dir, baseEnv(), "plan", recipe, "--resume")
	if resume.code != 0 {
		t.Errorf("plan --resume: exit %d\n%s", resume.code, resume.stderr)
	}
	golden(t, "plan-resume.txt", resume.stdout)
}

func TestGoldenGraph(t *testing.T) {
	for _, c := range []struct{ name, recipe, format string }{
		{"graph-hello.mermaid", "../../recipes/hello.yaml", "mermaid"},
		{"graph-hello.dot", "../../recipes/hello.yaml", "dot"},
		{"graph-plan.mermaid", "testdata/golden/plan.yaml", "mermaid"},
		{"graph-plan.dot", "testdata/golden/plan.yaml", "dot"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := runner(t, ".", baseEnv(), "graph", c.recipe, "--format", c.format)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			golden(t, c.name, res.stdout)
		})
	}
}

func TestGoldenTaskDocs(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"tasks.txt", []string{"tasks"}},
		{"tasks-zip.txt", []string{"tasks", "zip"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := runner(t, ".", baseEnv(), c.args...)
			if res.code != 0 {
				t.Fatalf("exit %d: %s", res.code, res.stderr)
			}
			golden(t, c.name, res.stdout)
		})
	}
}
