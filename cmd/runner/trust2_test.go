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
