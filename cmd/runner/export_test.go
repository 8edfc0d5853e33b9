package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const secretRecipe = `version: 1
name: sec
vars:
  hook: ""
  label: plain
secrets: [hook]
tasks:
  a:
    uses: shell
    with: {run: "echo ${{ vars.hook }} ${{ vars.label }}"}
`

// runner export says what is missing or wrong before it writes anything.
func TestExportRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), secretRecipe)
	out := filepath.Join(dir, "wf.yaml")
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no target", nil, []string{"export", "r.yaml", "--state", "s3://b/p"}, "export needs --to: one of argo, github"},
		{"unknown target", nil, []string{"export", "r.yaml", "--to", "airflow", "--state", "s3://b/p"}, `--to "airflow": runner exports to argo, github`},
		{"argo without an image", nil, []string{"export", "r.yaml", "--to", "argo", "--state", "s3://b/p"}, "--to argo needs --image"},
		{"no state store", nil, []string{"export", "r.yaml", "--to", "github"}, "export needs --state"},
		{"a secret var set on the command line", nil, []string{"export", "r.yaml", "--to", "github", "--state", "s3://b/p", "--set", "hook=https://hooks.example/T000/B000/abcdef"}, "--set hook: hook is a secret of the recipe"},
		{"a secret of the environment in a --set", []string{"NOTIFY_TOKEN=tok-0123456789"}, []string{"export", "r.yaml", "--to", "github", "--state", "s3://b/p", "--set", "label=tok-0123456789"}, "the workflow would hold a secret value"},
		{"a secret name that is no env name", nil, []string{"export", "r.yaml", "--to", "github", "--state", "s3://b/p", "--secret", "MY-TOKEN", "-o", "wf.yaml"}, `--secret "MY-TOKEN": give the name of an environment variable`},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := runner(t, dir, baseEnv(c.env...), append(c.args, "-o", "wf.yaml")...)
			if res.code != 2 || !strings.Contains(res.stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", res.code, res.stderr, c.want)
			}
			if strings.Contains(res.stderr+res.stdout, "tok-0123456789") || strings.Contains(res.stderr+res.stdout, "abcdef") {
				t.Errorf("a secret is printed: %s", res.stderr)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("%s was written", out)
			}
		})
	}
}
