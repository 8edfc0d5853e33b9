package git

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// committed lists the files HEAD's commit changed.
func (f *fixture) committed() []string {
	f.t.Helper()
	out := f.git(f.dir, "-c", "core.quotePath=false", "show", "--name-only", "--format=", "HEAD")
	files := strings.Split(out, "\n")
	slices.Sort(files)
	return files
}

func commitWith(paths ...any) map[string]any {
	return map[string]any{"op": "commit", "paths": paths, "message": "Factory 1.2.0"}
}

func TestACommitTakesThePathsAndARerunFindsNothingToDo(t *testing.T) {
	f := newFixture(t)
	f.write("CHANGELOG.md", "# Changes\n")
	f.commit("second")
	f.write("CHANGELOG.md", "# Changes\n## 1.2.0\n")
	f.write("README.md", "# Factory 1.2.0\n")
	f.write("notes.md", "not in paths: stays uncommitted")
	with := commitWith("CHANGELOG.md", "README.md")
	r := f.run(with)
	mustPass(t, r)
	head := f.git(f.dir, "rev-parse", "HEAD")
	if r.out["created"] != true || r.out["commit"] != head {
		t.Errorf("outputs %v, HEAD %s", r.out, head)
	}
	if got := f.committed(); !slices.Equal(got, []string{"CHANGELOG.md", "README.md"}) {
		t.Errorf("committed %q", got)
	}
	if msg := f.git(f.dir, "log", "-1", "--format=%B"); msg != "Factory 1.2.0" {
		t.Errorf("message %q", msg)
	}
	if st := f.git(f.dir, "status", "--porcelain"); st != "?? notes.md" {
		t.Errorf("status after the commit %q", st)
	}
	again := f.run(with)
	mustPass(t, again)
	if again.out["created"] != false || again.out["commit"] != head {
		t.Errorf("second run outputs %v, want created false on %s", again.out, head)
	}
	if now := f.git(f.dir, "rev-parse", "HEAD"); now != head {
		t.Errorf("the second run committed %s", now)
	}
}

func TestOtherStagedFilesAreRefusedNamingThem(t *testing.T) {
	f := newFixture(t)
	f.write("README.md", "# Factory 1.2.0\n")
	f.write("wip.go", "package wip")
	f.git(f.dir, "add", "wip.go")
	head := f.git(f.dir, "rev-parse", "HEAD")
	r := f.run(commitWith("README.md"))
	mustFail(t, r, `1 other file is staged, not among paths: "wip.go"`, "git restore --staged")
	if now := f.git(f.dir, "rev-parse", "HEAD"); now != head {
		t.Errorf("committed %s", now)
	}
	if st := f.git(f.dir, "status", "--porcelain"); st != "M README.md\nA  wip.go" {
		t.Errorf("status %q: README.md must not be staged", st)
	}
}

func TestANewAndADeletedFileAreCommitted(t *testing.T) {
	f := newFixture(t)
	f.write("old.md", "old")
	f.commit("second")
	if err := os.Remove(filepath.Join(f.dir, "old.md")); err != nil {
		t.Fatal(err)
	}
	f.write("docs/new.md", "new")
	with := commitWith("old.md", "docs/new.md")
	r := f.run(with)
	mustPass(t, r)
	if got := f.committed(); !slices.Equal(got, []string{"docs/new.md", "old.md"}) {
		t.Errorf("committed %q", got)
	}
	if st := f.git(f.dir, "status", "--porcelain"); st != "" {
		t.Errorf("status %q", st)
	}
	t.Run("a rerun, the deletion committed, finds nothing to do", func(t *testing.T) {
		again := f.run(with)
		mustPass(t, again)
		if again.out["created"] != false {
			t.Errorf("outputs %v", again.out)
		}
	})
}

func TestAPathWithSpacesAndHangulInASubfolderDir(t *testing.T) {
	f := newFixture(t)
	f.write("책 1/제 1장 시작.md", "첫 줄")
	f.write("책 1/[draft]*.md", "a name with pattern characters, taken literally")
	f.write("책 1/other.md", "not committed")
	r := f.run(map[string]any{"op": "commit", "dir": filepath.Join(f.dir, "책 1"), "paths": []any{"제 1장 시작.md", "[draft]*.md"}, "message": "장"})
	mustPass(t, r)
	if got := f.committed(); !slices.Equal(got, []string{"책 1/[draft]*.md", "책 1/제 1장 시작.md"}) {
		t.Errorf("committed %q", got)
	}
}

func TestAMissingPathIsNamed(t *testing.T) {
	f := newFixture(t)
	f.write("README.md", "changed")
	r := f.run(commitWith("README.md", "CHANGLOG.md"))
	mustFail(t, r, `"CHANGLOG.md" does not exist and is not tracked`)
	if staged := f.git(f.dir, "diff", "--cached", "--name-only"); staged != "" {
		t.Errorf("staged %q: nothing may be", staged)
	}
}

