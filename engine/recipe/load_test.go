package recipe_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/recipe"
)

var wantRe = regexp.MustCompile(`^# want: (\d+):(\d+) (.+)$`)

type want struct {
	line, col int
	fragment  string
}

// readWants reads the "# want: LINE:COL fragment" comments of a test recipe.
func readWants(t *testing.T, path string) []want {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var wants []want
	for _, line := range strings.Split(string(data), "\n") {
		if m := wantRe.FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			l, _ := strconv.Atoi(m[1])
			c, _ := strconv.Atoi(m[2])
			wants = append(wants, want{l, c, m[3]})
		}
	}
	if len(wants) == 0 {
		t.Fatalf("%s has no # want: comment", path)
	}
	return wants
}

// TestInvalidRecipes loads every recipe under testdata/invalid and checks
// that exactly the expected diagnostics come out, each at its line:col.
func TestInvalidRecipes(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 25 {
		t.Fatalf("only %d invalid recipes; the suite should cover at least 25 mistakes", len(files))
	}
	for _, path := range files {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name+" is rejected at its line and column", func(t *testing.T) {
			wants := readWants(t, path)
			_, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
			var got diag.List
			if !errors.As(err, &got) {
				t.Fatalf("want diagnostics, got %v", err)
			}
			for _, w := range wants {
				found := false
				for _, d := range got {
					if d.Line == w.line && d.Col == w.col && strings.Contains(d.Msg, w.fragment) && d.File == path {
						found = true
					}
				}
				if !found {
					t.Errorf("missing %s:%d:%d: …%s…\ngot:\n%v", path, w.line, w.col, w.fragment, got)
				}
			}
			if len(got) != len(wants) {
				t.Errorf("got %d diagnostics, want %d:\n%v", len(got), len(wants), got)
			}
		})
	}
}

