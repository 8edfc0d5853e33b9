package recipe_test

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/recipe"
)

// load loads a recipe written to a temp dir as r.yaml.
func load(t *testing.T, text string) error {
	t.Helper()
	path := writeRecipe(t, t.TempDir(), "r.yaml", text)
	_, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
	return err
}

// TestAnAliasBombIsReportedAtItsLine: the bomb was reported at 1:1.
func TestAnAliasBombIsReportedAtItsLine(t *testing.T) {
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
	err := load(t, b.String())
	// a6 (line 9) is the first to hold over a million values: its third
	// *a5 (column 17) goes over.
	if err == nil || !strings.Contains(err.Error(), "r.yaml:9:17: the YAML expands to over 1000000 values through its aliases, and this *a5 (a copy of &a5) goes over") {
		t.Fatalf("err = %v", err)
	}
}

// TestANonUTF8ByteIsReportedAtItsLine: "yaml: invalid leading UTF-8
// octet" came with no line or column.
func TestANonUTF8ByteIsReportedAtItsLine(t *testing.T) {
	err := load(t, "version: 1\ntasks:\n  t:\n    uses: echo\n    with: {message: \"caf\xe9\"}\n")
	if err == nil || !strings.Contains(err.Error(), "r.yaml:5:25: byte 0xe9 is not UTF-8") {
		t.Fatalf("err = %v", err)
	}
}

// TestTabsInsideABlockScalarAreText: a heredoc's <<- needs tabs, and a
// literal block scalar may hold them; runner rejected any line that began
// with a tab.
func TestTabsInsideABlockScalarAreText(t *testing.T) {
	if err := load(t, "version: 1\ntasks:\n  t:\n    uses: echo\n    with:\n      message: |\n        cat <<-END\n        \tindented\n        \tEND\n"); err != nil {
		t.Fatal(err)
	}
	// A tab that indents a key is still an error at its place.
	err := load(t, "version: 1\ntasks:\n  t:\n\tuses: echo\n")
	if err == nil || !strings.Contains(err.Error(), "r.yaml:4:1: tab character in indentation") {
		t.Fatalf("err = %v", err)
	}
}

// TestTheCommentHintCoversIfAndForEach: `if: ${{ x == "a #b" }}` unquoted
// is cut by YAML at " #"; the hint was given for with: templates only.
func TestTheCommentHintCoversIfAndForEach(t *testing.T) {
	for _, key := range []string{`if: ${{ vars.x == "a #b" }}`, `for_each: ${{ ["a", "b #c"] }}`, `if: vars.x == "a #b"`} {
		err := load(t, "version: 1\nvars: {x: a}\ntasks:\n  t:\n    uses: echo\n    "+key+"\n    with: {message: hi}\n")
		if err == nil || !strings.Contains(err.Error(), `r.yaml:6:`) || !strings.Contains(err.Error(), `" #" starts a comment: put the value in quotes`) {
			t.Errorf("%s: err = %v", key, err)
		}
	}
}

// TestATopLevelEnvKeyTwiceIsAnError: it was accepted silently, the second
// value winning; everywhere else a key twice is an error.
func TestATopLevelEnvKeyTwiceIsAnError(t *testing.T) {
	err := load(t, "version: 1\nenv:\n  REGION: ap-northeast-2\n  REGION: us-east-1\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	if err == nil || !strings.Contains(err.Error(), "r.yaml:4:3: env \"REGION\" is already used at line 3") {
		t.Fatalf("err = %v", err)
	}
}

// TestRetryDurationsAreChecked: negative delay and max_delay were accepted
// silently; a max_delay below the delay cut every wait.
func TestRetryDurationsAreChecked(t *testing.T) {
	cases := map[string]string{
		"{attempts: 3, delay: -1m}":                `retry.delay: -1m is negative`,
		"{attempts: 3, delay: 1s, max_delay: -1h}": `retry.max_delay: -1h is negative`,
		"{attempts: 3, delay: 10s, max_delay: 5s}": `retry.max_delay 5s is shorter than retry.delay 10s`,
		"{attempts: 3, delay: 1m, backoff: 0.5}":   `retry.backoff must be a number of at least 1`,
	}
	for retry, want := range cases {
		err := load(t, "version: 1\ntasks:\n  t:\n    uses: echo\n    retry: "+retry+"\n    with: {message: hi}\n")
		if err == nil || !strings.Contains(err.Error(), "r.yaml:5:") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want …%s…", retry, err, want)
		}
	}
	if err := load(t, "version: 1\ntasks:\n  t:\n    uses: echo\n    timeout: -1s\n    with: {message: hi}\n"); err == nil || !strings.Contains(err.Error(), "-1s is negative") {
		t.Errorf("timeout -1s: err = %v", err)
	}
}

