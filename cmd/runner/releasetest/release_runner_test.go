package releasetest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/githubfake"
	"github.com/novelfactory/runner/internal/testtools"
)

// releasePlatforms are the platforms the release test builds: the native
// one, and a cross build for another OS and architecture, which takes the
// zip path of the recipe (Windows) where the native one takes tar.
var releasePlatforms = []string{"linux/amd64", "windows/arm64"}

// TestTheReleaseRecipeBuildsTheSameBytesFromTwoClones runs the whole of
// recipes/release-runner.yaml (changelog, commit, builds, archives,
// SHA256SUMS, tag, push, draft with assets) in two clones of this
// repository's HEAD at different paths, both pushing to one bare origin
// and drafting on one fake GitHub, and checks that both made the same
// archives and SHA256SUMS, byte for byte, and that the second run added
// nothing to the release.
//
// What this proves: from the same commit, the link and archive steps are
// deterministic and do not depend on the clone's path (-trimpath, no build
// id, the commit's date stamped in rather than now, tar and gzip with fixed
// names, owners, modes and times). What it does not prove: the two runs
// share GOCACHE (a cold cross build takes minutes on CI's 2 cores), so the
// compiled packages come from one cache and are the same by construction;
// a build with a cold cache on another machine is compared by
// bench/reproducible-build.sh, which builds twice with two empty caches.
func TestTheReleaseRecipeBuildsTheSameBytesFromTwoClones(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-builds runner twice")
	}
	for _, tool := range []string{"git", "gzip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: bash .ci/run installs it", tool)
		}
	}
	if out, err := exec.Command("tar", "--version").Output(); err != nil || !bytes.Contains(out, []byte("GNU tar")) {
		t.Fatal("the recipe needs GNU tar: bash .ci/run installs it")
	}
	root := strings.TrimSpace(gitOut(t, ".", nil, "rev-parse", "--show-toplevel"))
	head := strings.TrimSpace(gitOut(t, root, nil, "rev-parse", "HEAD"))
	goEnv := strings.Fields(goEnvPairs(t, "GOCACHE", "GOMODCACHE", "GOPROXY"))

	// One identity and one clock for every commit and tag, so that the two
	// clones make the same changelog commit, hence the same stamped commit.
	const when = "2026-12-03T12:00:00Z"
	gitIdentity := []string{
		"GIT_AUTHOR_NAME=Release Test", "GIT_AUTHOR_EMAIL=release@test.invalid", "GIT_AUTHOR_DATE=" + when,
		"GIT_COMMITTER_NAME=Release Test", "GIT_COMMITTER_EMAIL=release@test.invalid", "GIT_COMMITTER_DATE=" + when,
		"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
	}
	gh := githubfake.New(t, githubfake.WithRepository("novelfactory", "runner"))
	env := testtools.BaseEnv(append(append(gitIdentity, goEnv...),
		"GITHUB_TOKEN="+gh.Token(), "GITHUB_API_URL="+gh.APIURL(), "GITHUB_REPOSITORY="+gh.Repository())...)

	base := t.TempDir()
	origin := filepath.Join(base, "origin.git")
	gitOut(t, base, gitIdentity, "init", "-q", "--bare", origin)
	clones := []string{filepath.Join(base, "a", "runner"), filepath.Join(base, "second", "clone", "runner")}
	var uploadsAfterFirst int
	for i, dir := range clones {
		// init + fetch rather than clone: HEAD may be detached (CI checks
		// out a commit), and a shallow checkout can be fetched from.
		gitOut(t, base, gitIdentity, "init", "-q", dir)
		gitOut(t, dir, gitIdentity, "fetch", "-q", root, head)
		gitOut(t, dir, gitIdentity, "checkout", "-q", "-B", "main", head)
		gitOut(t, dir, gitIdentity, "remote", "add", "origin", origin)
		ensureUnreleasedEntry(t, dir, gitIdentity)

		res := runner(t, dir, env, "apply", "recipes/release-runner.yaml",
			"--set", "version=99.0.0-test", "--set", "date=2026-12-03",
			"--set", "platforms="+strings.Join(releasePlatforms, ","))
		if res.Code != 0 {
			t.Fatalf("clone %d: apply exited %d\n%s\n%s", i, res.Code, res.Stdout, res.Stderr)
		}
		if i == 0 {
			uploadsAfterFirst = countUploads(gh)
		}
	}

	// The same files, byte for byte, and nothing else shipped.
	var names []string
	for _, p := range releasePlatforms {
		ext := ".tar.gz"
		if strings.HasPrefix(p, "windows/") {
			ext = ".zip"
		}
		names = append(names, "runner_99.0.0-test_"+strings.ReplaceAll(p, "/", "_")+ext)
	}
	names = append(names, "SHA256SUMS")
	distA, distB := filepath.Join(clones[0], "build", "release"), filepath.Join(clones[1], "build", "release")
	for _, name := range names {
		a, b := readBytes(t, filepath.Join(distA, name)), readBytes(t, filepath.Join(distB, name))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between the two clones (%d and %d bytes)", name, len(a), len(b))
		}
	}
	if _, err := exec.LookPath("sha256sum"); err == nil {
		check := exec.Command("sha256sum", "-c", "SHA256SUMS")
		check.Dir = distA
		if out, err := check.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c: %v\n%s", err, out)
		}
	}
	if sums := string(readBytes(t, filepath.Join(distA, "SHA256SUMS"))); strings.Count(sums, "\n") != len(releasePlatforms) {
		t.Errorf("SHA256SUMS lists other files than this run's archives:\n%s", sums)
	}

	// Each archive holds the binary, README.md, LICENSE and CHANGELOG.md.
	for _, name := range names[:len(releasePlatforms)] {
		files, bin := untarGz, "runner"
		if strings.HasSuffix(name, ".zip") {
			files, bin = testtools.ZipFiles, "runner.exe"
		}
		var got []string
		for f := range files(t, filepath.Join(distA, name)) {
			got = append(got, f)
		}
		slices.Sort(got)
		if want := []string{"CHANGELOG.md", "LICENSE", "README.md", bin}; !slices.Equal(got, want) {
			t.Errorf("%s holds %v, want %v", name, got, want)
		}
	}

	// The built binary says what it is: the version, the changelog's commit
	// and that commit's date.
	commit := strings.TrimSpace(gitOut(t, clones[0], nil, "rev-parse", "HEAD"))
	if commit == head {
		t.Fatal("the recipe did not commit the released changelog")
	}
	if runtime.GOOS+"/"+runtime.GOARCH == "linux/amd64" {
		bin := filepath.Join(t.TempDir(), "runner")
		if err := os.WriteFile(bin, untarGz(t, filepath.Join(distA, names[0]))["runner"], 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "version").Output()
		if err != nil {
			t.Fatal(err)
		}
		want := "runner 99.0.0-test (commit " + commit[:12] + ", built " + when + ", " + runtime.Version() + " linux/amd64)\n"
		if string(out) != want {
			t.Errorf("the release binary prints\n%q\nwant\n%q", out, want)
		}
	}

	// The tag is on that commit in origin, and the draft holds the files.
	if got := strings.TrimSpace(gitOut(t, base, nil, "--git-dir", origin, "rev-parse", "v99.0.0-test^{commit}")); got != commit {
		t.Errorf("origin's v99.0.0-test is on %s, want %s", got, commit)
	}
	rel := gh.Release("v99.0.0-test")
	if rel == nil {
		t.Fatalf("no release for v99.0.0-test; writes: %v", gh.Writes())
	}
	if !rel.Draft || rel.Target != commit || !strings.Contains(rel.Body, "### Added") {
		t.Errorf("release: draft %v, target %s, body %q", rel.Draft, rel.Target, rel.Body)
	}
	var assets []string
	for _, a := range rel.Assets {
		assets = append(assets, a.Name)
		if !bytes.Equal(a.Data, readBytes(t, filepath.Join(distA, a.Name))) || a.State != "uploaded" {
			t.Errorf("asset %s: state %s, %d bytes differ from the file", a.Name, a.State, len(a.Data))
		}
	}
	slices.Sort(assets)
	if want := slices.Sorted(slices.Values(names)); !slices.Equal(assets, want) {
		t.Errorf("assets %v, want %v", assets, want)
	}
	if n := countUploads(gh); n != uploadsAfterFirst || n != len(names) {
		t.Errorf("%d uploads after the first run, %d after the second; want %d and no more (same bytes are left alone)", uploadsAfterFirst, n, len(names))
	}
}

