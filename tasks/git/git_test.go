package git

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/testtools"
)

// testEnviron runs git apart from the machine's configuration, with a
// fixed identity and dates so that commits are the same on every run.
func testEnviron(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + filepath.Join(home, "gitconfig"),
		"GIT_AUTHOR_NAME=Ada Author", "GIT_AUTHOR_EMAIL=ada@example.com", "GIT_AUTHOR_DATE=2026-03-01T04:00:00Z",
		"GIT_COMMITTER_NAME=Cy Committer", "GIT_COMMITTER_EMAIL=cy@example.com", "GIT_COMMITTER_DATE=2026-03-01T04:00:00Z",
	}
}

// fixture is a repository with a commit on main, and a bare remote.
type fixture struct {
	t       *testing.T
	dir     string // the work tree
	remote  string // a bare repository, the work tree's origin
	environ []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	root := t.TempDir()
	f := &fixture{t: t, dir: filepath.Join(root, "work"), remote: filepath.Join(root, "remote.git"), environ: testEnviron(root)}
	f.git(root, "init", "--quiet", "--initial-branch=main", f.dir)
	f.git(root, "init", "--quiet", "--bare", f.remote)
	f.git(f.dir, "remote", "add", "origin", f.remote)
	f.write(".gitignore", "build/\n")
	f.write("README.md", "# Factory\n")
	f.commit("first")
	return f
}

// git runs git in dir and returns its trimmed stdout.
func (f *fixture) git(dir string, args ...string) string {
	f.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env = dir, f.environ
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if e, ok := err.(*exec.ExitError); ok {
			stderr = string(e.Stderr)
		}
		f.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return strings.TrimSpace(string(out))
}

