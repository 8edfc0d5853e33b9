package eval_test

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/eval"
)

func scope(t *testing.T) *eval.Scope {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{"a/1.md", "a/10.md", "a/2.md", "a/b/3.md", "c.txt"} {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte("x"), 0o644)
	}
	started := time.Date(2026, 11, 29, 23, 59, 59, 0, time.UTC)
	s := eval.NewScope(dir, started, map[string]string{"HOME": "/home/me", "EMPTY": ""})
	s.Vars = map[string]any{"project": "Pilot", "n": 3, "list": []any{"x", "y"}}
	s.Tasks = map[string]eval.TaskView{"build": {Outputs: map[string]any{"path": "out/book.epub", "bytes": 42}, Status: "succeeded"}}
	return s
}

func TestTemplates(t *testing.T) {
	cases := []struct {
		name, src string
		want      any
	}{
		{"plain text stays text", "hello", "hello"},
		{"a whole expression keeps its type: number", "${{ vars.n * 2 }}", 6},
		{"a whole expression keeps its type: list", "${{ vars.list }}", []any{"x", "y"}},
		{"a whole expression keeps its type: bool", " ${{ vars.n > 2 }} ", true},
		{"text around an expression makes a string", "n=${{ vars.n }}", "n=3"},
		{"two expressions make a string", "${{ vars.project }}-${{ vars.n }}", "Pilot-3"},
		{"lists inside text are JSON", "l=${{ vars.list }}", `l=["x","y"]`},
		{"task outputs by bracket", `${{ tasks["build"].outputs.path }}`, "out/book.epub"},
		{"task status", "${{ tasks.build.status }}", "succeeded"},
		{"strftime uses the run's start", `${{ strftime(now(), "%Y%m%d-%H%M") }}`, "20261129-2359"},
		{"Go layouts work on now()", `${{ now().Format("20060102") }}`, "20261129"},
		{"glob is sorted and finds any depth", `${{ glob("a/**/*.md") }}`, []string{"a/1.md", "a/10.md", "a/2.md", "a/b/3.md"}},
		{"glob climbs out with ../", `${{ glob("a/b/../*.md") }}`, []string{"a/1.md", "a/10.md", "a/2.md"}},
		{"exists resolves against the recipe dir", `${{ exists("c.txt") && !exists("nope") }}`, true},
		{"basename and dirname", `${{ basename("x/y/z.md") }} ${{ dirname("x/y/z.md") }}`, "z.md x/y"},
		{"env_or falls back on unset and empty", `${{ env_or("NOPE", "d") }} ${{ env_or("EMPTY", "e") }} ${{ env_or("HOME", "f") }}`, "d e /home/me"},
		{"env is the process environment", "${{ env.HOME }}", "/home/me"},
		{"expr-lang builtins", `${{ join(map(vars.list, upper(#)), "+") }}`, "X+Y"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tpl, errs := eval.ParseTemplate(c.src)
			if len(errs) > 0 {
				t.Fatalf("parse: %v", errs[0])
			}
			got, err := tpl.Eval(scope(t))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v, want %#v", got, c.want)
			}
		})
	}
}

func TestNowIsFixedForTheWholeRun(t *testing.T) {
	s := scope(t)
	e, err := eval.Compile("now()")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := e.Eval(s)
	b, _ := e.Eval(s)
	if a != b || !a.(time.Time).Equal(time.Date(2026, 11, 29, 23, 59, 59, 0, time.UTC)) {
		t.Fatalf("now() = %v then %v, want the run's start twice", a, b)
	}
}

func TestCompileErrorsCarryColumns(t *testing.T) {
	_, errs := eval.ParseTemplate("abc ${{ vars.x + }} and ${{ nosuch() }} ${{ ok")
	if len(errs) != 3 {
		t.Fatalf("want 3 errors, got %d: %v", len(errs), errs)
	}
	wantOffsets := []int{16, 28, 40} // the dangling +, the unknown name, the unclosed ${{
	for i, e := range errs {
		if e.Offset != wantOffsets[i] {
			t.Errorf("error %d (%s) at offset %d, want %d", i, e.Msg, e.Offset, wantOffsets[i])
		}
	}
}

func TestReferencesAreCollected(t *testing.T) {
	e, err := eval.Compile(`tasks["dump-graph"].outputs.path + tasks.zip.outputs.sha256 + vars.stamp + string(tasks.zip.status) + item`)
	if err != nil {
		t.Fatal(err)
	}
	want := []eval.Ref{{Task: "dump-graph", Field: "outputs", Key: "path"}, {Task: "zip", Field: "outputs", Key: "sha256"}, {Task: "zip", Field: "status"}}
	if !reflect.DeepEqual(e.Tasks, want) {
		t.Errorf("tasks = %+v, want %+v", e.Tasks, want)
	}
	if !reflect.DeepEqual(e.Vars, []string{"stamp"}) || !e.UsesItem {
		t.Errorf("vars = %v, usesItem = %v", e.Vars, e.UsesItem)
	}
}

// An export passes a recipe's secrets to every step by name: it must know
// which environment variables the expressions read.
func TestEnvReferencesAreCollected(t *testing.T) {
	e, err := eval.Compile(`env.NOTIFY_TOKEN + env["AWS_SECRET_ACCESS_KEY"] + env_or("SLACK_KEY", "x") + env_or(vars.name, "y") + env.NOTIFY_TOKEN`)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"NOTIFY_TOKEN", "AWS_SECRET_ACCESS_KEY", "SLACK_KEY"}; !reflect.DeepEqual(e.Env, want) {
		t.Errorf("env = %v, want %v", e.Env, want)
	}
}

