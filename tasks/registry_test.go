package tasks_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/tasktype"
)

// update rewrites generated text (the README's table of task types) instead
// of comparing it: go test ./tasks -run README -update.
var update = flag.Bool("update", false, "rewrite generated files instead of comparing them")

// TestEveryTypeIsDocumented walks the registry: every type has a summary, a
// doc, at least one example, and a doc for each param and output.
func TestEveryTypeIsDocumented(t *testing.T) {
	all := tasktype.Builtin().All()
	if len(all) < 15 {
		t.Fatalf("%d built-in types registered, want 15 or more", len(all))
	}
	for _, typ := range all {
		if typ.Summary == "" || typ.Doc == "" {
			t.Errorf("%s: no summary or doc", typ.Name)
		}
		if len(typ.Examples) == 0 {
			t.Errorf("%s: no example", typ.Name)
		}
		var walk func(prefix string, fields []*params.Field)
		walk = func(prefix string, fields []*params.Field) {
			for _, f := range fields {
				if strings.TrimSpace(f.Doc) == "" {
					t.Errorf("%s: param %s%s has no doc comment", typ.Name, prefix, f.Name)
				}
				if f.Type.Kind == params.Object {
					walk(prefix+f.Name+".", f.Type.Fields)
				}
				if f.Type.Kind == params.List && f.Type.Elem.Kind == params.Object {
					walk(prefix+f.Name+"[].", f.Type.Elem.Fields)
				}
			}
		}
		walk("", typ.Params.Fields)
		for _, o := range typ.Outputs {
			if o.Name == "" || o.Type == "" || o.Doc == "" {
				t.Errorf("%s: output %+v lacks a name, type or doc", typ.Name, o)
			}
		}
	}
}

// TestEveryExampleValidates loads each type's examples as a recipe: an
// example users copy must be a valid task of that type.
func TestEveryExampleValidates(t *testing.T) {
	dir := t.TempDir()
	for _, typ := range tasktype.Builtin().All() {
		for i, ex := range typ.Examples {
			if ex.Title == "" {
				t.Errorf("%s: example %d has no title", typ.Name, i)
			}
			src := "version: 1\nname: example\ntasks:\n" + indent(ex.YAML, "  ")
			path := filepath.Join(dir, fmt.Sprintf("%s-%d.yaml", typ.Name, i))
			if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			r, err := recipe.Load(path, recipe.Options{Registry: tasktype.Builtin()})
			if err != nil {
				t.Errorf("%s example %q does not validate:\n%v\n%s", typ.Name, ex.Title, err, src)
				continue
			}
			if len(r.Tasks) != 1 || r.Tasks[0].Uses != typ.Name {
				t.Errorf("%s example %q is not one task of that type: %d tasks", typ.Name, ex.Title, len(r.Tasks))
			}
		}
	}
}

func indent(text, by string) string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = by + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// Markers around the README's generated table of task types.
const (
	tableBegin = "<!-- task types: generated from the registry by `go test ./tasks -run README -update` -->\n"
	tableEnd   = "<!-- end of task types -->\n"
)

// TestREADMETableOfTypesIsFresh: the README's table of task types is the
// registry's list; it fails when a type is added, renamed or re-summarised
// without regenerating it.
func TestREADMETableOfTypesIsFresh(t *testing.T) {
	var b strings.Builder
	b.WriteString(tableBegin + "| Type | What |\n|---|---|\n")
	for _, typ := range tasktype.Builtin().All() {
		fmt.Fprintf(&b, "| `%s` | %s |\n", typ.Name, strings.ReplaceAll(typ.Summary, "|", `\|`))
	}
	b.WriteString(tableEnd)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start, end := strings.Index(text, tableBegin), strings.Index(text, tableEnd)
	if start < 0 || end < start {
		t.Fatalf("README.md has no generated table of task types (markers %q … %q)", tableBegin, tableEnd)
	}
	got := text[start : end+len(tableEnd)]
	if got == b.String() {
		return
	}
	if !*update {
		t.Fatalf("README.md's table of task types is stale: run go test ./tasks -run README -update\ngot:\n%s\nwant:\n%s", got, b.String())
	}
	text = text[:start] + b.String() + text[end+len(tableEnd):]
	if err := os.WriteFile("../README.md", []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// declaredOutputs records, for each type a test ran successfully through
// runTaskEnv, that its outputs were checked against the declared ones.
var declaredOutputs = struct {
	sync.Mutex
	checked map[string]bool
}{checked: map[string]bool{}}

// checkOutputs fails t when a successful run returned an output its type
// does not declare, or left out one it does.
func checkOutputs(t *testing.T, typ *tasktype.Type, out tasktype.Outputs) {
	t.Helper()
	declared := map[string]bool{}
	for _, o := range typ.Outputs {
		declared[o.Name] = true
		if _, ok := out[o.Name]; !ok {
			t.Errorf("%s: declared output %q missing from a run's outputs %v", typ.Name, o.Name, keys(out))
		}
	}
	for k := range out {
		if !declared[k] {
			t.Errorf("%s: a run returned output %q, which the type does not declare", typ.Name, k)
		}
	}
	declaredOutputs.Lock()
	declaredOutputs.checked[typ.Name] = true
	declaredOutputs.Unlock()
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestMain runs the tests, then — when the whole package ran — checks that
// every built-in type had a successful run whose outputs were compared with
// the declared ones.
func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if code == 0 && flag.Lookup("test.run").Value.String() == "" && !testing.Short() {
		var missing []string
		for _, name := range tasktype.Builtin().Names() {
			if !declaredOutputs.checked[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "FAIL: no test ran these types successfully through runTaskEnv, so their declared outputs were not checked: %s\n", strings.Join(missing, ", "))
			code = 1
		}
	}
	os.Exit(code)
}
