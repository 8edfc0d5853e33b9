package github

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/export"
)

// TestTheWorkflowNameIsOneLineWithNoExpression: the recipe's name is the
// workflow's name:, where GitHub reads ${{ }}.
func TestTheWorkflowNameIsOneLineWithNoExpression(t *testing.T) {
	w := exportText(t, `version: 1
name: "x ${{ github.token }}\n---\nkind: Pod\u2028y"
tasks:
  a: {uses: shell, with: {run: echo 1}}
`, export.Options{RunnerVersion: "v1.0.0"})
	data, _, err := render(w, clock)
	if err != nil {
		t.Fatal(err)
	}
	lint(t, "name.yml", data)
	var doc struct {
		Name string `yaml:"name"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if want := "x ${{ '${{' }} github.token }} --- kind: Pod y"; doc.Name != want {
		t.Errorf("name = %q, want %q", doc.Name, want)
	}
}

// TestAnImageThatIsNoReferenceIsRefused: GitHub evaluates ${{ }} in
// container:, and Render may get a Workflow built elsewhere.
func TestAnImageThatIsNoReferenceIsRefused(t *testing.T) {
	w := exportText(t, "version: 1\nname: i\ntasks:\n  a: {uses: shell, with: {run: echo 1}}\n", export.Options{})
	for _, img := range []string{"${{ github.token }}", "img 1", "img\nx"} {
		w.Options.Image = img
		if _, _, err := render(w, clock); err == nil || !strings.Contains(err.Error(), "not a container image reference") {
			t.Errorf("--image %q: err = %v", img, err)
		}
	}
}

// TestTheHeaderKeepsEveryValueInTheComment: a line break in a value the
// header shows would end the comment and add keys (defaults: runs a shell
// of the attacker's in every job).
func TestTheHeaderKeepsEveryValueInTheComment(t *testing.T) {
	w := exportText(t, "version: 1\nname: h\ntasks:\n  a: {uses: shell, with: {run: echo 1}}\n", export.Options{RunnerVersion: "v1.0.0"})
	w.Options.Recipe = "r\ndefaults: {run: {shell: evil}}\n#.yaml"
	w.Options.State = "s3://b/p\rdefaults: 1\n#"
	data, _, err := render(w, clock)
	if err != nil {
		t.Fatal(err)
	}
	lint(t, "header.yml", data)
	if strings.Contains(string(data), "\ndefaults:") {
		t.Errorf("a key was added:\n%s", data)
	}
}