// TestTimezoneIsCheckedAtItsLine: a misspelt zone is an error with a
// suggestion; the zone is the main recipe's alone.
func TestTimezoneIsCheckedAtItsLine(t *testing.T) {
	err := load(t, "version: 1\ntimezone: Asia/Seol\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	if err == nil || !strings.Contains(err.Error(), `r.yaml:2:11: timezone "Asia/Seol": no such zone (did you mean "Asia/Seoul"?)`) {
		t.Fatalf("err = %v", err)
	}
	dir := t.TempDir()
	writeRecipe(t, dir, "inc.yaml", "version: 1\ntimezone: UTC\ntasks:\n  i:\n    uses: echo\n    with: {message: hi}\n")
	path := writeRecipe(t, dir, "r.yaml", "version: 1\ntimezone: Asia/Seoul\ninclude: [inc.yaml]\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	if _, err := recipe.Load(path, recipe.Options{Registry: testRegistry()}); err == nil || !strings.Contains(err.Error(), "inc.yaml:2:11: timezone belongs in the main recipe") {
		t.Fatalf("err = %v", err)
	}
	r, err := recipe.Load(writeRecipe(t, t.TempDir(), "r.yaml", "version: 1\ntimezone: Asia/Seoul\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n"), recipe.Options{Registry: testRegistry()})
	if err != nil || r.Location.String() != "Asia/Seoul" {
		t.Fatalf("%v, %v", r, err)
	}
}

// TestAliasesOfALongValueAreBoundedByBytes: a thousand aliases of one 1 MB
// value are few values, so the value count let them through — and every
// task instance of a for_each over them, the plan and the state file held
// a gigabyte (hostile review of issue 11, finding 3).
func TestAliasesOfALongValueAreBoundedByBytes(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	var b strings.Builder
	b.WriteString("version: 1\nvars:\n  big: &big \"" + big + "\"\n  many: [")
	for i := 0; i < 100; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*big")
	}
	b.WriteString("]\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	err := load(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "r.yaml:4:") || !strings.Contains(err.Error(), "the YAML expands to over 64 MiB of text through its aliases, and this *big (a copy of &big) goes over") {
		t.Fatalf("err = %.300v", err)
	}
}

// TestADotEnvGivenAsVarsIsNotQuoted: --vars .env quoted the whole file —
// every KEY=secret of it — in the error (hostile review of issue 11,
// finding 13).
func TestADotEnvGivenAsVarsIsNotQuoted(t *testing.T) {
	dir := t.TempDir()
	r := writeRecipe(t, dir, "r.yaml", "version: 1\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	env := writeRecipe(t, dir, ".env", "API_TOKEN=sekrit-value-123\nDB_PASSWORD=hunter2\n")
	list := writeRecipe(t, dir, "list.yaml", "- sekrit-in-a-list\n")
	for file, want := range map[string]string{
		env:  ".env:1:1: a vars file must be a map of names to values (`name: value` lines), got a single value (NAME=VALUE lines are a .env file",
		list: "list.yaml:1:1: a vars file must be a map of names to values (`name: value` lines), got a list",
	} {
		_, err := recipe.Load(r, recipe.Options{Registry: testRegistry(), VarFiles: []string{file}})
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "sekrit") || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", file, err)
		}
	}
}

// TestUndeclaredVarMessagesListTwentyNames: every message about an
// undeclared var listed all declared ones — with thousands of vars, each
// message was as long as the recipe (hostile review of issue 11, finding
// 14).
func TestUndeclaredVarMessagesListTwentyNames(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\nvars:\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&b, "  v%d: x\n", i)
	}
	b.WriteString("tasks:\n  t:\n    uses: echo\n    with: {message: \"${{ vars.nope }}\"}\n")
	err := load(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "vars.nope is not declared; declared vars: v0, v1, ") ||
		!strings.Contains(err.Error(), ", v19 … and 80 more") || strings.Contains(err.Error(), "v20") {
		t.Errorf("err = %v", err)
	}
}