func TestValidRecipesLoad(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	if len(files) == 0 {
		t.Fatal("no valid recipes under testdata/valid")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := recipe.Load(path, recipe.Options{Registry: testRegistry()}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func writeRecipe(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestVarPrecedence(t *testing.T) {
	dir := t.TempDir()
	path := writeRecipe(t, dir, "r.yaml", `version: 1
vars:
  a: recipe
  b: recipe
  c: recipe
  d: recipe
  n: 1
tasks:
  t:
    uses: echo
    with: {message: "${{ vars.a }}"}
`)
	f1 := writeRecipe(t, dir, "v1.yaml", "b: file1\nc: file1\nd: file1\nextra: file1\n")
	f2 := writeRecipe(t, dir, "v2.yaml", "c: file2\nd: file2\n")
	r, err := recipe.Load(path, recipe.Options{
		Registry: testRegistry(),
		VarFiles: []string{f1, f2},
		Sets:     []string{"d=set1", "d=set2", "n=7"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": "recipe", "b": "file1", "c": "file2", "d": "set2", "extra": "file1", "n": 7}
	for name, w := range want {
		v := r.Var(name)
		if v == nil {
			t.Errorf("var %s missing", name)
			continue
		}
		got, _ := v.Value.Eval(nil)
		if fmt.Sprint(got) != fmt.Sprint(w) || fmt.Sprintf("%T", got) != fmt.Sprintf("%T", w) {
			t.Errorf("var %s = %#v, want %#v", name, got, w)
		}
	}
}

func TestSetRejectsUndeclaredAndMistypedVars(t *testing.T) {
	dir := t.TempDir()
	path := writeRecipe(t, dir, "r.yaml", "version: 1\nvars: {project: Pilot, jobs: 2}\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	cases := map[string]string{
		"projet=x":                 `declares no var "projet" (did you mean "project"?)`,
		"jobs=many":                `var "jobs" takes an integer`,
		"novalue":                  `--set takes NAME=VALUE`,
		"api_tokne=tok-0123456789": `declares no var "api_tokne"`,
		"jobs=tok-0123456789":      `var "jobs" takes an integer`,
		"tok-0123456789":           `--set takes NAME=VALUE`,
	}
	for set, fragment := range cases {
		t.Run(set, func(t *testing.T) {
			_, err := recipe.Load(path, recipe.Options{Registry: testRegistry(), Sets: []string{set}})
			if err == nil || !strings.Contains(err.Error(), fragment) {
				t.Fatalf("got %v, want …%s…", err, fragment)
			}
			// A misspelt secret var is not known to be a secret: its value is
			// never repeated.
			if strings.Contains(err.Error(), "tok-0123456789") || strings.Contains(err.Error(), "many") {
				t.Fatalf("the value was echoed: %v", err)
			}
		})
	}
}

func TestIncludeMergesTasksAndVars(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "common"), 0o755)
	writeRecipe(t, dir, "common/base.yaml", `version: 1
vars: {who: base, shared: base}
tasks:
  prepare:
    uses: echo
    with: {message: "${{ vars.who }}"}
`)
	path := writeRecipe(t, dir, "main.yaml", `version: 1
include: [common/base.yaml]
vars: {who: main}
tasks:
  main:
    uses: echo
    needs: [prepare]
    with: {message: "${{ tasks.prepare.outputs.text }} ${{ vars.shared }}"}
`)
	r, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Tasks) != 2 || r.Tasks[0].ID != "prepare" || r.Tasks[1].ID != "main" {
		t.Fatalf("tasks = %v", r.Tasks)
	}
	if r.Tasks[0].Dir != filepath.Join(dir, "common") {
		t.Errorf("included task's dir = %s, want its own file's directory", r.Tasks[0].Dir)
	}
	who, _ := r.Var("who").Value.Eval(nil)
	if who != "main" {
		t.Errorf("vars.who = %v: the including file must win", who)
	}
}

func TestIncludeRejectsClashesAndCycles(t *testing.T) {
	dir := t.TempDir()
	writeRecipe(t, dir, "a.yaml", "version: 1\ninclude: [b.yaml]\ntasks:\n  x:\n    uses: echo\n    with: {message: a}\n")
	writeRecipe(t, dir, "b.yaml", "version: 1\ninclude: [a.yaml]\ntasks:\n  x:\n    uses: echo\n    with: {message: b}\n")
	_, err := recipe.Load(filepath.Join(dir, "a.yaml"), recipe.Options{Registry: testRegistry()})
	if err == nil {
		t.Fatal("want errors")
	}
	for _, fragment := range []string{"include cycle", `task id "x" is already used`} {
		if !strings.Contains(err.Error(), fragment) {
			t.Errorf("missing %q in:\n%v", fragment, err)
		}
	}
}

// TestAYAMLAliasBombIsRefusedAtOnce: nine levels of nine aliases in vars
// took over 1 GB in 3 s, ignored SIGINT and was killed for memory.
func TestAYAMLAliasBombIsRefusedAtOnce(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nvars:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&b, "  a%d: &a%d [", i, i)
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("tasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	path := writeRecipe(t, t.TempDir(), "r.yaml", b.String())
	_, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
	if err == nil || !strings.Contains(err.Error(), "a YAML alias bomb?") {
		t.Fatalf("err = %v", err)
	}
}

// TestARecipeOrVarsFileThatIsAPipeIsRefused: a recipe, --vars file or
// include that is a named pipe hung runner for ever, deaf to SIGTERM.
func TestARecipeOrVarsFileThatIsAPipeIsRefused(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "pipe.yaml")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	good := writeRecipe(t, dir, "r.yaml", "version: 1\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	included := writeRecipe(t, dir, "inc.yaml", "version: 1\ninclude: [pipe.yaml]\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	for name, load := range map[string]func() error{
		"recipe": func() error { _, err := recipe.Load(pipe, recipe.Options{Registry: testRegistry()}); return err },
		"--vars": func() error {
			_, err := recipe.Load(good, recipe.Options{Registry: testRegistry(), VarFiles: []string{pipe}})
			return err
		},
		"include": func() error { _, err := recipe.Load(included, recipe.Options{Registry: testRegistry()}); return err },
	} {
		if err := load(); err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
