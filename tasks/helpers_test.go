package tasks_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// syncBuffer is a log for tests: like the real task log, it takes writes
// from the stdout and stderr copiers at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

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
