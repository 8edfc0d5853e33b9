package replace_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/replace"
)

func newType(t *testing.T) *tasktype.Type {
	t.Helper()
	r := tasktype.NewRegistry()
	replace.Register(r)
	typ, _ := r.Lookup("replace")
	return typ
}

func env(dir string) *tasktype.Env {
	return &tasktype.Env{Dir: dir, Log: io.Discard, Logger: slog.New(slog.DiscardHandler),
		Started: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
}

func write(t *testing.T, dir, name, text string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func run(t *testing.T, dir string, with map[string]any) (tasktype.Outputs, error) {
	t.Helper()
	typ := newType(t)
	p, err := typ.Decode(with, dir)
	if err != nil {
		return nil, err
	}
	return typ.Run(context.Background(), env(dir), p)
}

func plan(t *testing.T, dir string, with map[string]any) (tasktype.Plan, error) {
	t.Helper()
	typ := newType(t)
	p, err := typ.Decode(with, dir)
	if err != nil {
		return tasktype.Plan{}, err
	}
	return typ.Plan(context.Background(), env(dir), p)
}

const readme = `# 팩토리

Version: 10.2.0

![version](https://img.shields.io/badge/version-10.2.0-blue)
`

func readmeWith(version string) map[string]any {
	return map[string]any{
		"files": []any{"README.md"},
		"replacements": []any{
			map[string]any{"pattern": `^Version: .*$`, "with": "Version: " + version, "count": 1},
			map[string]any{"pattern": `(badge/version-)[^-]+(?:--[^-]+)*(-blue)`, "with": "${1}" + strings.ReplaceAll(version, "-", "--") + "${2}"},
		},
	}
}

func TestReplaceSetsTheVersionAndASecondRunChangesNothing(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "README.md", readme, 0o640)
	with := readmeWith("11.0.0-rc.1")

	p, err := plan(t, dir, with)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Summary, "would change 1 of 1 file (2 matches)") || !strings.Contains(p.Summary, `"README.md": 2 matches, would change`) {
		t.Errorf("plan %q", p.Summary)
	}
	if read(t, path) != readme {
		t.Fatal("the dry run wrote the file")
	}

	out, err := run(t, dir, with)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.NewReplacer("Version: 10.2.0", "Version: 11.0.0-rc.1", "version-10.2.0-blue", "version-11.0.0--rc.1-blue").Replace(readme)
	if got := read(t, path); got != want {
		t.Errorf("file:\n%s\nwant:\n%s", got, want)
	}
	if !reflect.DeepEqual(out["changed"], []string{"README.md"}) || out["matches"] != 2 {
		t.Errorf("outputs %v", out)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640 kept", info.Mode().Perm())
	}

	before, _ := os.Stat(path)
	again, err := run(t, dir, with)
	if err != nil {
		t.Fatalf("second run: %v", err)
	}
	after, _ := os.Stat(path)
	if len(again["changed"].([]string)) != 0 || again["matches"] != 2 || read(t, path) != want || !os.SameFile(before, after) {
		t.Errorf("the second run changed something: %v", again)
	}
}

func TestAPatternThatMatchesNothingOrTheWrongCountWritesNothing(t *testing.T) {
	for _, c := range []struct {
		name string
		repl map[string]any
		want string
	}{
		{"no match", map[string]any{"pattern": `^Release: .*$`, "with": "Release: 11"}, `pattern "^Release: .*$" matches nothing in README.md, b.md`},
		{"count", map[string]any{"pattern": `10\.2\.0`, "with": "11.0.0", "count": 1}, `b.md: pattern "10\\.2\\.0" matches 0 times, and count says 1`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := write(t, dir, "README.md", readme, 0o644)
			write(t, dir, "b.md", "Version: 1\n", 0o644)
			with := map[string]any{"files": []any{"README.md", "*.md"}, "replacements": []any{
				map[string]any{"pattern": `^Version: .*$`, "with": "Version: 2"}, c.repl}}
			_, err := run(t, dir, with)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
			if read(t, path) != readme || read(t, filepath.Join(dir, "b.md")) != "Version: 1\n" {
				t.Error("a refused run wrote a file")
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 2 {
				t.Errorf("files left: %v", entries)
			}
		})
	}
}

