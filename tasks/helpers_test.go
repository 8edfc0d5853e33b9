package tasks_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFieldDocsAreFresh regenerates the field docs of every task package
// that has them, and of the recipe grammar, and compares them with the checked-in files: run
// `go generate ./...` when it fails.
func TestFieldDocsAreFresh(t *testing.T) {
	files, err := filepath.Glob("*/zz_fielddocs.go")
	if err != nil {
		t.Fatal(err)
	}
	internal, _ := filepath.Glob("internal/*/zz_fielddocs.go")
	grammar, _ := filepath.Glob("../engine/recipe/zz_fielddocs.go") // the recipe file's own keys
	files = append(append(files, internal...), grammar...)
	if len(files) < 15 {
		t.Fatalf("found field docs in %d packages, want one per task type at least: %v", len(files), files)
	}
	gendoc, err := filepath.Abs("../internal/gendoc")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"run", gendoc, "-o", filepath.Join(t.TempDir(), "docs.go")}
		if strings.Contains(string(got), "func FieldDoc(") {
			args = append(args, "-export")
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = filepath.Dir(file)
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gendoc in %s: %v\n%s", cmd.Dir, err, msg)
		}
		want, _ := os.ReadFile(args[3])
		if string(got) != string(want) {
			t.Errorf("%s is stale: run `go generate ./...`", file)
		}
	}
}

// nopProgress ignores progress reports.
type nopProgress struct{}

func (nopProgress) Progress(int64, int64) {}

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
