package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/backups"
)

// TestTheListedRestoreCommandRestoresTheSet: the command the Backups page
// shows for a set, run as it is in a shell, restores that set (not the
// newest one) with the shipped restore recipe.
func TestTheListedRestoreCommandRestoresTheSet(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	for _, stamp := range []string{"20261115", "20261122", "20261129"} {
		if res := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml", "--set", "stamp="+stamp); res.code != 0 {
			t.Fatalf("backup %s: %d\n%s", stamp, res.code, res.stdout)
		}
	}
	// The set of 20261129 loses its manifest: not one to restore.
	os.Remove(filepath.Join(dir, "build/offsite/weekly/20261129/manifest.json"))
	sets, err := backups.List(context.Background(), "file://build/offsite/weekly", backups.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 3 || sets[0].Name != "20261129" || sets[0].Complete || sets[0].RestoreCommand != "" || !sets[1].Complete || sets[2].Name != "20261115" {
		t.Fatalf("sets %+v", sets)
	}
	oldest := sets[2] // not the newest complete one, which restore takes by default
	cmd := exec.Command("sh", "-c", oldest.RestoreCommand)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), "PATH="+filepath.Dir(runnerBin)+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", oldest.RestoreCommand, err, out)
	}
	if !strings.Contains(string(out), "20261115") || strings.Contains(string(out), "20261122") {
		t.Errorf("the restore did not take the set 20261115:\n%s", out)
	}
	restored, _ := filepath.Glob(filepath.Join(dir, "build/restored/projects/*/episodes/*.md"))
	if len(restored) == 0 {
		t.Errorf("no episode restored:\n%s", out)
	}
}
