package main

import (
	"bytes"
	"crypto/rand"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/githubfake"
	"github.com/novelfactory/runner/internal/testtools"
)

// The factory's release, recipes/release.yaml, end to end on the bundled
// example: the built runner against real git (the example seeded into a
// repository of its own with a bare origin), Debian's Python for the lock
// (.ci/run installs it with PyYAML and requests, which the example needs),
// and a stateful fake of GitHub's Releases API, since no real GitHub can run
// here.

const releaseVersion = "11.0.0"

// releaseEnv is the environment of a release: the fake GitHub's address,
// repository and token, Debian's python3 first on PATH, and a HOME of its
// own, so that no global git identity or setting of this machine helps.
func releaseEnv(t *testing.T, gh *githubfake.Server, extra ...string) []string {
	t.Helper()
	env := []string{
		"PATH=/usr/bin:" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "CI=true", "LANG=C.UTF-8",
		"GIT_CONFIG_NOSYSTEM=1",
		"GITHUB_API_URL=" + gh.APIURL(), "GITHUB_REPOSITORY=" + gh.Repository(), "GITHUB_TOKEN=" + gh.Token(),
	}
	return append(env, extra...)
}

// release runs the release recipe in dir with args after its path.
func release(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	return runner(t, dir, env, append([]string{"apply", "recipes/release.yaml", "--set", "version=" + releaseVersion}, args...)...)
}

// gitOut runs git in dir and returns its trimmed output.
func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
	return strings.TrimSpace(string(out))
}

// repoState is what a release may change in git: every ref of the clone
// and of its origin, and the clone's status.
func repoState(t *testing.T, dir string) string {
	t.Helper()
	repo, origin := filepath.Join(dir, "build/release/factory"), filepath.Join(dir, "build/release/origin.git")
	return gitOut(t, repo, "show-ref") + "\n--\n" + gitOut(t, origin, "show-ref") + "\n--\n" + gitOut(t, repo, "status", "--porcelain")
}

