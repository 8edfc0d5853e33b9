package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/githubfake"
)

// Hostile review of issue 14 (the release recipes): each test reproduces one
// problem found against the built runner and the fake GitHub. See
// docs/security.md, "Hostile review of issue 14: release recipes".

// seedOnly seeds the example into build/release/factory and returns the
// clone's path.
func seedOnly(t *testing.T, dir string, env []string) string {
	t.Helper()
	if res := release(t, dir, env, "--only", "seed-example"); res.code != 0 {
		t.Fatalf("seed exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	return filepath.Join(dir, "build/release/factory")
}

// TestHostileReleaseOfARealCloneReleases: docs/release.md and the recipe's
// header say a real clone is released with --set example= (no seeding).
// The seed step is then skipped by its if, and every step after it was
// skipped for its needs: the run "succeeded" in 0.1s having released
// nothing.
func TestHostileReleaseOfARealCloneReleases(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	repo := seedOnly(t, dir, env)

	res := release(t, dir, env, "--set", "example=")
	if res.code != 0 {
		t.Fatalf("release of a clone exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if tags := gitOut(t, repo, "tag", "-l", "v11.0.0"); tags != "v11.0.0" {
		t.Errorf("release with example= made no tag v11.0.0 (tags %q):\n%s", gitOut(t, repo, "tag", "-l"), res.stdout)
	}
	if gh.Release("v11.0.0") == nil {
		t.Error("release with example= drafted no GitHub release")
	}
}

// TestHostileSeedRefusesAFolderThatIsNotARepository: repo pointing at an
// existing folder that is not a git repository (a typo, a download of the
// sources) had the example copied over it and everything in it committed
// by `git add -A` into "Factory 10.4.0", shipped in the ZIP and pushed to
// a bare repository created beside it.
func TestHostileSeedRefusesAFolderThatIsNotARepository(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	target := filepath.Join(dir, "work", "mine")
	writeFile(t, filepath.Join(target, "private-notes.txt"), "not for release\n")

	res := release(t, dir, env, "--set", "repo="+target)
	if res.code == 0 {
		t.Errorf("a release into a non-empty folder that is not a repository succeeded:\n%s", res.stdout)
	}
	if _, err := os.Stat(filepath.Join(target, ".git")); err == nil {
		t.Error("the seed made a git repository of someone's folder")
	}
	if _, err := os.Stat(filepath.Join(dir, "work", "origin.git")); err == nil {
		t.Error("the seed made a bare origin beside someone's folder")
	}
	if w := gh.Writes(); len(w) != 0 {
		t.Errorf("writes to GitHub: %v", w)
	}
}

// TestHostilePrereleaseIsNotPublishedAsLatest: 11.0.0-rc.1 with
// publish=true was published as an ordinary release and made the
// repository's latest (the recipe sets latest: "true" and never
// prerelease), so users' "latest" downloads got a release candidate.
func TestHostilePrereleaseIsNotPublishedAsLatest(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	res := runner(t, dir, env, "apply", "recipes/release.yaml", "--set", "version=11.0.0-rc.1", "--set", "publish=true")
	if res.code != 0 {
		t.Fatalf("release of 11.0.0-rc.1 exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	rel := gh.Release("v11.0.0-rc.1")
	if rel == nil {
		t.Fatal("no release v11.0.0-rc.1")
	}
	if !rel.Prerelease || rel.MakeLatest == "true" {
		t.Errorf("11.0.0-rc.1: prerelease %v, make_latest %q; want a pre-release that is not made latest", rel.Prerelease, rel.MakeLatest)
	}
}

// TestHostileTokenWithANewlineIsNamedAtOnce: a token pasted with its line
// break (GITHUB_TOKEN="$(cat token.txt)" keeps none, but `read` from a CRLF
// file, or a secret saved with a newline, does) was sent five times over
// 15 s, each refused by Go's HTTP client, and the error said only "invalid
// header field value for Authorization".
func TestHostileTokenWithANewlineIsNamedAtOnce(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh, "GITHUB_TOKEN="+gh.Token()+"\r\n")
	res := release(t, dir, env)
	if res.code == 0 {
		t.Fatal("a release with a token ending in CRLF succeeded")
	}
	out := res.stdout + res.stderr
	if strings.Contains(out, gh.Token()) {
		t.Error("the output shows the token")
	}
	if !strings.Contains(out, "line break") || strings.Contains(out, "after 5 attempts") {
		t.Errorf("the error does not say the token has a line break, or retried:\n%s", out)
	}
}

// TestHostileFailedLockLeavesNoTemporaryFile: pip freeze failing (python
// missing) left requirements.lock.tmp, an untracked file, in the clone;
// the next run's check-tree refused the tree because of it.
func TestHostileFailedLockLeavesNoTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	repo := seedOnly(t, dir, env)
	res := release(t, dir, env, "--set", "python=/nonexistent/python3", "--only", "lock")
	if res.code == 0 {
		t.Fatal("pip freeze with a missing python succeeded")
	}
	if st := gitOut(t, repo, "status", "--porcelain"); st != "" {
		t.Errorf("a failed lock left the tree dirty:\n%s", st)
	}
}

// TestHostileRerunAfterAFailureBeforeTheCommit: docs/release.md says, for
// lock, changelog and readme failures, fix the cause and "run again"; "the
// rerun finds the version released and leaves it". But changelog and readme
// have already rewritten CHANGELOG.md, README.md and __init__.py, so a new
// run's check-tree refuses the tree it dirtied itself. Only --resume
// recovers. Not fixed: the recipe's check-tree (or the docs) must change.
func TestHostileRerunAfterAFailureBeforeTheCommit(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	repo := seedOnly(t, dir, env)
	if res := release(t, dir, env, "--set", "python=/nonexistent/python3"); res.code == 0 {
		t.Fatal("a release with a missing python succeeded")
	}
	res := release(t, dir, env) // "Check python" and run the same command again
	if res.code != 0 {
		t.Fatalf("the documented rerun after a lock failure exited %d:\n%s", res.code, res.stdout)
	}
	if tags := gitOut(t, repo, "tag", "-l", "v11.0.0"); tags != "v11.0.0" {
		t.Error("no tag v11.0.0 after the rerun")
	}
}
