package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// exportRecipe writes a recipe of tasks under a header into dir.
func exportRecipe(t *testing.T, dir, header string) {
	t.Helper()
	src := "version: 1\nname: fan\n" + header + "tasks:\n  each:\n    uses: shell\n    for_each: ${{ 1..vars.n }}\n    with: {run: echo}\n"
	if err := os.WriteFile(filepath.Join(dir, "fan.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestExportToGitHub(t *testing.T) {
	t.Run("a fan-out over more items than a matrix takes is a usage error that says what to do", func(t *testing.T) {
		dir := t.TempDir()
		exportRecipe(t, dir, "vars: {n: 10}\n")
		out := filepath.Join(dir, "fan.yml")
		res := inProcess(t, dir, nil, "export", filepath.Join(dir, "fan.yaml"), "--to", "github", "--state", "s3://b/runs", "--set", "n=257", "-o", out)
		if res.code != 2 {
			t.Fatalf("exit %d, want 2; stderr:\n%s", res.code, res.stderr)
		}
		for _, want := range []string{"task each fans out over 257 items", "256 jobs", "split the list", "--to argo"} {
			if !strings.Contains(res.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
			}
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("a refused export wrote %s (%v)", out, err)
		}
	})
	t.Run("a workflow is written with notes on stderr", func(t *testing.T) {
		dir := t.TempDir()
		exportRecipe(t, dir, "vars: {n: 3}\n")
		out := filepath.Join(dir, "fan.yml")
		res := inProcess(t, dir, nil, "export", filepath.Join(dir, "fan.yaml"), "--to", "github", "--state", "s3://b/runs", "--runner-version", "v1.2.0", "-o", out)
		if res.code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", res.code, res.stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"go install github.com/novelfactory/runner/cmd/runner@v1.2.0", "--task each --plan --max-items 256", "AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}"} {
			if !strings.Contains(string(data), want) {
				t.Errorf("the workflow has no %q:\n%s", want, data)
			}
		}
		if !strings.Contains(res.stderr, "runner: note: the plan step of task each runs as job each_plan-") {
			t.Errorf("no note about the renamed plan job:\n%s", res.stderr)
		}
	})
	t.Run("a schedule in a zone with daylight saving time is a usage error", func(t *testing.T) {
		dir := t.TempDir()
		exportRecipe(t, dir, "vars: {n: 3}\nschedule: {cron: \"0 4 * * 0\", timezone: Europe/Berlin}\n")
		res := inProcess(t, dir, nil, "export", filepath.Join(dir, "fan.yaml"), "--to", "github", "--state", "s3://b/runs")
		if res.code != 2 || !strings.Contains(res.stderr, "Europe/Berlin") || !strings.Contains(res.stderr, "daylight saving time") {
			t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
		}
	})
}
