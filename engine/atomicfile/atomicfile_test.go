package atomicfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/novelfactory/runner/engine/atomicfile"
)

func TestAbortLeavesTheOldFileAndNoTemp(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "backup.zip")
	os.WriteFile(dest, []byte("last good"), 0o644)
	f, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("half of a new one"))
	f.Abort()
	if data, _ := os.ReadFile(dest); string(data) != "last good" {
		t.Fatalf("dest = %q after abort", data)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temp files left behind: %v", entries)
	}
}

func TestCommitReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "sub", "state.json")
	if err := atomicfile.WriteFile(dest, []byte("one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(dest, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(dest)
	info, _ := os.Stat(dest)
	if string(data) != "two" || info.Mode().Perm() != 0o600 {
		t.Fatalf("got %q %v", data, info.Mode())
	}
	f, _ := atomicfile.Create(dest, 0o644)
	f.Commit()
	f.Abort() // after Commit: a no-op, so `defer f.Abort()` is safe
	if _, err := os.Stat(dest); err != nil {
		t.Fatal("Abort after Commit removed the file")
	}
}
