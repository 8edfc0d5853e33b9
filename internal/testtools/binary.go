package testtools

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// MainWithRunner is the TestMain of a package of end-to-end tests: it
// builds the runner command of package dir (BuildRunner), sets *bin to the
// binary, runs the tests, removes the binary and exits with their code.
func MainWithRunner(m *testing.M, dir string, bin *string) {
	path, cleanup, err := BuildRunner(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*bin = path
	code := m.Run()
	cleanup()
	os.Exit(code)
}

// BuildRunner builds the runner command of package dir (a path such as
// "." or "..") into a new temporary folder, for end-to-end tests that run
// it as a user would. It returns the binary and a func that removes it.
func BuildRunner(dir string) (string, func(), error) {
	tmp, err := os.MkdirTemp("", "runner-bin-")
	if err != nil {
		return "", nil, fmt.Errorf("build runner: %w", err)
	}
	bin := filepath.Join(tmp, "runner")
	build := exec.Command("go", "build", "-o", bin, dir)
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(tmp)
		return "", nil, fmt.Errorf("build runner: %w", err)
	}
	return bin, func() { os.RemoveAll(tmp) }, nil
}

// BaseEnv is a clean environment for runner under test: PATH and HOME
// from this process, CI mode (plain lines), UTF-8; nothing else inherited
// (no GITHUB_* or AWS_* settings), then extra.
func BaseEnv(extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "CI=true", "LANG=C.UTF-8"}
	return append(env, extra...)
}

// Result is what a command run by Run printed and how it ended.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Run runs bin with args in dir, with exactly the environment env, and
// waits for it. A command that cannot start fails the test; a non-zero
// exit is a Result.
func Run(tb testing.TB, bin, dir string, env []string, args ...string) Result {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		tb.Fatal(err)
	}
	return Result{out.String(), errb.String(), code}
}

// ZipFiles reads every file of a ZIP archive: name → content (folders
// left out).
func ZipFiles(tb testing.TB, path string) map[string][]byte {
	tb.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	files := map[string][]byte{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatalf("read %s of %s: %v", f.Name, path, err)
		}
		files[f.Name] = data
	}
	return files
}
