package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/githubfake"
)

// TestHostileReleaseDoesNotWriteThroughASymlinkOutsideTheClone: README.md
// committed as a symlink to a file outside the clone. The replace task
// edits through links by design, so the release rewrote the file outside
// the clone, committed a release without the README's new version, and
// only then failed at zip (a symlink in the stage). Not fixed: the replace
// task (or the recipe) must refuse a link that leaves the repository.
func TestHostileReleaseDoesNotWriteThroughASymlinkOutsideTheClone(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	repo := seedOnly(t, dir, env)
	outside := filepath.Join(dir, "outside-README.md")
	data := readFile(t, filepath.Join(repo, "README.md"))
	writeFile(t, outside, data)
	os.Remove(filepath.Join(repo, "README.md"))
	if err := os.Symlink(outside, filepath.Join(repo, "README.md")); err != nil {
		t.Fatal(err)
	}
	gitOut(t, repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qam", "symlink")
	res := release(t, dir, env)
	t.Logf("exit %d\n%s", res.code, res.stdout)
	if readFile(t, outside) != data {
		t.Errorf("the release wrote through README.md's symlink to a file outside the clone")
	}
}

// TestHostileRerunAfterPublishingLeavesTheReleaseAlone: after publishing,
// a commit lands and the same version is released again; the tag check
// stops it before any upload could replace a published asset (passes).
func TestHostileRerunAfterPublishingLeavesTheReleaseAlone(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	if res := release(t, dir, env, "--set", "publish=true"); res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	// Someone changes the example after publishing: a rerun of the same version
	// with other bytes must not replace a published asset silently.
	repo := filepath.Join(dir, "build/release/factory")
	writeFile(t, filepath.Join(repo, "NEW.txt"), "x")
	gitOut(t, repo, "-c", "user.name=x", "-c", "user.email=x@x", "add", "NEW.txt")
	gitOut(t, repo, "-c", "user.name=x", "-c", "user.email=x@x", "commit", "-qm", "later")
	writes := len(gh.Writes())
	res := release(t, dir, env)
	t.Logf("exit %d\n%s", res.code, res.stdout)
	if w := gh.Writes(); len(w) != writes {
		t.Errorf("a rerun after publishing wrote to the published release: %v", w[writes:])
	}
	if !strings.Contains(res.stdout+res.stderr, "v11.0.0") {
		t.Error("no mention of the tag")
	}
}
