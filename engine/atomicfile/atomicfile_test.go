package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// TestStaleTempFilesGoLiveOnesStay: a temp file nobody holds (its writer
// was killed) is removed by the next write of the same file; one a live
// writer holds is not.
func TestStaleTempFilesGoLiveOnesStay(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "episodes.zip")
	stale := filepath.Join(dir, ".episodes.zip.tmp-0123456789ab")
	os.WriteFile(stale, []byte("half of a zip from a killed run"), 0o644)
	other := filepath.Join(dir, ".other.zip.tmp-1")
	os.WriteFile(other, []byte("another file's temp"), 0o644)
	live, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abort()
	if _, err := os.Stat(stale); err == nil {
		t.Error("the stale temp file of a killed run is still there")
	}
	if _, err := os.Stat(other); err != nil {
		t.Error("the temp file of another destination was removed")
	}
	second, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Abort()
	if _, err := os.Stat(live.Name()); err != nil {
		t.Error("a live writer's temp file was removed")
	}
	if !atomicfile.IsTemp(live.Name(), dest) || atomicfile.IsTemp(dest, dest) {
		t.Error("IsTemp does not tell temp files from the destination")
	}
}

// TestOnlyNamesOfTheTempShapeAreEverRemoved: a user's ".x.tmp-notes" (or a
// folder an archive restored) is not a temp file, whatever its name starts
// with.
func TestOnlyNamesOfTheTempShapeAreEverRemoved(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "episodes.zip")
	mine := filepath.Join(dir, ".episodes.zip.tmp-notes")
	os.WriteFile(mine, []byte("a user's file"), 0o644)
	f, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.Abort()
	if _, err := os.Stat(mine); err != nil {
		t.Fatal("a user's file was taken for a stale temp file")
	}
}

// TestAFolderIsNeverReplaced: a folder at dest is refused before anything
// is written, with an error callers can tell (exit 2 for a user's path).
func TestAFolderIsNeverReplaced(t *testing.T) {
	dir := t.TempDir()
	dest := filepath.Join(dir, "out")
	if err := os.Mkdir(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := atomicfile.Create(dest, 0o644); !errors.Is(err, atomicfile.ErrNotRegular) || !strings.Contains(err.Error(), "a folder") {
		t.Errorf("Create over a folder = %v, want ErrNotRegular naming a folder", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("files left behind: %v", entries)
	}
}