// TestEveryMessageCapsTheValueItQuotes: a 20,000-character value in any
// key of a recipe came back whole in its message (hostile review of issue
// 11, findings 16 and 17).
func TestEveryMessageCapsTheValueItQuotes(t *testing.T) {
	long := strings.Repeat("z", 20000)
	for name, text := range map[string]string{
		"uses":       "version: 1\ntasks:\n  t:\n    uses: " + long + "\n",
		"needs":      "version: 1\ntasks:\n  t:\n    uses: echo\n    needs: [" + long + "]\n    with: {message: hi}\n",
		"retry.on":   "version: 1\ntasks:\n  t:\n    uses: echo\n    retry: {attempts: 2, on: [" + long + "]}\n    with: {message: hi}\n",
		"secrets":    "version: 1\nsecrets: [" + long + "]\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n",
		"vars ref":   "version: 1\ntasks:\n  t:\n    uses: echo\n    with: {message: \"${{ vars." + long + " }}\"}\n",
		"task id":    "version: 1\ntasks:\n  \"" + long + "!\":\n    uses: echo\n    with: {message: hi}\n",
		"var name":   "version: 1\nvars:\n  \"" + long + "!\": 1\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n",
		"param":      "version: 1\ntasks:\n  t:\n    uses: echo\n    with: {" + long + ": hi}\n",
		"outputs":    "version: 1\ntasks:\n  a:\n    uses: echo\n    with: {message: hi}\n  t:\n    uses: echo\n    needs: [a]\n    with: {message: \"${{ tasks.a.outputs." + long + " }}\"}\n",
		"include":    "version: 1\ninclude: [" + long + ".yaml]\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n",
		"expression": "version: 1\ntasks:\n  t:\n    uses: echo\n    with: {message: \"${{ " + long + "( }}\"}\n",
		"top key":    "version: 1\n" + long + ": 1\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n",
		"timezone":   "version: 1\ntimezone: " + long + "\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n",
		"duration":   "version: 1\ntasks:\n  t:\n    uses: echo\n    timeout: " + long + "\n    with: {message: hi}\n",
	} {
		err := load(t, text)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if len(line) > 1500 {
				t.Errorf("%s: a %d-byte message line: %.200s…", name, len(line), line)
			}
		}
	}
}

// TestMergeKeysMerge: "<<: *base" was read as a key named "<<" — the
// merged values were silently missing (hostile review of issue 11, finding
// 25). Keys written in the map win over merged ones; earlier maps of a
// list win over later ones.
func TestMergeKeysMerge(t *testing.T) {
	path := writeRecipe(t, t.TempDir(), "r.yaml", `version: 1
vars:
  base: &base {region: ap-northeast-2, retries: 3}
  extra: &extra {retries: 9, bucket: b}
  prod:
    <<: [*base, *extra]
    region: us-east-1
tasks:
  t: &task
    uses: echo
    with: {message: hi}
  u:
    <<: *task
    needs: [t]
`)
	r, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	v, err := r.Var("prod").Value.Eval(&eval.Scope{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"region": "us-east-1", "retries": 3, "bucket": "b"}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("prod = %#v, want %#v", v, want)
	}
	if u := r.Task("u"); u == nil || u.Uses != "echo" || len(u.Needs) != 1 {
		t.Errorf("task u = %+v", u)
	}
}

// TestAnIncludedFilesProblemsSayWhereItWasIncluded: a problem in an
// included file named only that file (hostile review of issue 11, finding
// 26).
func TestAnIncludedFilesProblemsSayWhereItWasIncluded(t *testing.T) {
	dir := t.TempDir()
	writeRecipe(t, dir, "common.yaml", "version: 1\ntasks:\n  u:\n    uses: nope\n")
	path := writeRecipe(t, dir, "r.yaml", "version: 1\ninclude: [common.yaml]\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	_, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
	if err == nil || !strings.Contains(err.Error(), `common.yaml:4:11: task "u": unknown task type "nope"; run `+"`runner tasks`"+` to list them (included from `+path+`:2:11)`) {
		t.Errorf("err = %v", err)
	}
}

// TestAMissingWorkdirIsAUsageError: every task then failed to start,
// blaming its command ("fork/exec /usr/bin/sh: no such file or
// directory"; hostile review of issue 11, finding 23).
func TestAMissingWorkdirIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	path := writeRecipe(t, dir, "r.yaml", "version: 1\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	for wd, want := range map[string]string{filepath.Join(dir, "nope"): "no such folder", path: "not a folder"} {
		_, err := recipe.Load(path, recipe.Options{Registry: testRegistry(), Workdir: wd})
		if err == nil || err.Error() != "--workdir "+wd+": "+want {
			t.Errorf("--workdir %s: %v", wd, err)
		}
	}
}

// TestAnOversizedRecipeIsRefusedUnread: a 50 MB recipe (a runaway
// generator) was parsed — twice, and again every 30 s by runner serve —
// and held the server at about 600 MB.
func TestAnOversizedRecipeIsRefusedUnread(t *testing.T) {
	var b strings.Builder
	b.WriteString("version: 1\ntasks:\n  a: {uses: echo, with: {message: hi}}\n")
	for b.Len() <= recipe.MaxFileSize {
		b.WriteString("# " + strings.Repeat("x", 1000) + "\n")
	}
	err := load(t, b.String())
	if err == nil || !strings.Contains(err.Error(), "runner reads recipes of up to 8 MiB") {
		t.Fatalf("an 8 MiB recipe: %v", err)
	}
}
