package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/novelfactory/runner/internal/testtools"
)

// runnerBin is the runner binary built once for the end-to-end tests, which
// run it as a user would: as a separate process.
var runnerBin string

func TestMain(m *testing.M) { testtools.MainWithRunner(m, ".", &runnerBin) }

// baseEnv is a clean environment for the runner under test: CI mode (plain
// lines), no inherited GITHUB_STEP_SUMMARY.
func baseEnv(extra ...string) []string { return testtools.BaseEnv(extra...) }

type result struct {
	stdout, stderr string
	code           int
}

// runner runs the binary in dir and waits for it.
func runner(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	r := testtools.Run(t, runnerBin, dir, env, args...)
	return result{r.Stdout, r.Stderr, r.Code}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

// readPID opens a fifo that a task writes its pid to, blocking until it does.
func readPID(t *testing.T, fifo string) int {
	t.Helper()
	data, err := os.ReadFile(fifo)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(strings.TrimSpace(string(data)), &pid); err != nil {
		t.Fatalf("pid from fifo: %q", data)
	}
	return pid
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func itoa(n int) string { return strconv.Itoa(n) }

func fmtSscan(s string, v any) (int, error) { return fmt.Sscan(strings.TrimSpace(s), v) }
