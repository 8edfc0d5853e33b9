package tasks_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestGitOpsReturnTheirDeclaredOutputs runs each op of the git type on a
// real repository with a bare remote, through the registry.
func TestGitOpsReturnTheirDeclaredOutputs(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := t.TempDir()
	dir, remote := filepath.Join(root, "work"), filepath.Join(root, "remote.git")
	environ := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + root, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + filepath.Join(root, "gitconfig"),
		"GIT_AUTHOR_NAME=A", "GIT_AUTHOR_EMAIL=a@example.com", "GIT_AUTHOR_DATE=2026-03-01T04:00:00Z",
		"GIT_COMMITTER_NAME=C", "GIT_COMMITTER_EMAIL=c@example.com", "GIT_COMMITTER_DATE=2026-03-01T04:00:00Z",
	}
	for _, args := range [][]string{
		{"init", "--quiet", "--initial-branch=main", dir}, {"init", "--quiet", "--bare", remote},
		{"-C", dir, "remote", "add", "origin", remote}, {"-C", dir, "commit", "--quiet", "--allow-empty", "-m", "first"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Env = environ
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	for _, with := range []map[string]any{
		{"op": "check", "branch": "main"},
		{"op": "tag", "tag": "v1.0.0", "message": "one"},
		{"op": "push", "tag": "v1.0.0"},
		{"op": "describe"},
	} {
		out, _, err := runTaskEnv(context.Background(), t, "git", dir, environ, with)
		if err != nil {
			t.Fatalf("%v: %v", with, err)
		}
		if len(out["commit"].(string)) != 40 {
			t.Errorf("%v: commit %q", with, out["commit"])
		}
	}
}