func (f *fixture) write(name, content string) {
	f.t.Helper()
	path := filepath.Join(f.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// commit commits everything and returns the new HEAD.
func (f *fixture) commit(msg string) string {
	f.t.Helper()
	f.git(f.dir, "add", "--all")
	f.git(f.dir, "commit", "--quiet", "--allow-empty", "-m", msg)
	return f.git(f.dir, "rev-parse", "HEAD")
}

type result struct {
	mask *secret.Masker
	out  tasktype.Outputs
	err  error
	log  string
}

// decode decodes with as the registered type does, defaults and Check included.
func decode(t *testing.T, dir string, with map[string]any) (*Params, error) {
	t.Helper()
	r := tasktype.NewRegistry()
	Register(r)
	typ, _ := r.Lookup("git")
	p, err := typ.Decode(with, dir)
	if err != nil {
		return nil, err
	}
	return p.(*Params), nil
}

func (f *fixture) env(log *testtools.SyncBuffer, m *secret.Masker) *tasktype.Env {
	return &tasktype.Env{RunID: "20260301T040000Z-abc123", Recipe: "release", TaskID: "git", Dir: f.dir, Environ: f.environ, Log: log, Secrets: m}
}

// run runs the task with with, in the work tree.
func (f *fixture) run(with map[string]any) result {
	f.t.Helper()
	p, err := decode(f.t, f.dir, with)
	if err != nil {
		f.t.Fatal(err)
	}
	log, m := &testtools.SyncBuffer{}, secret.New()
	out, err := run(context.Background(), f.env(log, m), p)
	return result{mask: m, out: out, err: err, log: log.String()}
}

// plan plans the task with with, in the work tree.
func (f *fixture) plan(with map[string]any) tasktype.Plan {
	f.t.Helper()
	p, err := decode(f.t, f.dir, with)
	if err != nil {
		f.t.Fatal(err)
	}
	pl, err := plan(context.Background(), f.env(&testtools.SyncBuffer{}, secret.New()), p)
	if err != nil {
		f.t.Fatal(err)
	}
	return pl
}

func mustFail(t *testing.T, r result, fragments ...string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("no error; outputs %v", r.out)
	}
	for _, frag := range fragments {
		if !strings.Contains(r.err.Error(), frag) {
			t.Errorf("error lacks %q:\n%v", frag, r.err)
		}
	}
}

func mustPass(t *testing.T, r result) {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
}

func TestACleanTreeOnTheExpectedBranchPasses(t *testing.T) {
	f := newFixture(t)
	f.write("build/out.zip", "ignored") // ignored files do not count
	r := f.run(map[string]any{"op": "check", "branch": "main"})
	mustPass(t, r)
	if r.out["commit"] != f.git(f.dir, "rev-parse", "HEAD") || r.out["branch"] != "main" || len(r.out["dirty"].([]string)) != 0 {
		t.Errorf("outputs %v", r.out)
	}
}

func TestADirtyTreeIsRefusedNamingEveryFile(t *testing.T) {
	f := newFixture(t)
	f.write("staged.txt", "s")
	f.write("tracked.txt", "v1")
	f.commit("second")
	f.write("tracked.txt", "v2")                  // modified, not staged
	f.write("new.txt", "n")                       // staged new file
	f.git(f.dir, "add", "new.txt")                //
	f.write("staged.txt", "s2")                   // modified and staged
	f.git(f.dir, "add", "staged.txt")             //
	f.write("notes/untracked.md", "u")            // untracked, in a new folder
	f.write("line\nbreak.txt", "x")               // a newline in the name
	f.write("épisode 1.md", "y")                  // unicode and a space
	f.write("build/ignored.zip", "not a problem") // ignored
	r := f.run(map[string]any{"op": "check"})
	mustFail(t, r, "not clean: 6 files",
		`"tracked.txt": modified (not staged)`, `"new.txt": added (staged)`, `"staged.txt": modified (staged)`,
		`"notes/untracked.md": untracked`, `"line\nbreak.txt": untracked`, `"épisode 1.md": untracked`)
	if strings.Contains(r.err.Error(), "ignored.zip") {
		t.Errorf("an ignored file is named: %v", r.err)
	}
	got := r.out["dirty"].([]string)
	slices.Sort(got)
	want := []string{"line\nbreak.txt", "new.txt", "notes/untracked.md", "staged.txt", "tracked.txt", "épisode 1.md"}
	if !slices.Equal(got, want) {
		t.Errorf("dirty %q, want %q", got, want)
	}

	t.Run("with clean false the files are only reported", func(t *testing.T) {
		r := f.run(map[string]any{"op": "check", "clean": false})
		mustPass(t, r)
		if n := len(r.out["dirty"].([]string)); n != 6 {
			t.Errorf("%d dirty files, want 6: %v", n, r.out)
		}
	})
}

func TestARenameIsNamedWithWhereItCameFrom(t *testing.T) {
	f := newFixture(t)
	f.git(f.dir, "mv", "README.md", "READ ME.md")
	mustFail(t, f.run(map[string]any{"op": "check"}), `"READ ME.md": renamed from "README.md" (staged)`)
}

func TestAnotherBranchIsRefused(t *testing.T) {
	f := newFixture(t)
	f.git(f.dir, "switch", "--quiet", "-c", "feature")
	r := f.run(map[string]any{"op": "check", "branch": "main"})
	mustFail(t, r, "HEAD is on branch feature, not on main")
	if r.out["branch"] != "feature" {
		t.Errorf("outputs %v", r.out)
	}
}

func TestADetachedHeadIsNamedAsSuch(t *testing.T) {
	f := newFixture(t)
	head := f.commit("second")
	f.git(f.dir, "switch", "--quiet", "--detach", "HEAD~1")
	r := f.run(map[string]any{"op": "check", "branch": "main"})
	mustFail(t, r, "HEAD is detached at", "not on branch main")
	if r.out["branch"] != "" || r.out["commit"] == head {
		t.Errorf("outputs %v", r.out)
	}
	t.Run("without branch a detached HEAD passes", func(t *testing.T) {
		mustPass(t, f.run(map[string]any{"op": "check"}))
	})
}

func TestATagIsCreatedOnceAndThenFoundOnTheSameCommit(t *testing.T) {
	f := newFixture(t)
	head := f.git(f.dir, "rev-parse", "HEAD")
	notes := "Release 11.0.0\n\n# Features\n- ZIP assets\n"
	with := map[string]any{"op": "tag", "tag": "v11.0.0", "message": notes}
	r := f.run(with)
	mustPass(t, r)
	if r.out["created"] != true || r.out["commit"] != head || r.out["tag"] != "v11.0.0" {
		t.Errorf("first run outputs %v", r.out)
	}
	if typ := f.git(f.dir, "cat-file", "-t", "v11.0.0"); typ != "tag" {
		t.Errorf("the tag is a %s, want an annotated tag", typ)
	}
	if msg := f.git(f.dir, "tag", "-l", "--format=%(contents)", "v11.0.0"); msg != strings.TrimSpace(notes) {
		t.Errorf("the tag's message is %q, want the notes as written, headings kept", msg)
	}
	again := f.run(with)
	mustPass(t, again)
	if again.out["created"] != false || again.out["commit"] != head {
		t.Errorf("second run outputs %v", again.out)
	}
}

func TestATagOnARefTagsThatCommit(t *testing.T) {
	f := newFixture(t)
	first := f.git(f.dir, "rev-parse", "HEAD")
	f.commit("second")
	r := f.run(map[string]any{"op": "tag", "tag": "v1.0.0", "ref": "HEAD~1"})
	mustPass(t, r)
	if got := f.git(f.dir, "rev-parse", "v1.0.0^{commit}"); got != first || r.out["commit"] != first {
		t.Errorf("tagged %s (outputs %v), want %s", got, r.out, first)
	}
	if msg := f.git(f.dir, "tag", "-l", "--format=%(contents)", "v1.0.0"); msg != "v1.0.0" {
		t.Errorf("default message %q, want the tag's name", msg)
	}
}

func TestATagOnAnotherCommitIsAnErrorNamingBoth(t *testing.T) {
	f := newFixture(t)
	old := f.git(f.dir, "rev-parse", "HEAD")
	f.git(f.dir, "tag", "-a", "-m", "old", "v2.0.0")
	head := f.commit("second")
	r := f.run(map[string]any{"op": "tag", "tag": "v2.0.0"})
	mustFail(t, r, "tag v2.0.0 exists on commit "+old+", not on "+head)
	if got := f.git(f.dir, "rev-parse", "v2.0.0^{commit}"); got != old {
		t.Errorf("the tag moved to %s", got)
	}
}

func TestALightweightTagOfThatNameIsAnError(t *testing.T) {
	f := newFixture(t)
	f.git(f.dir, "tag", "v3.0.0")
	mustFail(t, f.run(map[string]any{"op": "tag", "tag": "v3.0.0"}), "exists as a lightweight tag", "git tag -d v3.0.0")
}

func TestABadTagNameIsRefusedBeforeAnythingIsMade(t *testing.T) {
	f := newFixture(t)
	mustFail(t, f.run(map[string]any{"op": "tag", "tag": "v1..0"}), `"v1..0" is not a valid tag name`)
	if tags := f.git(f.dir, "tag", "-l"); tags != "" {
		t.Errorf("tags %q", tags)
	}
}

func TestATagIsPushedToABareRemoteOnce(t *testing.T) {
	f := newFixture(t)
	mustPass(t, f.run(map[string]any{"op": "tag", "tag": "v1.0.0"}))
	with := map[string]any{"op": "push", "tag": "v1.0.0"}
	r := f.run(with)
	mustPass(t, r)
	head := f.git(f.dir, "rev-parse", "HEAD")
	if r.out["created"] != true || r.out["commit"] != head || r.out["tag"] != "v1.0.0" {
		t.Errorf("outputs %v", r.out)
	}
	if got := f.git(f.remote, "rev-parse", "v1.0.0^{commit}"); got != head {
		t.Errorf("the remote's tag is on %s, want %s", got, head)
	}
	again := f.run(with)
	mustPass(t, again)
	if again.out["created"] != false {
		t.Errorf("second push outputs %v", again.out)
	}
}

func TestARemoteTagOnAnotherCommitIsAnError(t *testing.T) {
	f := newFixture(t)
	old := f.git(f.dir, "rev-parse", "HEAD")
	f.git(f.dir, "tag", "-a", "-m", "first try", "v1.0.0")
	f.git(f.dir, "push", "--quiet", "origin", "v1.0.0")
	f.git(f.dir, "tag", "-d", "v1.0.0")
	head := f.commit("fix")
	mustPass(t, f.run(map[string]any{"op": "tag", "tag": "v1.0.0"}))
	r := f.run(map[string]any{"op": "push", "tag": "v1.0.0", "remote": "origin"})
	mustFail(t, r, "has tag v1.0.0 on commit "+old+", and here it is on "+head)
	if got := f.git(f.remote, "rev-parse", "v1.0.0^{commit}"); got != old {
		t.Errorf("the remote's tag moved to %s", got)
	}
}

func TestAMissingLocalTagIsNotPushed(t *testing.T) {
	f := newFixture(t)
	mustFail(t, f.run(map[string]any{"op": "push", "tag": "v9.9.9"}), "there is no tag v9.9.9", "op: tag")
}

func TestABranchIsPushedAndThenFoundThere(t *testing.T) {
	f := newFixture(t)
	with := map[string]any{"op": "push", "ref": "main"}
	r := f.run(with)
	mustPass(t, r)
	if r.out["created"] != true || f.git(f.remote, "rev-parse", "main") != f.git(f.dir, "rev-parse", "HEAD") {
		t.Errorf("outputs %v", r.out)
	}
	if again := f.run(with); again.err != nil || again.out["created"] != false {
		t.Errorf("second push: %v %v", again.err, again.out)
	}
}

func TestATokenInTheRemoteURLNeverShows(t *testing.T) {
	f := newFixture(t)
	const token = "ghs_R3leaseT0kenAbcdef123456"
	// Port 1 on the loopback refuses at once: git fails quoting the URL.
	f.git(f.dir, "remote", "set-url", "origin", "https://x-access-token:"+token+"@127.0.0.1:1/factory/novel.git")
	mustPass(t, f.run(map[string]any{"op": "tag", "tag": "v1.0.0"}))
	for _, remote := range []string{"origin", "https://x-access-token:" + token + "@127.0.0.1:1/factory/novel.git", "https://" + token + "@127.0.0.1:1/factory/novel.git"} {
		r := f.run(map[string]any{"op": "push", "tag": "v1.0.0", "remote": remote})
		mustFail(t, r, "127.0.0.1")
		// The token is known to the run's masker, so that a child's
		// output or a later message cannot show it either.
		masked := r.mask.String("token=" + token)
		for where, text := range map[string]string{"error": r.err.Error(), "log": r.log, "outputs": fmt.Sprint(r.out), "masked text": masked} {
			if strings.Contains(text, token) {
				t.Errorf("%s holds the token: %s", where, text)
			}
		}
		pl := f.plan(map[string]any{"op": "push", "tag": "v1.0.0", "remote": remote})
		if strings.Contains(pl.Summary, token) {
			t.Errorf("plan holds the token: %s", pl.Summary)
		}
	}
}

func TestDescribeNamesTheNearestTag(t *testing.T) {
	f := newFixture(t)
	f.git(f.dir, "tag", "-a", "-m", "one", "v1.0.0")
	f.commit("two")
	head := f.commit("three")
	cases := []struct {
		name string
		with map[string]any
		want string
	}{
		{"two commits after the tag", map[string]any{}, "v1.0.0-2-g" + head[:7]},
		{"abbrev 0 gives the tag alone", map[string]any{"abbrev": 0}, "v1.0.0"},
		{"a match that no tag fits, with always, gives the commit", map[string]any{"match": "release-*", "always": true}, head[:7]},
		{"a ref describes that commit", map[string]any{"ref": "HEAD~2", "long": true}, "v1.0.0-0-g" + f.git(f.dir, "rev-parse", "--short=7", "HEAD~2")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.with["op"] = "describe"
			if _, set := c.with["abbrev"]; !set {
				c.with["abbrev"] = 7
			}
			r := f.run(c.with)
			mustPass(t, r)
			if r.out["describe"] != c.want {
				t.Errorf("describe %q, want %q", r.out["describe"], c.want)
			}
		})
	}
	t.Run("dirty marks a changed tree", func(t *testing.T) {
		f.write("README.md", "changed")
		r := f.run(map[string]any{"op": "describe", "dirty": true, "abbrev": 0})
		mustPass(t, r)
		if r.out["describe"] != "v1.0.0-dirty" {
			t.Errorf("describe %q", r.out["describe"])
		}
	})
	t.Run("no tag to find fails quoting git", func(t *testing.T) {
		mustFail(t, f.run(map[string]any{"op": "describe", "match": "release-*"}), "fatal: No names found")
	})
}

