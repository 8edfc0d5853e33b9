package tasks_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFieldDocsAreFresh regenerates the field docs and compares them with
// the checked-in file: run `go generate ./...` when it fails.
func TestFieldDocsAreFresh(t *testing.T) {
	out := filepath.Join(t.TempDir(), "docs.go")
	cmd := exec.Command("go", "run", "./internal/gendoc", "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gendoc: %v\n%s", err, msg)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile("zz_fielddocs.go")
	if string(got) != string(want) {
		t.Fatal("zz_fielddocs.go is stale: run `go generate ./...`")
	}
}

// nopProgress ignores progress reports.
type nopProgress struct{}

func (nopProgress) Progress(int64, int64) {}

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
