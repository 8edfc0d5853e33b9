package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// rerunRecipe is a chain a → b → c and a task d beside it; each appends a
// line to its counter file.
const rerunRecipe = `version: 1
vars:
  dir: .
tasks:
  a: {uses: shell, with: {run: 'echo x >> ${{ vars.dir }}/a.count'}}
  b: {uses: shell, needs: [a], with: {run: 'echo x >> ${{ vars.dir }}/b.count'}}
  c: {uses: shell, needs: [b], with: {run: 'echo x >> ${{ vars.dir }}/c.count'}}
  d: {uses: shell, with: {run: 'echo x >> ${{ vars.dir }}/d.count'}}
`

func TestRerunRunsTheNamedTaskOfASucceededRunAgain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
		want  map[string]int
	}{
		{"alone", nil, map[string]int{"a": 1, "b": 2, "c": 1, "d": 1}},
		{"with everything after it", []string{"--rerun-downstream"}, map[string]int{"a": 1, "b": 2, "c": 2, "d": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "r.yaml"), rerunRecipe)
			if res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--set", "dir="+dir); res.code != 0 {
				t.Fatalf("apply exited %d:\n%s", res.code, res.stderr)
			}
			id := latestRun(t, filepath.Join(dir, ".runner")).ID
			args := append([]string{"apply", "r.yaml", "--set", "dir=" + dir, "--resume", id, "--rerun", "b"}, tc.flags...)
			if res := runner(t, dir, baseEnv(), args...); res.code != 0 {
				t.Fatalf("rerun exited %d:\n%s", res.code, res.stderr)
			}
			for task, n := range tc.want {
				if got := lines(t, filepath.Join(dir, task+".count")); got != n {
					t.Errorf("%s ran %d times, want %d", task, got, n)
				}
			}
			if run := latestRun(t, filepath.Join(dir, ".runner")); run.ID != id || run.Resumes != 1 {
				t.Errorf("rerun made run %s (resumes %d), want %s resumed once", run.ID, run.Resumes, id)
			}
		})
	}
}

func TestRerunOfAnUnknownTaskOrWithoutResumeIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), rerunRecipe)
	if res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--rerun", "b"); res.code != 2 || !strings.Contains(res.stderr, "--rerun needs --resume") {
		t.Errorf("--rerun without --resume: exit %d, %s", res.code, res.stderr)
	}
	runner(t, dir, baseEnv(), "apply", "r.yaml", "--set", "dir="+dir)
	id := latestRun(t, filepath.Join(dir, ".runner")).ID
	if res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--resume", id, "--rerun", "bb"); res.code != 2 || !strings.Contains(res.stderr, "no such task") {
		t.Errorf("--rerun bb: exit %d, %s", res.code, res.stderr)
	}
}