// snapshot hashes every file under dir with its mode and time: any write shows.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		files[path] = fmt.Sprintf("%s %s %s", info.Mode(), info.ModTime(), sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestADryRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.write("notes.md", "untracked")
	// A tracked file rewritten with the same bytes makes the index stale: a
	// status that refreshes it would write .git/index.
	f.write("README.md", "# Factory\n")
	f.write(".gitignore", "build/\n*.tmp\n") // a tracked change: describe's -dirty
	head := f.git(f.dir, "rev-parse", "HEAD")
	before, remoteBefore := snapshot(t, f.dir), snapshot(t, f.remote)
	plans := map[string]tasktype.Plan{}
	for _, with := range []map[string]any{
		{"op": "check", "branch": "main"},
		{"op": "tag", "tag": "v1.0.0", "message": "one"},
		{"op": "push", "tag": "v1.0.0"},
		{"op": "push", "ref": "main"},
		{"op": "describe", "always": true, "dirty": true},
	} {
		plans[fmt.Sprint(with)] = f.plan(with)
	}
	if after := snapshot(t, f.dir); !mapsEqual(before, after) {
		t.Errorf("the work tree changed:\n%s", diff(before, after))
	}
	if after := snapshot(t, f.remote); !mapsEqual(remoteBefore, after) {
		t.Errorf("the remote changed:\n%s", diff(remoteBefore, after))
	}
	for key, pl := range plans {
		t.Logf("%s: %s", key, pl.Summary)
	}
	check := plans[fmt.Sprint(map[string]any{"op": "check", "branch": "main"})]
	if !strings.Contains(check.Summary, "it would fail now") || !strings.Contains(check.Summary, `"notes.md": untracked`) || check.Outputs["commit"] != head {
		t.Errorf("check plan %+v", check)
	}
	tag := plans[fmt.Sprint(map[string]any{"op": "tag", "tag": "v1.0.0", "message": "one"})]
	if !strings.Contains(tag.Summary, "would create annotated tag v1.0.0 on "+head[:12]) || tag.Outputs["commit"] != head {
		t.Errorf("tag plan %+v", tag)
	}
	desc := plans[fmt.Sprint(map[string]any{"op": "describe", "always": true, "dirty": true})]
	if desc.Outputs["describe"] != f.git(f.dir, "rev-parse", "--short", "HEAD")+"-dirty" {
		t.Errorf("describe plan %+v", desc)
	}
	t.Run("a tag that is there already plans nothing", func(t *testing.T) {
		f.git(f.dir, "tag", "-a", "-m", "one", "v1.0.0")
		pl := f.plan(map[string]any{"op": "tag", "tag": "v1.0.0"})
		if !strings.Contains(pl.Summary, "already on") {
			t.Errorf("plan %q", pl.Summary)
		}
	})
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func diff(a, b map[string]string) string {
	var out []string
	for k, v := range a {
		if b[k] != v {
			out = append(out, "changed or gone: "+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "new: "+k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func TestParamsOfAnotherOpAreRefused(t *testing.T) {
	cases := []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"op": "check", "message": "hi"}, "message is a param of op tag or commit, not of op check"},
		{map[string]any{"op": "tag", "tag": "v1", "paths": "a.md"}, "paths is a param of op commit, not of op tag"},
		{map[string]any{"op": "commit", "message": "m"}, "op commit needs the files to commit in paths"},
		{map[string]any{"op": "commit", "paths": []any{"a.md", " "}, "message": "m"}, "paths holds an empty name"},
		{map[string]any{"op": "commit", "paths": "a.md"}, "op commit needs the commit's message"},
		{map[string]any{"op": "tag"}, "op tag needs the tag's name"},
		{map[string]any{"op": "push", "tag": "v1", "ref": "main"}, "either tag"},
		{map[string]any{"op": "push"}, "either tag"},
		{map[string]any{"op": "describe", "dirty": true, "ref": "v1"}, "cannot go with ref"},
		{map[string]any{"op": "tag", "tag": "--delete"}, "cannot start with -"},
		{map[string]any{"op": "merge"}, "op"},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			_, err := decode(t, t.TempDir(), c.with)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestParseStatusReadsRenamesAndOddNames(t *testing.T) {
	got := parseStatus("R  new name\x00old\nname\x00 M a\x00?? dir/é\x00UU c\x00MD d\x00")
	want := []change{
		{"new name", `renamed from "old\nname" (staged)`},
		{"a", "modified (not staged)"},
		{"dir/é", "untracked"},
		{"c", "unmerged (a conflict)"},
		{"d", "modified (staged), then deleted (not staged)"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestAMissingDirIsNamedAsSuch(t *testing.T) {
	f := newFixture(t)
	file := filepath.Join(f.dir, "README.md")
	for _, c := range []struct{ dir, want string }{
		{filepath.Join(f.dir, "nowhere"), "nowhere\" does not exist"},
		{file, "README.md\" is not a folder"},
	} {
		for _, op := range []map[string]any{{"op": "check"}, {"op": "tag", "tag": "v1"}, {"op": "describe"}, {"op": "push", "ref": "main"}} {
			op["dir"] = c.dir
			r := f.run(op)
			mustFail(t, r, c.want)
			if strings.Contains(r.err.Error(), "fork/exec") {
				t.Errorf("op %s: %v", op["op"], r.err)
			}
			if pl := f.plan(op); !strings.Contains(pl.Summary, c.want) {
				t.Errorf("op %s: plan %q", op["op"], pl.Summary)
			}
		}
	}
}