func TestConditionsMustBeBooleans(t *testing.T) {
	s := scope(t)
	for src, want := range map[string]string{
		`vars.n > 1`: "true", `"false"`: "false", `vars.project`: "error", `vars.n`: "error",
	} {
		e, err := eval.Compile(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Bool(s)
		switch {
		case want == "error" && err == nil:
			t.Errorf("%s: want an error, got %v", src, got)
		case want != "error" && (err != nil || (got && want != "true") || (!got && want != "false")):
			t.Errorf("%s: got %v, %v; want %s", src, got, err, want)
		}
	}
}

func TestUnknownOutputsInDryRuns(t *testing.T) {
	s := scope(t)
	s.Known = func(r eval.Ref) bool { return r.Task != "build" }
	tpl, _ := eval.ParseTemplate("upload ${{ tasks.build.outputs.path }} now")
	v, err := tpl.Eval(s)
	if err != nil {
		t.Fatal(err)
	}
	if !eval.HasUnknown(v) || !strings.Contains(eval.Text(v), "upload (known after run) now") {
		t.Fatalf("got %#v", v)
	}
}

func TestStrftime(t *testing.T) {
	tm := time.Date(2026, 3, 7, 15, 4, 5, 0, time.UTC)
	got := eval.Strftime(tm, "%Y-%m-%d %H:%M:%S %y %j %a %b %e %I%p %F %T %% %q")
	want := "2026-03-07 15:04:05 26 066 Sat Mar  7 03PM 2026-03-07 15:04:05 % %q"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestExpressionsCannotBuildGigabytes: expr-lang's memory budget counts
// list elements, not bytes; repeat() nested, a string doubled in a reduce
// or in lets, or replace() with a longer text asked for gigabytes and
// killed runner with a Go out-of-memory dump.
var bombList = []string{
	`repeat(repeat("x", 999999), 10000)`,
	`len(repeat(repeat("x", 999999), 40))`,
	`repeat("x", 100000000)`,
	`reduce(1..100, #acc + #acc, "xx")`,
	`let a = repeat("x", 999999); let b = a+a+a+a+a+a+a+a; let c = b+b+b+b+b+b+b+b; let d = c+c+c+c+c+c+c+c; len(d)`,
	`replace(replace(repeat("x", 1000), "x", repeat("y", 1000)), "y", repeat("z", 1000))`,
	`replace(repeat("x", 100000), "", repeat("y", 1000))`,
	`join(map(1..299999, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"), "")`,
	`join(map(1..999, "x"), repeat("-", 1000000))`,
	`toJSON(map(1..99999, "\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001\u0001"))`,
	`let r = 1..999999; len(concat(r, r, r, r, r, r, r, r, r, r, r, r, r, r, r, r, r, r, r, r))`,
	`let a = repeat("x", 999999); len(flatten([[a, a, a, a], [a, a, a, a], [a, a, a, a], [a, a, a, a], [a, a, a, a], [a, a, a, a], [a, a, a, a], [a, a, a, a], [a, a, a, a]]))`,
	`let a = repeat("x", 999999); len(map(1..999, a + "y"))`,
	`len(upper(repeat("x", 20000000)) + lower(repeat("x", 20000000)))`,
}

// TestToJSONIsSizedBeforeItIsBuilt: nesting costs indentation, not
// elements — twenty copies of 1,500 lists one in another hold 480 kB of
// elements and are 90 MB of indented JSON, which toJSON built before
// refusing it (hostile review of issue 11, finding 2). It is refused having
// allocated far less than it asked for.
func TestToJSONIsSizedBeforeItIsBuilt(t *testing.T) {
	e, err := eval.Compile(`let a = reduce(1..1500, [#acc], []); len(toJSON(map(1..20, a)))`)
	if err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = e.Eval(eval.NewScope(t.TempDir(), time.Now(), nil))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "toJSON asked for") {
		t.Fatalf("got %v, want toJSON refused", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("allocated %d MiB before refusing", alloc>>20)
	}
}

func TestExpressionsCannotBuildGigabytes(t *testing.T) {
	bombs := bombList
	for _, src := range bombs {
		e, err := eval.Compile(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if _, err := e.Eval(eval.NewScope(t.TempDir(), time.Now(), nil)); err == nil || !strings.Contains(err.Error(), "an expression may build") {
			t.Errorf("%s: got %v, want a refusal", src, err)
		}
	}
}

// TestBoundedBuildersKeepExprLangsMeaning: the sized repeat, replace, join,
// toJSON and concat give what expr-lang's own do.
func TestBoundedBuildersKeepExprLangsMeaning(t *testing.T) {
	cases := map[string]any{
		`repeat("ab", 3)`:                      "ababab",
		`replace("a-b-c", "-", "+")`:           "a+b+c",
		`replace("a-b-c", "-", "+", 1)`:        "a+b-c",
		`join(["a", "b"], ", ")`:               "a, b",
		`join(["a", "b"])`:                     "ab",
		`toJSON({"a": 1})`:                     "{\n  \"a\": 1\n}",
		`len(concat([1, 2], [3]))`:             3,
		`"a" + "b" + vars.name`:                "abPilot",
		`1 + 2`:                                3,
		`upper(vars.name + "-" + "x")`:         "PILOT-X",
		`strftime(now(), "%Y") + "x" != ""`:    true,
		`len(filter(["a", "bb"], len(#) > 1))`: 1,
	}
	for src, want := range cases {
		e, err := eval.Compile(src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		s := eval.NewScope(t.TempDir(), time.Now(), nil)
		s.Vars["name"] = "Pilot"
		got, err := e.Eval(s)
		if err != nil || got != want {
			t.Errorf("%s = %#v, %v; want %#v", src, got, err, want)
		}
	}
}
