package tasks_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// corpus writes a tree that exercises the zip task: Hangul names, nesting,
// an empty directory and file, a symlink, an executable, an
// already-compressed file, and a file of several 1 MiB chunks.
func corpus(t *testing.T) (string, map[string][]byte) {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	big := make([]byte, 3<<20+12345)
	for i := range big {
		if i%7 == 0 {
			big[i] = byte(rng.IntN(256))
		} else {
			big[i] = "제1화 새벽 네 시, 서고의 불이 "[i%20]
		}
	}
	files := map[string][]byte{
		"episodes/제1화.md":          []byte("# 제1화 첫 번째 문\n\n새벽 네 시, 서고의 불이 하나씩 꺼졌다.\n"),
		"episodes/제10화.md":         bytes.Repeat([]byte("그녀는 펜을 들었다. "), 500),
		"episodes/images/표지.jpg":   {0xff, 0xd8, 0xff, 0xe0, 1, 2, 3},
		"big/graph.bin":            big,
		"empty.txt":                {},
		"bin/run.sh":               []byte("#!/bin/sh\necho hi\n"),
		"notes/drafts/scratch.tmp": []byte("temporary"),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, "bin/run.sh"), 0o755)
	os.Mkdir(filepath.Join(dir, "empty-dir"), 0o755)
	os.Symlink("제1화.md", filepath.Join(dir, "episodes/latest.md"))
	return dir, files
}

func readZip(t *testing.T, path string) map[string]*zip.File {
	t.Helper()
	r, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	out := map[string]*zip.File{}
	var names []string
	for _, f := range r.File {
		out[f.Name] = f
		names = append(names, f.Name)
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("entries not in sorted order: %v", names)
	}
	return out
}

func TestZipRoundTripsNamesBytesAndModes(t *testing.T) {
	src, files := corpus(t)
	dest := filepath.Join(t.TempDir(), "episodes.zip")
	out, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": dest})
	if err != nil {
		t.Fatal(err)
	}
	entries := readZip(t, dest)
	if out["files"] != 8 || out["path"] != dest {
		t.Errorf("outputs %v", out)
	}
	for name, want := range files {
		f := entries[name]
		if f == nil {
			t.Errorf("%s missing", name)
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rc) // checks the CRC too
		rc.Close()
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, err %v; want %d bytes", name, len(got), err, len(want))
		}
		if strings.ContainsFunc(name, func(r rune) bool { return r > 127 }) && f.Flags&0x800 == 0 {
			t.Errorf("%s: Hangul name without the UTF-8 flag", name)
		}
	}
	if m := entries["episodes/images/표지.jpg"].Method; m != zip.Store {
		t.Errorf("jpg method %d, want stored", m)
	}
	if m := entries["episodes/제10화.md"].Method; m != zip.Deflate {
		t.Errorf("md method %d, want deflated", m)
	}
	if mode := entries["bin/run.sh"].Mode(); mode.Perm() != 0o755 {
		t.Errorf("run.sh mode %v", mode)
	}
	if l := entries["episodes/latest.md"]; l == nil || l.Mode()&os.ModeSymlink == 0 {
		t.Errorf("symlink not kept as a symlink")
	}
	if d := entries["empty-dir/"]; d == nil || !d.Mode().IsDir() {
		t.Errorf("empty directory missing")
	}
	sum := sha256.New()
	data, _ := os.ReadFile(dest)
	sum.Write(data)
	if out["bytes"] != int64(len(data)) || out["sha256"] != sprintHex(sum.Sum(nil)) {
		t.Errorf("bytes/sha256 outputs do not match the file")
	}

	// Info-ZIP, the reference unzip, agrees: integrity, names and bytes.
	if msg, err := exec.Command("unzip", "-tq", dest).CombinedOutput(); err != nil {
		t.Fatalf("unzip -t: %v\n%s", err, msg)
	}
	x := t.TempDir()
	if msg, err := exec.Command("unzip", "-q", dest, "-d", x).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v\n%s", err, msg)
	}
	for name, want := range files {
		if got, err := os.ReadFile(filepath.Join(x, name)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("unzip's %s differs (%v)", name, err)
		}
	}
}

func sprintHex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

func TestZipIsReproducible(t *testing.T) {
	src, _ := corpus(t)
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.zip"), filepath.Join(dir, "b.zip")
	if _, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": a, "reproducible": true}); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Hour)
	filepath.Walk(src, func(p string, _ os.FileInfo, _ error) error { os.Chtimes(p, later, later); return nil })
	if _, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": b, "reproducible": true}); err != nil {
		t.Fatal(err)
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Fatal("same files, different mtimes: the archives differ")
	}
	// Without reproducible, the times are kept.
	c := filepath.Join(dir, "c.zip")
	runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": c})
	if f := readZip(t, c)["empty.txt"]; f.Modified.Unix() != later.Unix() {
		t.Errorf("modified %v, want %v", f.Modified, later)
	}
}

func TestZipIncludeAndExclude(t *testing.T) {
	src, _ := corpus(t)
	dest := filepath.Join(src, "out", "md.zip") // inside src: must not pack itself
	out, _, err := runTask(context.Background(), t, "zip", src, map[string]any{
		"src": ".", "dest": "out/md.zip", "include": []any{"**/*.md", "**/*.tmp"}, "exclude": []any{"*.tmp", "episodes/latest.md"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for name := range readZip(t, dest) {
		names = append(names, name)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "episodes/제10화.md,episodes/제1화.md" || out["files"] != 2 {
		t.Fatalf("packed %v", names)
	}
	// A second run does not pack the first run's archive.
	if _, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": ".", "dest": "out/md.zip"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := readZip(t, dest)["out/md.zip"]; ok {
		t.Fatal("the archive packed itself")
	}
}

func TestZipFailureLeavesTheLastGoodArchive(t *testing.T) {
	src, _ := corpus(t)
	dir := t.TempDir()
	dest := filepath.Join(dir, "episodes.zip")
	os.WriteFile(dest, []byte("last good backup"), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := runTask(ctx, t, "zip", src, map[string]any{"src": ".", "dest": dest}); err == nil {
		t.Fatal("a cancelled zip succeeded")
	}
	if data, _ := os.ReadFile(dest); string(data) != "last good backup" {
		t.Fatalf("dest = %q", data)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temp files left: %v", entries)
	}
	if _, _, err := runTask(context.Background(), t, "zip", src, map[string]any{"src": "no-such-dir", "dest": dest}); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("missing src: %v", err)
	}
}