func TestCaptureGroupsHangulAndCRLF(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "docs/버전.txt", "제목: 봄\r\n버전 = \"1.0\"\r\n끝\r\n", 0o644)
	out, err := run(t, dir, map[string]any{"files": []any{"docs/**/*.txt"}, "replacements": []any{
		map[string]any{"pattern": `^(?P<key>버전) = "[^"]*"$`, "with": `${key} = "2.0"`},
		map[string]any{"pattern": `^제목: (.*)$`, "with": `제목: $1 (여름)`},
		map[string]any{"pattern": `$`, "with": `$$`, "literal": true, "count": 4},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := read(t, path), "제목: 봄 (여름)$$\r\n버전 = \"2.0\"$$\r\n끝$$\r\n$$"; got != want {
		t.Errorf("file %q, want %q", got, want)
	}
	if out["matches"] != 6 || !reflect.DeepEqual(out["changed"], []string{"docs/버전.txt"}) {
		t.Errorf("outputs %v", out)
	}
}

func TestReplaceRefusesWhatItCannotEditSafely(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "bin.dat", "Version: 1\x00\n", 0o644)
	write(t, dir, "latin1.txt", "Version: caf\xe9\n", 0o644)
	write(t, dir, "ok.md", "Version: 1\n", 0o644)
	for _, c := range []struct {
		name string
		with map[string]any
		want string
	}{
		{"binary", map[string]any{"files": []any{"bin.dat"}}, "not text (a NUL byte at offset 10)"},
		{"invalid UTF-8", map[string]any{"files": []any{"latin1.txt"}}, "not UTF-8 text (an invalid byte at offset 12)"},
		{"a glob matching nothing", map[string]any{"files": []any{"*.rst"}}, "matches no file"},
		{"an unknown group", map[string]any{"files": []any{"ok.md"}, "pattern": `^(Version): .*$`, "with": "$1x: 2"}, "write ${1}x for group 1"},
		{"a bad pattern", map[string]any{"files": []any{"ok.md"}, "pattern": `^Version: (.*$`}, "missing closing )"},
	} {
		t.Run(c.name, func(t *testing.T) {
			repl := map[string]any{"pattern": `^Version: .*$`, "with": "Version: 2"}
			for _, k := range []string{"pattern", "with"} {
				if v, ok := c.with[k]; ok {
					repl[k] = v
					delete(c.with, k)
				}
			}
			c.with["replacements"] = []any{repl}
			_, err := run(t, dir, c.with)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
	if read(t, filepath.Join(dir, "ok.md")) != "Version: 1\n" {
		t.Error("a refused run wrote ok.md")
	}
}

func TestALinkIsEditedThrough(t *testing.T) {
	dir := t.TempDir()
	target := write(t, dir, "docs/README.md", readme, 0o644)
	if err := os.Symlink("docs/README.md", filepath.Join(dir, "README.md")); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, readmeWith("11.0.0")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(dir, "README.md")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("the link was replaced by a file")
	}
	if !strings.Contains(read(t, target), "Version: 11.0.0") {
		t.Error("the linked file was not edited")
	}
}

// TestALinkLeadingOutOfItsFolderIsRefused: README.md → ../outside.md
// (hostile review of issue 14) is not written through, in a run or a plan.
func TestALinkLeadingOutOfItsFolderIsRefused(t *testing.T) {
	root := t.TempDir()
	outside := write(t, root, "outside.md", readme, 0o644)
	dir := filepath.Join(root, "repo")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../outside.md", filepath.Join(dir, "README.md")); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, dir, readmeWith("11.0.0"))
	if err == nil || !strings.Contains(err.Error(), "outside its folder") {
		t.Errorf("run: %v, want a refusal naming the link", err)
	}
	if read(t, outside) != readme {
		t.Error("the file outside was rewritten")
	}
}
