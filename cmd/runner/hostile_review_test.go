package main

import (
	"encoding/json"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretsInEveryShapeStayMasked runs plan, plan -o json and apply -o
// json on a recipe whose secrets hold an apostrophe (the plan's shell
// quoting used to print it as it'\”s, which the masker did not know), a
// map of credentials (members were not secrets) and JSON that a task
// prints (escaped twice in the JSON events). Hostile review of issue 11,
// findings 4, 5, 6 and 11.
func TestSecretsInEveryShapeStayMasked(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
vars:
  phrase: "it's-a-pass phrase"
  creds:
    user: factory
    password: map-member-pw-42
    keys: [list-member-key-17]
secrets: [phrase, creds]
tasks:
  show:
    uses: shell
    with:
      run: |
        echo "${{ vars.phrase }}"
        echo '{"pw": "${{ vars.creds.password }}", "k": "${{ vars.creds["keys"][0] }}"}'
        echo done
`)
	env := baseEnv()
	outputs := map[string]result{
		"plan":      runner(t, dir, env, "plan", "r.yaml"),
		"plan json": runner(t, dir, env, "plan", "r.yaml", "-o", "json"),
		"apply":     runner(t, dir, env, "apply", "r.yaml", "-o", "json"),
	}
	for name, res := range outputs {
		if res.code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", name, res.code, res.stdout, res.stderr)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(outputs["apply"].stdout), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("not JSON: %v: %s", err, line)
		}
	}
	if !strings.Contains(outputs["apply"].stdout, `"line":"done"`) {
		t.Errorf("the run's output is missing:\n%s", outputs["apply"].stdout)
	}
	texts := map[string]string{}
	for name, res := range outputs {
		texts[name] = res.stdout + res.stderr
	}
	filepath.WalkDir(filepath.Join(dir, ".runner"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			texts[path] = readFile(t, path)
		}
		return nil
	})
	for where, text := range texts {
		for _, piece := range []string{"pass phrase", "map-member-pw", "list-member-key"} {
			if strings.Contains(text, piece) {
				t.Errorf("%s shows %q:\n%s", where, piece, text)
			}
		}
	}
}
