package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIncludeDirLetsARecipeIncludeOutsideItsFolder: include: is kept to the
// recipe's folder tree; --include-dir opens one more folder, for validate,
// plan, apply and graph alike.
func TestIncludeDirLetsARecipeIncludeOutsideItsFolder(t *testing.T) {
	shared := t.TempDir()
	writeFile(t, filepath.Join(shared, "common.yaml"), "version: 1\ntasks:\n  common:\n    uses: shell\n    with: {run: echo common}\n")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), "version: 1\ninclude: ["+filepath.Join(shared, "common.yaml")+"]\ntasks:\n  main:\n    uses: shell\n    needs: [common]\n    with: {run: echo main}\n")
	res := runner(t, dir, baseEnv(), "validate", "r.yaml")
	if res.code != 2 || !strings.Contains(res.stderr, "r.yaml:2:11: cannot include "+filepath.Join(shared, "common.yaml")+": it is outside the recipe's folder") {
		t.Fatalf("validate without --include-dir: exit %d\n%s", res.code, res.stderr)
	}
	for _, args := range [][]string{
		{"validate", "r.yaml", "--include-dir", shared},
		{"plan", "r.yaml", "--include-dir", shared},
		{"apply", "r.yaml", "--include-dir", shared},
		{"graph", "r.yaml", "--include-dir", shared},
	} {
		if res := runner(t, dir, baseEnv(), args...); res.code != 0 {
			t.Errorf("%s: exit %d\n%s%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".runner")); err != nil {
		t.Errorf("apply left no state: %v", err)
	}
}

// TestAbsurdNumbersAreUsageErrors: --jobs 0 and -1 silently meant "the
// number of CPUs"; a negative retry delay was accepted.
func TestAbsurdNumbersAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), "version: 1\ntasks:\n  t:\n    uses: shell\n    with: {run: \"true\"}\n")
	for _, jobs := range []string{"0", "-1"} {
		res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--jobs", jobs)
		if res.code != 2 || !strings.Contains(res.stderr, "--jobs "+jobs+": give a number of tasks at once, 1 or more") {
			t.Errorf("--jobs %s: exit %d\n%s", jobs, res.code, res.stderr)
		}
	}
	writeFile(t, filepath.Join(dir, "neg.yaml"), "version: 1\ntasks:\n  t:\n    uses: shell\n    retry: {attempts: 3, delay: -5s}\n    with: {run: \"true\"}\n")
	if res := runner(t, dir, baseEnv(), "validate", "neg.yaml"); res.code != 2 || !strings.Contains(res.stderr, "neg.yaml:5:33: task \"t\": retry.delay: -5s is negative") {
		t.Errorf("delay -5s: exit %d\n%s", res.code, res.stderr)
	}
}