func TestFactoryReleaseEndToEnd(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	repo, dist := filepath.Join(dir, "build/release/factory"), filepath.Join(dir, "build/release/factory/dist")

	day := time.Now().In(seoul(t)).Format("2006-01-02") // the factory's day, as the recipe's timezone says
	res := release(t, dir, env)
	if res.code != 0 {
		t.Fatalf("release exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if strings.Contains(res.stdout+res.stderr, gh.Token()) {
		t.Error("the token shows in the output")
	}
	if later := time.Now().In(seoul(t)).Format("2006-01-02"); !strings.Contains(readFile(t, filepath.Join(repo, "CHANGELOG.md")), "## [11.0.0] - "+day) {
		day = later // midnight in Seoul passed during the run
	}

	// git: one release commit of the three files, tagged, pushed with main.
	head := gitOut(t, repo, "rev-parse", "HEAD")
	if got := gitOut(t, repo, "show", "--name-only", "--format=%s", "HEAD"); got != "Factory 11.0.0\n\nCHANGELOG.md\nREADME.md\nfactory/__init__.py" {
		t.Errorf("release commit:\n%s", got)
	}
	for _, ref := range []string{"v11.0.0^{commit}", "main"} {
		if got := gitOut(t, filepath.Join(dir, "build/release/origin.git"), "rev-parse", ref); got != head {
			t.Errorf("origin's %s = %s, want the release commit %s", ref, got, head)
		}
	}
	if msg := gitOut(t, repo, "tag", "-l", "--format=%(contents)", "v11.0.0"); !strings.HasPrefix(msg, "Factory 11.0.0\n") || !strings.Contains(msg, "### Upgrade guide") {
		t.Errorf("tag message:\n%s", msg)
	}
	if st := gitOut(t, repo, "status", "--porcelain"); st != "" {
		t.Errorf("the release left the tree dirty:\n%s", st)
	}
	readme := gitOut(t, repo, "show", "HEAD:README.md")
	for _, want := range []string{"\nVersion: 11.0.0\n", "badge/version-11.0.0-blue", "releases/tag/v11.0.0)"} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q:\n%s", want, readme)
		}
	}
	if strings.Contains(readme, "10.4.0") {
		t.Errorf("README still names 10.4.0:\n%s", readme)
	}
	if got := gitOut(t, repo, "show", "HEAD:factory/__init__.py"); !strings.Contains(got, `__version__ = "11.0.0"`) {
		t.Errorf("__init__.py:\n%s", got)
	}
	changelog := gitOut(t, repo, "show", "HEAD:CHANGELOG.md")
	for _, want := range []string{
		"## [Unreleased]\n\n## [11.0.0] - " + day + "\n",
		"[Unreleased]: https://github.com/novelfactory/factory/compare/v11.0.0...HEAD",
		"[11.0.0]: https://github.com/novelfactory/factory/compare/v10.4.0...v11.0.0",
	} {
		if !strings.Contains(changelog, want) {
			t.Errorf("CHANGELOG lacks %q:\n%s", want, changelog)
		}
	}

	// The asset: the tracked files of the release commit plus the lock.
	zipPath := filepath.Join(dist, "factory-11.0.0.zip")
	files := zipFiles(t, zipPath)
	for _, want := range []string{"factory-11.0.0/README.md", "factory-11.0.0/CHANGELOG.md", "factory-11.0.0/factory/__init__.py", "factory-11.0.0/.gitignore", "factory-11.0.0/requirements.lock"} {
		if _, ok := files[want]; !ok {
			t.Errorf("the ZIP lacks %s; it has %v", want, keys(files))
		}
	}
	for name := range files {
		if strings.Contains(name, "/dist/") || strings.Contains(name, "/.git/") {
			t.Errorf("the ZIP holds %s, which is not a tracked file", name)
		}
	}
	if !strings.Contains(files["factory-11.0.0/README.md"], "Version: 11.0.0") {
		t.Error("the ZIP's README is not the release commit's")
	}
	lock := files["factory-11.0.0/requirements.lock"]
	if !strings.Contains(lock, "PyYAML==") || !strings.Contains(lock, "requests==") {
		t.Errorf("the lock does not pin the requirements:\n%s", lock)
	}
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = dist
	if out, err := check.CombinedOutput(); err != nil || !strings.Contains(string(out), "factory-11.0.0.zip: OK") {
		t.Errorf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
	}

	// GitHub: a draft with the changelog's notes and both assets, byte for byte.
	rel := gh.Release("v11.0.0")
	if rel == nil {
		t.Fatalf("no release of v11.0.0; requests: %v", gh.Writes())
	}
	if !rel.Draft || rel.Name != "Factory 11.0.0" || rel.Target != "main" {
		t.Errorf("release: draft %v, name %q, target %q (want a draft named Factory 11.0.0 on main)", rel.Draft, rel.Name, rel.Target)
	}
	for _, want := range []string{"### Features", "### Breaking", "### Upgrade guide", "Python 3.11 or later is required."} {
		if !strings.Contains(rel.Body, want) {
			t.Errorf("release notes lack %q:\n%s", want, rel.Body)
		}
	}
	assertAssets(t, rel, dist)

	// A second run changes nothing and uploads nothing.
	before, writes := repoState(t, dir), len(gh.Writes())
	zipBefore := readFile(t, zipPath)
	res = release(t, dir, env)
	if res.code != 0 {
		t.Fatalf("second release exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if after := repoState(t, dir); after != before {
		t.Errorf("the second run changed git:\nbefore\n%s\nafter\n%s", before, after)
	}
	if w := gh.Writes(); len(w) != writes {
		t.Errorf("the second run wrote to GitHub: %v", w[writes:])
	}
	if readFile(t, zipPath) != zipBefore {
		t.Error("the second run built a ZIP with other bytes")
	}

	// The plan of publishing says so and changes nothing.
	plan := runner(t, dir, env, "plan", "recipes/release.yaml", "--set", "version="+releaseVersion, "--set", "publish=true")
	if !strings.Contains(plan.stdout, "publish") || strings.Contains(plan.stdout, gh.Token()) {
		t.Errorf("plan of publishing:\n%s\n%s", plan.stdout, plan.stderr)
	}
	if w := gh.Writes(); len(w) != writes {
		t.Errorf("the plan wrote to GitHub: %v", w[writes:])
	}
	if gh.Release("v11.0.0").Draft != true {
		t.Error("the plan published the release")
	}

	// Publishing.
	res = release(t, dir, env, "--set", "publish=true")
	if res.code != 0 {
		t.Fatalf("publishing exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	rel = gh.Release("v11.0.0")
	if rel.Draft || rel.MakeLatest != "true" {
		t.Errorf("after publish=true: draft %v, make_latest %q", rel.Draft, rel.MakeLatest)
	}
	assertAssets(t, rel, dist)
	if after := repoState(t, dir); after != before {
		t.Errorf("publishing changed git:\nbefore\n%s\nafter\n%s", before, after)
	}
}

// TestFactoryReleaseDryRunChangesNothing: a dry run of a release in
// progress reads git and GitHub and writes nothing anywhere.
func TestFactoryReleaseDryRunChangesNothing(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	// Seed the example, and stop before the changelog is released.
	if res := release(t, dir, env, "--only", "seed-example"); res.code != 0 {
		t.Fatalf("seed exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	before := snapshot(t, filepath.Join(dir, "build"))
	plan := runner(t, dir, env, "plan", "recipes/release.yaml", "--set", "version="+releaseVersion)
	for _, want := range []string{"[Unreleased]", "v11.0.0", "factory-11.0.0.zip"} {
		if !strings.Contains(plan.stdout, want) {
			t.Errorf("the plan does not mention %q:\n%s\n%s", want, plan.stdout, plan.stderr)
		}
	}
	if after := snapshot(t, filepath.Join(dir, "build")); !maps.Equal(before, after) {
		t.Error("the plan changed files under build/")
	}
	if w := gh.Writes(); len(w) != 0 {
		t.Errorf("the plan wrote to GitHub: %v", w)
	}
}

// TestFactoryReleaseWithoutATokenTagsNothing: a missing or wrong token is
// found before the release changes anything.
func TestFactoryReleaseWithoutATokenTagsNothing(t *testing.T) {
	for _, tc := range []struct {
		name, token, want string
	}{
		{"missing", "", "GITHUB_TOKEN"},
		{"wrong", "ghp_wrongTOKEN0123456789abcdefXYZ", "401"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			copyTree(t, dir)
			gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
			env := releaseEnv(t, gh, "GITHUB_TOKEN="+tc.token) // the later one wins
			res := release(t, dir, env)
			if res.code == 0 {
				t.Fatalf("a release with a %s token succeeded:\n%s", tc.name, res.stdout)
			}
			if out := res.stdout + res.stderr; !strings.Contains(out, tc.want) || (tc.token != "" && strings.Contains(out, tc.token)) {
				t.Errorf("output does not name %q, or shows the token:\n%s", tc.want, out)
			}
			repo := filepath.Join(dir, "build/release/factory")
			if tags := gitOut(t, repo, "tag", "-l"); tags != "v10.4.0" {
				t.Errorf("tags after a failed token check: %q", tags)
			}
			if got := gitOut(t, repo, "rev-list", "--count", "HEAD"); got != "1" {
				t.Errorf("the release committed before the token was checked (%s commits)", got)
			}
			if st := gitOut(t, repo, "status", "--porcelain"); st != "" {
				t.Errorf("the release changed the tree before the token was checked:\n%s", st)
			}
			if w := gh.Writes(); len(w) != 0 {
				t.Errorf("writes to GitHub: %v", w)
			}
		})
	}
}

// TestFactoryReleaseResumesAKilledUploadWithoutADuplicate: runner killed
// (SIGKILL) while GitHub receives the ZIP leaves a half-uploaded asset, as
// GitHub does ("starter"); --resume replaces it, and the release holds
// each asset once, whole.
func TestFactoryReleaseResumesAKilledUploadWithoutADuplicate(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	// A cover of 8 MiB that does not compress, so that the ZIP is far larger
	// than what the kernel buffers between the two processes.
	cover := make([]byte, 8<<20)
	if _, err := rand.Read(cover); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "examples/release-factory/cover.png"), cover, 0o644); err != nil {
		t.Fatal(err)
	}
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "factory"))
	env := releaseEnv(t, gh)
	hold := gh.Hold("factory-11.0.0.zip", 1<<20)

	cmd := exec.Command(runnerBin, "apply", "recipes/release.yaml", "--set", "version="+releaseVersion)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case <-hold.Reached():
	case err := <-exited:
		t.Fatalf("runner ended (%v) before uploading the ZIP:\n%s", err, out.String())
	case <-time.After(5 * time.Minute): // a hang guard, not a limit on speed
		cmd.Process.Kill()
		t.Fatalf("the upload never started:\n%s", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	hold.Release()
	<-hold.Done()

	rel := gh.Release("v11.0.0")
	if rel == nil || len(rel.Assets) != 1 || rel.Assets[0].State != "starter" || len(rel.Assets[0].Data) >= len(cover) {
		t.Fatalf("after the kill, want one half-uploaded asset; release: %+v", summary(rel))
	}

	res := runner(t, dir, env, "apply", "recipes/release.yaml", "--set", "version="+releaseVersion, "--resume")
	if res.code != 0 {
		t.Fatalf("resume exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	rel = gh.Release("v11.0.0")
	assertAssets(t, rel, filepath.Join(dir, "build/release/factory/dist"))
	if len(gh.Releases()) != 1 {
		t.Errorf("%d releases, want 1", len(gh.Releases()))
	}
}

// assertAssets checks that rel holds the ZIP and SHA256SUMS of dist, once
// each, whole, with their content types.
func assertAssets(t *testing.T, rel *githubfake.Release, dist string) {
	t.Helper()
	var names []string
	for _, a := range rel.Assets {
		names = append(names, a.Name)
		want, err := os.ReadFile(filepath.Join(dist, a.Name))
		if err != nil {
			t.Errorf("asset %s is not a file of dist: %v", a.Name, err)
			continue
		}
		if a.State != "uploaded" || !bytes.Equal(a.Data, want) {
			t.Errorf("asset %s: state %s, %d bytes, want uploaded and the %d bytes of the file", a.Name, a.State, len(a.Data), len(want))
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"SHA256SUMS", "factory-11.0.0.zip"}) {
		t.Errorf("assets %v, want SHA256SUMS and factory-11.0.0.zip once each", names)
	}
}

func summary(rel *githubfake.Release) any {
	if rel == nil {
		return nil
	}
	var assets []string
	for _, a := range rel.Assets {
		assets = append(assets, a.Name+" "+a.State+" "+itoa(len(a.Data)))
	}
	return map[string]any{"draft": rel.Draft, "assets": assets}
}

// zipFiles reads every file of a ZIP as text: name → content.
func zipFiles(t *testing.T, path string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for name, data := range testtools.ZipFiles(t, path) {
		files[name] = string(data)
	}
	return files
}

func keys(m map[string]string) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func seoul(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