func TestAPathOutsideTheWorkTreeIsRefused(t *testing.T) {
	f := newFixture(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(f.dir, "elsewhere")); err != nil {
		t.Fatal(err)
	}
	f.commit("a symlink to a folder outside")
	for _, path := range []string{"../x", "docs/../../x", filepath.Join(outside, "x"), "elsewhere/x", ".git/config"} {
		t.Run(path, func(t *testing.T) {
			r := f.run(commitWith("README.md", path))
			if strings.HasPrefix(path, ".git") {
				mustFail(t, r, "inside .git")
			} else {
				mustFail(t, r, quoteName(path)+" is outside the work tree")
			}
		})
	}
	t.Run("a tracked symlink itself is committed as a symlink", func(t *testing.T) {
		if err := os.Remove(filepath.Join(f.dir, "elsewhere")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("/tmp", filepath.Join(f.dir, "elsewhere")); err != nil {
			t.Fatal(err)
		}
		r := f.run(commitWith("elsewhere"))
		mustPass(t, r)
		if mode := f.git(f.dir, "ls-tree", "HEAD", "elsewhere"); !strings.HasPrefix(mode, "120000") {
			t.Errorf("ls-tree %q, want a symlink", mode)
		}
	})
}

func quoteName(s string) string { return `"` + s + `"` }

func TestNoIdentityIsAnErrorSayingHowToSetIt(t *testing.T) {
	f := newFixture(t)
	home := t.TempDir()
	// No identity in the environment, none in a config; useConfigOnly
	// keeps git from making one up from the host's name.
	if err := os.WriteFile(filepath.Join(home, "gitconfig"), []byte("[user]\n\tuseConfigOnly = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.environ = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + filepath.Join(home, "gitconfig")}
	f.write("README.md", "changed")
	r := f.run(commitWith("README.md"))
	mustFail(t, r, "git config user.name", "git config user.email")
	if staged := f.git(f.dir, "diff", "--cached", "--name-only"); staged != "" {
		t.Errorf("staged %q: nothing may be", staged)
	}
	t.Run("with nothing to commit it is not needed", func(t *testing.T) {
		f.write("README.md", "# Factory\n")
		r := f.run(commitWith("README.md"))
		mustPass(t, r)
		if r.out["created"] != false {
			t.Errorf("outputs %v", r.out)
		}
	})
}

func TestAFailingHookFailsTheCommitQuotingIt(t *testing.T) {
	f := newFixture(t)
	hook := filepath.Join(f.dir, ".git", "hooks", "pre-commit")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\necho 'lint: README.md has trailing spaces' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	head := f.git(f.dir, "rev-parse", "HEAD")
	f.write("README.md", "changed ")
	mustFail(t, f.run(commitWith("README.md")), "lint: README.md has trailing spaces")
	if now := f.git(f.dir, "rev-parse", "HEAD"); now != head {
		t.Errorf("committed %s", now)
	}
	t.Run("once the hook passes, a rerun commits what was staged", func(t *testing.T) {
		if err := os.WriteFile(hook, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		r := f.run(commitWith("README.md"))
		mustPass(t, r)
		if r.out["created"] != true {
			t.Errorf("outputs %v", r.out)
		}
	})
}

func TestADryRunOfACommitLeavesTheIndexAsItWas(t *testing.T) {
	f := newFixture(t)
	f.write("CHANGELOG.md", "# Changes\n")
	f.commit("second")
	f.write("CHANGELOG.md", "# Changes\n## 1.2.0\n")
	f.write("new.md", "new")
	f.write(".gitignore", "build/\n") // same bytes: a stale index a refresh would write
	index := filepath.Join(f.dir, ".git", "index")
	hash := func() [32]byte {
		b, err := os.ReadFile(index)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before, head := hash(), f.git(f.dir, "rev-parse", "HEAD")
	pl := f.plan(commitWith("CHANGELOG.md", "new.md", ".gitignore"))
	if hash() != before {
		t.Error("the dry run wrote .git/index")
	}
	if f.git(f.dir, "rev-parse", "HEAD") != head {
		t.Error("the dry run committed")
	}
	for _, want := range []string{"would commit 2 files", `"CHANGELOG.md" (modified (not staged))`, `"new.md" (untracked)`} {
		if !strings.Contains(pl.Summary, want) {
			t.Errorf("plan %q lacks %q", pl.Summary, want)
		}
	}
	if pl.Outputs["created"] != true {
		t.Errorf("plan outputs %v", pl.Outputs)
	}
	t.Run("with nothing to commit it says so", func(t *testing.T) {
		pl := f.plan(commitWith(".gitignore"))
		if !strings.Contains(pl.Summary, "nothing to commit") || pl.Outputs["created"] != false || pl.Outputs["commit"] != head {
			t.Errorf("plan %+v", pl)
		}
	})
	t.Run("another staged file: it would fail", func(t *testing.T) {
		f.git(f.dir, "add", "new.md")
		pl := f.plan(commitWith("CHANGELOG.md"))
		if !strings.Contains(pl.Summary, `it fails now: 1 other file is staged, not among paths: "new.md"`) {
			t.Errorf("plan %q", pl.Summary)
		}
	})
}
