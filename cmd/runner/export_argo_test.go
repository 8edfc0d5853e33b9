package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/export/argo"
)

func TestExportToArgoNotesRenamedTasksAndNamesTheSecret(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
name: r
tasks:
  Zip_Episodes: {uses: shell, with: {run: 'echo "${{ env.NOTIFY_TOKEN }}"'}}
  zip-episodes: {uses: shell, needs: [Zip_Episodes], with: {run: echo}}
`)
	res := runner(t, dir, baseEnv(), "export", "r.yaml", "--to", "argo", "--image", "example.org/runner:1",
		"--state", "s3://b/runs", "--k8s-secret", "factory", "-o", "wf.yaml")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "runner: note: task Zip_Episodes is zip-episodes-") || strings.Count(res.stderr, "runner: note:") != 1 {
		t.Errorf("stderr = %q, want one note on Zip_Episodes", res.stderr)
	}
	wf := readFile(t, filepath.Join(dir, "wf.yaml"))
	for _, want := range []string{"kind: Workflow", "generateName: r-", `Kubernetes Secret "factory"`, "name: factory\n", "key: NOTIFY_TOKEN", argo.TaskAnnotation + ": Zip_Episodes", "name: zip-episodes\n"} {
		if !strings.Contains(wf, want) {
			t.Errorf("the workflow lacks %q", want)
		}
	}

	res = runner(t, dir, baseEnv(), "export", "r.yaml", "--to", "argo", "--image", "example.org/runner:1", "--state", "s3://b/runs", "--k8s-secret", "Not_A_Name")
	if res.code != 2 || !strings.Contains(res.stderr, "Kubernetes Secret name") {
		t.Errorf("exit %d, stderr %q; want 2 and a message on the Secret's name", res.code, res.stderr)
	}
}
