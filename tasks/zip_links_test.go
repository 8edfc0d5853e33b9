package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree writes files (name → content) under a new folder and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestZipFollowsASymlinkedSource: episodes kept on another disk and linked
// into the factory were packed as "zipped 0 files", and that empty zip
// was uploaded as a complete backup.
func TestZipFollowsASymlinkedSource(t *testing.T) {
	disk := tree(t, map[string]string{"제1화.md": "첫 화", "제2화.md": "둘째 화", "sub/제3화.md": "셋째"})
	factory := t.TempDir()
	os.Symlink(disk, filepath.Join(factory, "episodes"))
	out, log, err := runTask(context.Background(), t, "zip", factory, map[string]any{"src": "episodes", "dest": "episodes.zip"})
	if err != nil {
		t.Fatal(err)
	}
	if out["files"] != 3 {
		t.Fatalf("zipped %v files, want 3\n%s", out["files"], log)
	}
	entries := readZip(t, filepath.Join(factory, "episodes.zip"))
	if entries["sub/제3화.md"] == nil {
		t.Fatalf("entries %v", entries)
	}
}

func TestZipRefusesAnEmptySource(t *testing.T) {
	empty := t.TempDir()
	os.Mkdir(filepath.Join(empty, "episodes"), 0o755)
	_, _, err := runTask(context.Background(), t, "zip", empty, map[string]any{"src": "episodes", "dest": "e.zip"})
	if err == nil || !strings.Contains(err.Error(), "an empty backup is refused") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(empty, "e.zip")); err == nil {
		t.Fatal("an empty zip was written")
	}
	// Filters that select nothing are the same case.
	src := tree(t, map[string]string{"a.txt": "x"})
	_, _, err = runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../f.zip", "include": []any{"*.md"}})
	if err == nil || !strings.Contains(err.Error(), "include/exclude") {
		t.Fatalf("err = %v", err)
	}
	out, _, err := runTask(context.Background(), t, "zip", empty, map[string]any{"src": "episodes", "dest": "e.zip", "allow_empty": true})
	if err != nil || out["files"] != 0 {
		t.Fatalf("allow_empty: %v %v", out, err)
	}
}

// TestZipLinksInsideAreStoredSoUnzipRestoresThem packs links of every
// shape that stays inside src — beside, up and over, absolute, through
// another link, to a folder — and unzips the archive with runner's own
// unzip: whatever zip accepts, unzip must restore.
func TestZipLinksInsideAreStoredSoUnzipRestoresThem(t *testing.T) {
	src := tree(t, map[string]string{"ep/1.md": "one", "ep/2.md": "two", "notes/n.md": "note"})
	links := map[string]string{
		"ep/latest.md":     "2.md",
		"notes/first.md":   "../ep/1.md",
		"abs.md":           filepath.Join(src, "ep/1.md"),
		"chain.md":         "ep/latest.md", // a link to a link: stored as a link to the file
		"dotdot.md":        "ep/../ep/2.md",
		"all-episodes":     "ep",
		"notes/back-to-ep": "../ep",
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(src, name)); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	if _, log, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": filepath.Join(dir, "b.zip")}); err != nil {
		t.Fatalf("zip: %v\n%s", err, log)
	}
	entries := readZip(t, filepath.Join(dir, "b.zip"))
	for name := range links {
		if f := entries[name]; f == nil || f.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s not stored as a link", name)
		}
	}
	if _, log, err := runTask(context.Background(), t, "unzip", dir, map[string]any{"src": "b.zip", "dest": "restored"}); err != nil {
		t.Fatalf("unzip refused what zip accepted: %v\n%s", err, log)
	}
	for name, want := range map[string]string{"ep/latest.md": "two", "notes/first.md": "one", "abs.md": "one", "chain.md": "two", "dotdot.md": "two", "all-episodes/1.md": "one", "notes/back-to-ep/2.md": "two"} {
		if got, err := os.ReadFile(filepath.Join(dir, "restored", name)); err != nil || string(got) != want {
			t.Errorf("restored %s = %q, %v; want %q", name, got, err, want)
		}
	}
}

// TestZipLinksOutsideAreRefusedAtBackupTime: such a link was stored, the
// backup succeeded, and restore refused the whole archive months later.
func TestZipLinksOutsideAreRefusedAtBackupTime(t *testing.T) {
	outside := tree(t, map[string]string{"secret.md": "elsewhere"})
	for name, target := range map[string]string{
		"absolute": filepath.Join(outside, "secret.md"),
		"relative": "", // ../../…/secret.md, worked out below
		"the root": "/",
	} {
		t.Run(name, func(t *testing.T) {
			src := tree(t, map[string]string{"ep/1.md": "one"})
			if target == "" {
				target, _ = filepath.Rel(filepath.Join(src, "ep"), filepath.Join(outside, "secret.md"))
			}
			os.Symlink(target, filepath.Join(src, "ep/link.md"))
			_, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../x.zip"})
			if err == nil || !strings.Contains(err.Error(), `"ep/link.md": a symlink to`) || !strings.Contains(err.Error(), "links: follow") {
				t.Fatalf("err = %v", err)
			}
		})
	}
	// links: follow stores the file the link points to.
	src := tree(t, map[string]string{"ep/1.md": "one"})
	os.Symlink(filepath.Join(outside, "secret.md"), filepath.Join(src, "ep/link.md"))
	dir := t.TempDir()
	if _, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": filepath.Join(dir, "f.zip"), "links": "follow"}); err != nil {
		t.Fatal(err)
	}
	if f := readZip(t, filepath.Join(dir, "f.zip"))["ep/link.md"]; f == nil || !f.Mode().IsRegular() || f.UncompressedSize64 != uint64(len("elsewhere")) {
		t.Fatalf("followed link stored as %v", f)
	}
}

func TestZipFollowRefusesALinkLoop(t *testing.T) {
	src := tree(t, map[string]string{"ep/1.md": "one"})
	os.Symlink("..", filepath.Join(src, "ep/up"))
	_, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../x.zip", "links": "follow"})
	if err == nil || !strings.Contains(err.Error(), "never end") {
		t.Fatalf("err = %v", err)
	}
}

// TestZipLeavesOutDanglingLinksAndPipesAndSaysSo: neither holds data; the
// log names them.
func TestZipLeavesOutDanglingLinksAndPipesAndSaysSo(t *testing.T) {
	src := tree(t, map[string]string{"ep/1.md": "one"})
	os.Symlink("user@host.1234:1700000000", filepath.Join(src, "ep/.#1.md")) // an Emacs lock file
	if err := mkfifo(filepath.Join(src, "ep/pipe")); err != nil {
		t.Fatal(err)
	}
	out, log, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../x.zip"})
	if err != nil || out["files"] != 1 {
		t.Fatalf("%v %v\n%s", out, err, log)
	}
	if !strings.Contains(log, "left out ep/.#1.md: a symlink to nothing") || !strings.Contains(log, "left out ep/pipe: a named pipe") {
		t.Fatalf("log:\n%s", log)
	}
}

// TestZipRefusesNamesUnzipWouldRefuse: a file name with a backslash or
// bytes that are not UTF-8 is legal on Linux but restores wrong.
func TestZipRefusesNamesUnzipWouldRefuse(t *testing.T) {
	for _, name := range []string{`a\b.md`, "latin1-\xe9.md"} {
		src := tree(t, map[string]string{"ok.md": "x", name: "y"})
		_, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "../x.zip"})
		if err == nil || !strings.Contains(err.Error(), "unzip could not restore") {
			t.Fatalf("%q: err = %v", name, err)
		}
	}
}
