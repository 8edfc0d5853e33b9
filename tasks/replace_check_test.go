package tasks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/recipe"
)

// TestReplacePatternsAreCheckedAtTheirOwnLine: a replace pattern that is
// not RE2, or a with naming a group the pattern lacks, is found when the
// recipe is validated, at the value at fault.
func TestReplacePatternsAreCheckedAtTheirOwnLine(t *testing.T) {
	head := "    uses: replace\n    with:\n      files: [README.md]\n      replacements:\n"
	cases := map[string]string{
		"        - pattern: '^Version: (.*$'\n          with: x\n":         `r.yaml:8:20: task "t": with.replacements[0].pattern: not a Go (RE2) regular expression: missing closing )`,
		"        - pattern: '^(Version): .*$'\n          with: '$1x: 2'\n": `r.yaml:9:17: task "t": with.replacements[0].with: $1x names no group of the pattern (write ${1}x for group 1 followed by x`,
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	for body, want := range cases {
		if err := os.WriteFile(path, []byte("version: 1\ntasks:\n  t:\n"+head+body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := recipe.Load(path, recipe.Options{})
		if err == nil || !strings.Contains(err.Error(), strings.Replace(want, "r.yaml", path, 1)) {
			t.Errorf("got %v\nwant …%s…", err, want)
		}
	}
}