// ensureUnreleasedEntry gives CHANGELOG.md an Added entry under
// [Unreleased] when it has none (right after a release), committed, so
// that the recipe has something to release.
func ensureUnreleasedEntry(t *testing.T, dir string, env []string) {
	t.Helper()
	path := filepath.Join(dir, "CHANGELOG.md")
	text := string(readBytes(t, path))
	head, rest, ok := strings.Cut(text, "## [Unreleased]\n")
	if !ok {
		t.Fatal("CHANGELOG.md has no [Unreleased] section")
	}
	section, _, _ := strings.Cut(rest, "\n## [")
	if strings.Contains(section, "### Added\n") {
		return
	}
	text = head + "## [Unreleased]\n\n### Added\n\n- An entry for the release test.\n" + rest
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	gitOut(t, dir, env, "commit", "-q", "-m", "changelog: an entry for the release test", "CHANGELOG.md")
}

// countUploads counts the asset uploads the fake GitHub received.
func countUploads(gh *githubfake.Server) int {
	n := 0
	for _, w := range gh.Writes() {
		if strings.HasPrefix(w, "POST /api/uploads/") {
			n++
		}
	}
	return n
}

// gitOut runs git in dir with the test's environment plus env and returns
// its stdout.
func gitOut(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// goEnvPairs is NAME=value for each of the go command's settings names,
// as `go env` reports them, space-separated.
func goEnvPairs(t *testing.T, names ...string) string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"env"}, names...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	values := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	var pairs []string
	for i, name := range names {
		if i < len(values) && values[i] != "" && !strings.ContainsAny(values[i], " \t") {
			pairs = append(pairs, name+"="+values[i])
		}
	}
	return strings.Join(pairs, " ")
}

func readBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// untarGz returns the regular files of a .tar.gz by name.
func untarGz(t testing.TB, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			t.Errorf("%s: %s is not a regular file", path, h.Name)
			continue
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = b
	}
}

// runnerBin is the runner binary under test, built once.
var runnerBin string

func TestMain(m *testing.M) { testtools.MainWithRunner(m, "..", &runnerBin) }

// runner runs the binary in dir and waits for it.
func runner(t *testing.T, dir string, env []string, args ...string) testtools.Result {
	t.Helper()
	return testtools.Run(t, runnerBin, dir, env, args...)
}
