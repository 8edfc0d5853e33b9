package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/testtools"
)

// The hostile review of runner exec (issue 15): each step runs the built
// binary in a folder of its own, sharing nothing but the run store, which
// the tests damage between steps as a hostile or broken store would.

// hxRecipe makes a file, prints its absolute path, and has it read by the
// next task.
const hxRecipe = `version: 1
name: hx
tasks:
  make:
    uses: shell
    with: {shell: sh, run: 'mkdir -p build && printf hello > build/a.txt && echo "$PWD/build/a.txt"'}
  read:
    uses: shell
    needs: [make]
    with: {shell: sh, run: 'cat ${{ tasks.make.outputs.stdout }}'}
`

// helloSum is the SHA-256 of "hello", the file make writes.
const helloSum = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"

// hxRun is one run in a file:// store, its steps each in a new folder.
type hxRun struct {
	t      *testing.T
	recipe string
	store  string // the store's folder
	id     string
	env    []string
}

func newHXRun(t *testing.T, recipe string, env ...string) *hxRun {
	return &hxRun{t: t, recipe: recipe, store: t.TempDir(), id: "r1", env: testtools.BaseEnv(env...)}
}

// folder is a new, empty working folder holding only the recipe.
func (h *hxRun) folder() string {
	h.t.Helper()
	dir := h.t.TempDir()
	writeFile(h.t, filepath.Join(dir, "r.yaml"), h.recipe)
	return dir
}

// step runs one exec of the run in dir.
func (h *hxRun) step(dir string, args ...string) result {
	h.t.Helper()
	all := append([]string{"exec", "r.yaml", "--run", h.id, "--state", "file://" + h.store}, args...)
	return runner(h.t, dir, h.env, all...)
}

// must runs a step in a new folder and fails the test unless it exits 0.
func (h *hxRun) must(args ...string) string {
	h.t.Helper()
	dir := h.folder()
	if r := h.step(dir, args...); r.code != 0 {
		h.t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
	}
	return dir
}

// path is a path of the run's folder in the store.
func (h *hxRun) path(rel ...string) string {
	return filepath.Join(append([]string{h.store, h.id}, rel...)...)
}

// edit rewrites a JSON object of the store.
func (h *hxRun) edit(path string, change func(map[string]any)) {
	h.t.Helper()
	var rec map[string]any
	if err := json.Unmarshal([]byte(readFile(h.t, path)), &rec); err != nil {
		h.t.Fatal(err)
	}
	change(rec)
	data, err := json.Marshal(rec)
	if err != nil {
		h.t.Fatal(err)
	}
	writeFile(h.t, path, string(data))
}

// madeRun is a run of hxRecipe whose make step has run.
func madeRun(t *testing.T) *hxRun {
	h := newHXRun(t, hxRecipe)
	h.must("--init")
	h.must("--task", "make")
	return h
}

func setFilePath(p string) func(map[string]any) {
	return func(rec map[string]any) { rec["files"].([]any)[0].(map[string]any)["path"] = p }
}

func noCrash(t *testing.T, r result) {
	t.Helper()
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("a crash:\n%s", r.stderr)
	}
}

func TestHostileExecRecordPathsNeverLeadOut(t *testing.T) {
	for _, p := range []string{"../../outside/x", "/tmp/hostile-exec-abs/x", "a/../../x", "build/../../x", ".", "..",
		"build/..", "", "build/a\x00/../../../x", `C:\x`, `\\srv\x`} {
		t.Run(fmt.Sprintf("%q", p), func(t *testing.T) {
			h := madeRun(t)
			h.edit(h.path("tasks", "make.json"), setFilePath(p))
			parent := t.TempDir()
			dir := filepath.Join(parent, "c", "w")
			writeFile(t, filepath.Join(dir, "r.yaml"), hxRecipe)
			r := h.step(dir, "--task", "read")
			noCrash(t, r)
			if r.code == 0 || !strings.Contains(r.stderr, "refusing to write") {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			filepath.Walk(parent, func(path string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() && path != filepath.Join(dir, "r.yaml") {
					t.Errorf("written: %s", path)
				}
				return nil
			})
			if _, err := os.Stat("/tmp/hostile-exec-abs"); err == nil {
				t.Errorf("/tmp/hostile-exec-abs was written")
			}
		})
	}
}

func TestHostileExecLinksPlantedInTheWorkingFolder(t *testing.T) {
	t.Run("a folder link out", func(t *testing.T) {
		h := madeRun(t)
		outside := t.TempDir()
		dir := h.folder()
		os.Symlink(outside, filepath.Join(dir, "build"))
		r := h.step(dir, "--task", "read")
		if r.code == 0 || !strings.Contains(r.stderr, "build is a link that leads out of the working folder") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if entries, _ := os.ReadDir(outside); len(entries) != 0 {
			t.Fatalf("written outside: %v", entries)
		}
	})
	t.Run("a link to / two levels up", func(t *testing.T) {
		h := madeRun(t)
		h.edit(h.path("tasks", "make.json"), setFilePath("x/y/hostile-exec-root.txt"))
		dir := h.folder()
		os.Mkdir(filepath.Join(dir, "x"), 0o755)
		os.Symlink("/", filepath.Join(dir, "x", "y"))
		r := h.step(dir, "--task", "read")
		if r.code == 0 || !strings.Contains(r.stderr, "x/y is a link that leads out") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if _, err := os.Lstat("/hostile-exec-root.txt"); err == nil {
			os.Remove("/hostile-exec-root.txt")
			t.Fatal("written at /")
		}
	})
	t.Run("the file itself a link out, and dangling", func(t *testing.T) {
		for _, dangling := range []bool{false, true} {
			h := madeRun(t)
			outside := t.TempDir()
			victim := filepath.Join(outside, "victim")
			if !dangling {
				writeFile(t, victim, "victim")
			}
			dir := h.folder()
			os.Mkdir(filepath.Join(dir, "build"), 0o755)
			os.Symlink(victim, filepath.Join(dir, "build", "a.txt"))
			if r := h.step(dir, "--task", "read"); r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			data, err := os.ReadFile(victim)
			if dangling && err == nil || !dangling && string(data) != "victim" {
				t.Fatalf("written through the link: %q %v", data, err)
			}
			if fi, err := os.Lstat(filepath.Join(dir, "build", "a.txt")); err != nil || !fi.Mode().IsRegular() {
				t.Fatalf("build/a.txt: %v %v", fi, err)
			}
		}
	})
	t.Run("a folder link inside is followed", func(t *testing.T) {
		h := madeRun(t)
		dir := h.folder()
		os.Mkdir(filepath.Join(dir, "inner"), 0o755)
		os.Symlink("inner", filepath.Join(dir, "build"))
		if r := h.step(dir, "--task", "read"); r.code != 0 || readFile(t, filepath.Join(dir, "inner", "a.txt")) != "hello" {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
}

func TestHostileExecBlobsAndHashesAreVerified(t *testing.T) {
	t.Run("a truncated blob keeps the file already there", func(t *testing.T) {
		h := madeRun(t)
		os.Truncate(h.path("files", "sha256", helloSum), 2)
		dir := h.folder()
		writeFile(t, filepath.Join(dir, "build", "a.txt"), "keep")
		r := h.step(dir, "--task", "read")
		if r.code == 0 || !strings.Contains(r.stderr, "the store's copy is damaged or was replaced; nothing was written") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if got := readFile(t, filepath.Join(dir, "build", "a.txt")); got != "keep" {
			t.Fatalf("build/a.txt now %q", got)
		}
		if entries, _ := os.ReadDir(filepath.Join(dir, "build")); len(entries) != 1 {
			t.Fatalf("left in build: %v", entries)
		}
	})
	t.Run("a missing blob", func(t *testing.T) {
		h := madeRun(t)
		os.Remove(h.path("files", "sha256", helloSum))
		dir := h.folder()
		r := h.step(dir, "--task", "read")
		if r.code == 0 || !strings.Contains(r.stderr, "no such object") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(dir, "build", "a.txt")); err == nil {
			t.Fatal("a file without its blob")
		}
	})
	for _, sum := range []string{"../../run.json", strings.ToUpper(helloSum), "", "0"} {
		t.Run("sha256 "+sum, func(t *testing.T) {
			h := madeRun(t)
			h.edit(h.path("tasks", "make.json"), func(rec map[string]any) {
				rec["files"].([]any)[0].(map[string]any)["sha256"] = sum
			})
			r := h.step(h.folder(), "--task", "read")
			if r.code == 0 || !strings.Contains(r.stderr, "is not 64 hex digits") {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
		})
	}
	t.Run("a blob of the right size but other bytes is refused", func(t *testing.T) {
		// The producer skips a blob the store holds already, so such a
		// blob is not repaired by running make again; the consumer refuses it.
		h := newHXRun(t, hxRecipe)
		h.must("--init")
		writeFile(t, h.path("files", "sha256", helloSum), "hellx")
		h.must("--task", "make")
		if r := h.step(h.folder(), "--task", "read"); r.code == 0 || !strings.Contains(r.stderr, "damaged or was replaced") {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
	})
	t.Run("setuid and world-writable modes", func(t *testing.T) {
		for mode, want := range map[float64]os.FileMode{0o4755: 0o755, 0o6777: 0o777, 0: 0o644} {
			h := madeRun(t)
			h.edit(h.path("tasks", "make.json"), func(rec map[string]any) {
				rec["files"].([]any)[0].(map[string]any)["mode"] = mode
			})
			dir := h.folder()
			if r := h.step(dir, "--task", "read"); r.code != 0 {
				t.Fatalf("mode %o: exit %d\n%s", int(mode), r.code, r.stderr)
			}
			fi, _ := os.Stat(filepath.Join(dir, "build", "a.txt"))
			if fi.Mode()&(os.ModeSetuid|os.ModeSetgid) != 0 || fi.Mode().Perm() != want {
				t.Errorf("mode %o: written as %v", int(mode), fi.Mode())
			}
		}
	})
}

func TestHostileExecOutputsNeverUploadWhatLiesOutside(t *testing.T) {
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "secret.txt"), "not for the store")
	recipe := `version: 1
name: hxout
tasks:
  dir:
    uses: shell
    with: {shell: sh, run: 'mkdir -p out && echo a > out/a.txt && ln -s ` + outside + `/secret.txt out/pw && ln -s ` + outside + ` out/o && ln -s .. out/up && mkfifo out/fifo && echo "$PWD/out"'}
  link:
    uses: shell
    with: {shell: sh, run: 'ln -s ` + outside + `/secret.txt pw && echo "$PWD/pw"'}
  fifo:
    uses: shell
    with: {shell: sh, run: 'mkfifo f && echo "$PWD/f"'}
`
	h := newHXRun(t, recipe)
	h.must("--init")
	for task, want := range map[string]string{"dir": "out/a.txt", "link": "", "fifo": ""} {
		h.must("--task", task)
		var rec struct {
			Files []struct{ Path string }
		}
		json.Unmarshal([]byte(readFile(t, h.path("tasks", task+".json"))), &rec)
		if want == "" && len(rec.Files) != 0 || want != "" && (len(rec.Files) != 1 || rec.Files[0].Path != want) {
			t.Errorf("%s: files uploaded: %+v", task, rec.Files)
		}
	}
	filepath.Walk(h.store, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() && strings.Contains(readFile(t, p), "not for the store") {
			t.Errorf("%s holds the file outside", p)
		}
		return nil
	})
}

func TestHostileExecASparse1GiBOutputTravelsInLittleMemory(t *testing.T) {
	recipe := `version: 1
name: hxbig
tasks:
  make:
    uses: shell
    with: {shell: sh, run: 'truncate -s 1G big && echo "$PWD/big"'}
  read:
    uses: shell
    needs: [make]
    with: {shell: sh, run: 'wc -c < ${{ tasks.make.outputs.stdout }}'}
`
	h := newHXRun(t, recipe)
	h.must("--init")
	for _, task := range []string{"make", "read"} {
		cmd := exec.Command(runnerBin, "exec", "r.yaml", "--run", h.id, "--state", "file://"+h.store, "--task", task)
		cmd.Dir, cmd.Env = h.folder(), h.env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", task, err, out)
		}
		if task == "read" && !strings.Contains(string(out), "1073741824") {
			t.Fatalf("read:\n%s", out)
		}
		if rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss; rss > 200<<10 {
			t.Errorf("%s: %d KiB resident at most", task, rss)
		}
	}
}

// damaged are records that are not records of runner's.
var damaged = map[string]string{
	"garbage":  `{"id": "make", "status": `,
	"array":    `[1,2,3]`,
	"string":   `"succeeded"`,
	"empty":    ``,
	"BOM":      "\ufeff{}",
	"trailing": `{"id":"make","status":"succeeded"}{"x":1}`,
	"files":    `{"id":"make","status":"succeeded","files":{"a":1}}`,
	"deep":     `{"id":"make","status":"succeeded","outputs":{"x":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}}`,
}

func TestHostileExecDamagedRecordsAreClearErrors(t *testing.T) {
	h := madeRun(t)
	good := readFile(t, h.path("tasks", "make.json"))
	for name, text := range damaged {
		writeFile(t, h.path("tasks", "make.json"), text)
		r := h.step(h.folder(), "--task", "read")
		noCrash(t, r)
		if r.code == 0 || !strings.Contains(r.stderr, "not a record of runner's") {
			t.Errorf("%s: exit %d\n%s", name, r.code, r.stderr)
		}
	}
	// larger than a record can be: refused before it is read whole
	big := strings.Replace(good, `"exit_code": 0`, `"exit_code": 0, "junk": "`+strings.Repeat("x", 70<<20)+`"`, 1)
	writeFile(t, h.path("tasks", "make.json"), big)
	if r := h.step(h.folder(), "--task", "read"); r.code == 0 || !strings.Contains(r.stderr, "larger than 64 MiB") {
		t.Errorf("70 MiB: exit %d\n%s", r.code, r.stderr)
	}
	// the task's own record damaged: not run over it
	writeFile(t, h.path("tasks", "make.json"), "garbage")
	if r := h.step(h.folder(), "--task", "make"); r.code == 0 || readFile(t, h.path("tasks", "make.json")) != "garbage" {
		t.Errorf("own record damaged: exit %d\n%s", r.code, r.stderr)
	}
}

// Was broken, now fixed: cli.md gives exit 2 for "a store that cannot be … read"; a
// damaged record exits 1, as a task's failure does.
func TestHostileExecADamagedRecordExits2(t *testing.T) {
	h := madeRun(t)
	for name, text := range damaged {
		writeFile(t, h.path("tasks", "make.json"), text)
		if r := h.step(h.folder(), "--task", "read"); r.code != 2 {
			t.Errorf("%s: exit %d, want 2\n%s", name, r.code, r.stderr)
		}
	}
	writeFile(t, h.path("tasks", "make.json"), "garbage")
	if r := h.step(h.folder(), "--task", "make"); r.code != 2 {
		t.Errorf("own record damaged: exit %d, want 2\n%s", r.code, r.stderr)
	}
}

// Was broken, now fixed: a need's record with a status runner never writes is taken for
// "cancelled", and the task is recorded cancelled with a reason that is
// not true.
func TestHostileExecANeedWithAnUnknownStatusIsAClearError(t *testing.T) {
	for _, status := range []string{"bogus", ""} {
		h := madeRun(t)
		h.edit(h.path("tasks", "make.json"), func(rec map[string]any) { rec["status"] = status })
		r := h.step(h.folder(), "--task", "read")
		noCrash(t, r)
		if r.code != 2 || !strings.Contains(r.stderr, fmt.Sprintf("%q", status)) || strings.Contains(r.stderr, "which was cancelled") {
			t.Errorf("status %q: exit %d\n%s", status, r.code, r.stderr)
		}
		if _, err := os.Stat(h.path("tasks", "read.json")); err == nil {
			t.Errorf("status %q: read recorded: %s", status, readFile(t, h.path("tasks", "read.json")))
		}
	}
}

func TestHostileExecRunJSONDamage(t *testing.T) {
	for name, change := range map[string]func(map[string]any){
		"recipe digest":    func(r map[string]any) { r["recipe_digest"] = strings.Repeat("0", 64) },
		"vars digest":      func(r map[string]any) { r["vars_digest"] = strings.Repeat("0", 64) },
		"digests missing":  func(r map[string]any) { delete(r, "recipe_digest"); delete(r, "vars_digest") },
		"another run's":    func(r map[string]any) { r["id"] = "r2" },
		"started garbage":  func(r map[string]any) { r["started"] = "yesterday" },
		"started a number": func(r map[string]any) { r["started"] = 5 },
	} {
		h := madeRun(t)
		h.edit(h.path("run.json"), change)
		if r := h.step(h.folder(), "--task", "read"); r.code != 2 {
			t.Errorf("%s: exit %d\n%s", name, r.code, r.stderr)
		}
	}
	h := madeRun(t)
	os.Remove(h.path("run.json"))
	os.Mkdir(h.path("run.json"), 0o755)
	if r := h.step(h.folder(), "--task", "read"); r.code != 2 || !strings.Contains(r.stderr, "not a regular file") {
		t.Errorf("run.json a folder: exit %d\n%s", r.code, r.stderr)
	}
}

// Was broken, now fixed: a run.json without its start is taken as starting at year 1:
// now() is 0001-01-01 on every step.
func TestHostileExecARunJSONWithoutItsStartIsRefused(t *testing.T) {
	h := newHXRun(t, `version: 1
name: hxnow
tasks:
  t:
    uses: shell
    with: {run: 'echo ${{ now().Format("2006") }}'}
`)
	h.must("--init")
	h.edit(h.path("run.json"), func(r map[string]any) { delete(r, "started") })
	r := h.step(h.folder(), "--task", "t")
	if r.code != 2 || strings.Contains(r.stderr, "0001") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

func TestHostileExecItemsAndRunIDs(t *testing.T) {
	h := newHXRun(t, `version: 1
name: hxfe
tasks:
  fan:
    uses: shell
    for_each: '["a", "b"]'
    with: {run: 'echo ${{ item }}'}
`)
	h.store = filepath.Join(t.TempDir(), "store") // alone in its parent
	h.must("--init")
	h.must("--task", "fan", "--plan")
	for _, item := range []string{"-1", "2", "99999"} {
		r := h.step(h.folder(), "--task", "fan", "--item", item)
		noCrash(t, r)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, "item") {
			t.Errorf("--item %q: exit %d, stdout %q\n%s", item, r.code, r.stdout, r.stderr)
		}
	}
	// a damaged plan: no items
	h.edit(h.path("tasks", "fan.json"), func(r map[string]any) { delete(r, "items") })
	if r := h.step(h.folder(), "--task", "fan", "--item", "0"); r.code != 2 {
		t.Errorf("a plan without items: exit %d\n%s", r.code, r.stderr)
	}
	// run ids that would climb out of the store's folder
	for _, id := range []string{"..", "../escaped", "x/../../escaped", "a/b", "."} {
		h.id = id
		h.must("--init")
	}
	entries, _ := os.ReadDir(filepath.Dir(h.store))
	if len(entries) != 1 {
		t.Errorf("beside the store: %v", entries)
	}
	entries, _ = os.ReadDir(h.store)
	for _, e := range entries {
		if _, err := os.Stat(filepath.Join(h.store, e.Name(), "run.json")); err != nil {
			t.Errorf("%s: %v", e.Name(), err)
		}
	}
}

func TestHostileExecPlanPrintsOneLineAndNothingElseDoes(t *testing.T) {
	h := newHXRun(t, `version: 1
name: hxplan
tasks:
  a:
    uses: shell
    with: {shell: sh, run: 'echo to-stdout; echo to-stderr >&2'}
  f:
    uses: shell
    with: {shell: sh, run: 'echo to-stdout; exit 1'}
  ok:
    uses: shell
    needs: [a]
    for_each: 'map(1..3, # * 2)'
    with: {run: 'echo ${{ item }}'}
  afterfail:
    uses: shell
    needs: [f]
    for_each: '[1, 2]'
    with: {run: 'echo ${{ item }}'}
  iffalse:
    uses: shell
    if: 'false'
    for_each: '[1, 2]'
    with: {run: 'echo ${{ item }}'}
  notalist:
    uses: shell
    for_each: '"text"'
    with: {run: 'echo ${{ item }}'}
  toomany:
    uses: shell
    for_each: '1..20000'
    with: {run: 'echo ${{ item }}'}
`)
	gho := filepath.Join(t.TempDir(), "out")
	h.env = append(h.env, "GITHUB_OUTPUT="+gho)
	for _, c := range []struct {
		args   []string
		stdout string
	}{
		{[]string{"--init"}, ""},
		{[]string{"--task", "a"}, ""},
		{[]string{"--task", "f"}, ""},
		{[]string{"--task", "ok", "--plan"}, "[0,1,2]\n"},
		{[]string{"--task", "ok", "--plan", "-o", "json"}, "[0,1,2]\n"},
		{[]string{"--task", "ok", "--item", "1"}, ""},
		{[]string{"--task", "afterfail", "--plan"}, "[]\n"},
		{[]string{"--task", "iffalse", "--plan"}, "[]\n"},
		{[]string{"--task", "notalist", "--plan"}, "[]\n"},
		{[]string{"--task", "toomany", "--plan"}, "[]\n"},
		{[]string{"--task", "nosuch"}, ""},
		{[]string{"--task", "a", "--plan"}, ""},
	} {
		r := h.step(h.folder(), c.args...)
		noCrash(t, r)
		if r.stdout != c.stdout {
			t.Errorf("%v: stdout %q, want %q (exit %d)\n%s", c.args, r.stdout, c.stdout, r.code, r.stderr)
		}
	}
}

// A flag that does not parse (--item abc, --max-items x, an unknown flag)
// printed "Incorrect Usage" and the whole help on stdout, where a plan
// step's stdout is read as its JSON list: fixed (a usage error on stderr,
// and --item/--max-items read as plain decimal numbers).
func TestHostileExecAFlagThatDoesNotParsePrintsNothingOnStdout(t *testing.T) {
	h := newHXRun(t, hxRecipe)
	h.must("--init")
	for _, args := range [][]string{{"--item", "abc"}, {"--item", "1.5"}, {"--item", ""}, {"--plan", "--max-items", "x"}, {"--bogus"}} {
		r := h.step(h.folder(), append([]string{"--task", "make"}, args...)...)
		said := false
		for _, why := range []string{"parse error", "not defined", "in decimal", "1 or more"} {
			said = said || strings.Contains(r.stderr, why)
		}
		if r.code != 2 || r.stdout != "" || !said {
			t.Errorf("%v: exit %d, stdout %q\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
}

// Three steps of one instance at once (a retried pod), 50 times: the
// record is whole and succeeded, each file it names is in the store with
// its hash, and no temporary file is left.
func TestHostileExecRacingStepsOfOneInstance(t *testing.T) {
	h := newHXRun(t, `version: 1
name: hxrace
tasks:
  fan:
    uses: shell
    for_each: '["a", "b"]'
    with: {shell: sh, run: 'mkdir -p out && head -c 300000 /dev/urandom > out/$$ && echo "$PWD/out/$$"'}
`)
	h.must("--init")
	h.must("--task", "fan", "--plan")
	for round := 0; round < 50; round++ {
		os.RemoveAll(h.path("tasks", "fan"))
		var wg sync.WaitGroup
		results := make([]result, 3)
		for i := range results {
			dir := h.folder()
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = h.step(dir, "--task", "fan", "--item", "0")
			}()
		}
		wg.Wait()
		for _, r := range results {
			if r.code != 0 {
				t.Fatalf("round %d: exit %d\n%s", round, r.code, r.stderr)
			}
		}
		var rec struct {
			Status string
			Files  []struct{ SHA256 string }
		}
		if err := json.Unmarshal([]byte(readFile(t, h.path("tasks", "fan", "0.json"))), &rec); err != nil || rec.Status != "succeeded" || len(rec.Files) != 1 {
			t.Fatalf("round %d: %+v %v", round, rec, err)
		}
		if got := fileSum(t, h.path("files", "sha256", rec.Files[0].SHA256)); got != rec.Files[0].SHA256 {
			t.Fatalf("round %d: blob %s holds %s", round, rec.Files[0].SHA256, got)
		}
	}
	filepath.Walk(h.store, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(filepath.Base(p), ".tmp-") {
			t.Errorf("left: %s", p)
		}
		return nil
	})
}

// kill -9 while the task's file is being put: no record; the step run
// again succeeds and the next step gets the file whole.
func TestHostileExecKilledMidUploadThenRunAgain(t *testing.T) {
	h := newHXRun(t, `version: 1
name: hxkill
tasks:
  make:
    uses: shell
    with: {shell: sh, run: 'head -c 600000000 /dev/urandom > big && echo "$PWD/big"'}
  read:
    uses: shell
    needs: [make]
    with: {shell: sh, run: 'wc -c < ${{ tasks.make.outputs.stdout }}'}
`)
	h.must("--init")
	cmd := exec.Command(runnerBin, "exec", "r.yaml", "--run", h.id, "--state", "file://"+h.store, "--task", "make")
	cmd.Dir, cmd.Env = h.folder(), h.env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for { // until a blob is being written
		temps, _ := filepath.Glob(h.path("files", "sha256", ".*.tmp-*"))
		if len(temps) > 0 {
			if fi, err := os.Stat(temps[0]); err == nil && fi.Size() > 0 {
				break
			}
		}
		if _, err := os.Stat(h.path("tasks", "make.json")); err == nil {
			t.Fatal("the upload ended before it could be killed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(h.path("tasks", "make.json")); err == nil {
		t.Fatalf("a killed step left a record: %s", readFile(t, h.path("tasks", "make.json")))
	}
	h.must("--task", "make")
	dir := h.folder()
	if r := h.step(dir, "--task", "read"); r.code != 0 || !strings.Contains(r.stderr, "600000000") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

// The vars digest in run.json was an unsalted SHA-256 of the vars,
// secrets: included (fixed: a secret var counts by its name only). Anyone who can read the store and the recipe finds a
// secret by trying candidates — here with runner itself, as an attacker
// would: --init of the same run id in a store of their own.
func TestHostileExecRunJSONDoesNotGiveASecretAway(t *testing.T) {
	recipe := `version: 1
name: hxsec
secrets: [pw]
vars:
  pw: ""
tasks:
  t:
    uses: shell
    with: {run: 'echo hi'}
`
	h := newHXRun(t, recipe)
	h.must("--init", "--set", "pw=hunter2-secret")
	var run struct {
		VarsDigest string `json:"vars_digest"`
	}
	json.Unmarshal([]byte(readFile(t, h.path("run.json"))), &run)
	for _, guess := range []string{"password", "letmein", "hunter2-secret"} {
		attacker := newHXRun(t, recipe)
		attacker.must("--init", "--set", "pw="+guess)
		var mine struct {
			VarsDigest string `json:"vars_digest"`
		}
		json.Unmarshal([]byte(readFile(t, attacker.path("run.json"))), &mine)
		// The digest must say nothing of the value: the same whatever
		// the guess (a secret var counts by its name only).
		if mine.VarsDigest != run.VarsDigest {
			t.Errorf("run.json's vars_digest depends on the secret's value: %s for %q, %s for the real one", mine.VarsDigest, guess, run.VarsDigest)
		}
	}
	sum := sha256.Sum256([]byte(`"pw"="hunter2-secret"` + "\x00"))
	if hex.EncodeToString(sum[:]) == run.VarsDigest {
		t.Errorf("vars_digest is sha256(%q)", `"pw"="hunter2-secret"`+"\x00")
	}
}

// Under apply a for_each item holding a secret is the secret; under exec
// the instance must not run with the plan's masked record, "***" (it did
// when this review began; main has since made it a clear error).
func TestHostileExecASecretItemIsNotFedOnAsStars(t *testing.T) {
	h := newHXRun(t, `version: 1
name: hxsec2
secrets: [pw]
vars:
  pw: ""
tasks:
  fan:
    uses: shell
    for_each: '[vars.pw]'
    with: {shell: sh, run: 'test "${{ item }}" = "${{ vars.pw }}" && echo SAME || echo DIFFERENT'}
`)
	set := []string{"--set", "pw=hunter2-secret"}
	h.must(append([]string{"--init"}, set...)...)
	h.must(append([]string{"--task", "fan", "--plan"}, set...)...)
	r := h.step(h.folder(), append([]string{"--task", "fan", "--item", "0"}, set...)...)
	if strings.Contains(r.stderr, "DIFFERENT") || !strings.Contains(r.stderr, "SAME") && !strings.Contains(r.stderr, "held a secret") {
		t.Fatalf("the instance ran with another item than apply's (exit %d):\n%s", r.code, r.stderr)
	}
}

// apply gives the next task the output itself, and --resume runs a task
// whose outputs held a secret again rather than feed on "***"
// (TestAResumedRunNeverFeedsOnAMaskedOutput); exec must not feed on "***"
// either (it did when this review began; main has since made it an error).
func TestHostileExecAMaskedOutputIsNotFedOnAsStars(t *testing.T) {
	h := newHXRun(t, `version: 1
name: hxsec3
tasks:
  make:
    uses: shell
    with: {shell: sh, run: 'printf %s "$API_TOKEN"'}
  read:
    uses: shell
    needs: [make]
    with: {shell: sh, run: 'test "${{ tasks.make.outputs.stdout }}" = "$API_TOKEN" && echo SAME || echo DIFFERENT'}
`, "API_TOKEN=tok-abcdef123456")
	h.must("--init")
	h.must("--task", "make")
	r := h.step(h.folder(), "--task", "read")
	if strings.Contains(r.stderr, "DIFFERENT") || !strings.Contains(r.stderr, "SAME") && !strings.Contains(r.stderr, "held a secret") {
		t.Fatalf("read ran on a masked output (exit %d):\n%s", r.code, r.stderr)
	}
}

// Was broken (it hung), fixed by a response timeout in objstore: a store endpoint that takes the connection
// and never answers holds exec for ever (over 10 minutes by hand), reading
// run.json. It must end with an error naming the endpoint.
func TestHostileExecABlackHoleStoreEndpointEndsWithAnError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		var held []net.Conn
		for {
			c, err := l.Accept()
			if err != nil {
				for _, c := range held {
					c.Close()
				}
				return
			}
			held = append(held, c)
		}
	}()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), hxRecipe)
	// Each try waits 1 s for the response (a minute by default), then is
	// tried again: exec gives up after its retries, with an error.
	env := testtools.BaseEnv("AWS_ACCESS_KEY_ID=k", "AWS_SECRET_ACCESS_KEY=secret-0123456789", "AWS_REGION=us-east-1", "RUNNER_S3_RESPONSE_TIMEOUT=1s")
	// No limit of this test's own: while exec hangs, it is stopped shortly
	// before go test's -timeout, so that the test fails alone instead of
	// taking the package's other results down with it.
	ctx := context.Background()
	if deadline, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-30*time.Second))
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, runnerBin, "exec", "r.yaml", "--run", "r1", "--state", "s3://state/runs",
		"--state-endpoint", "http://"+l.Addr().String(), "--state-path-style", "--task", "read")
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("exec still waited on the endpoint when the test ran out of time:\n%s", out)
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(string(out), l.Addr().String()) {
		t.Fatalf("%v\n%s", err, out)
	}
}

// A missing bucket, an endpoint that refuses, a wrong key: clear errors,
// exit 2, no secret in them.
func TestHostileExecBadStoresThroughS3(t *testing.T) {
	s3 := startS3(t, "state")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), hxRecipe)
	run := func(env []string, state, endpoint string) result {
		return runner(t, dir, baseEnv(env...), "exec", "r.yaml", "--run", "r1", "--state", state,
			"--state-endpoint", endpoint, "--state-path-style", "--task", "read")
	}
	if r := run(s3.env, "s3://state/runs", "http://user:hunter2pass@127.0.0.1:1"); r.code != 2 || strings.Contains(r.stderr, "hunter2pass") || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("refused: exit %d\n%s", r.code, r.stderr)
	}
	wrong := append(append([]string{}, s3.env...), "AWS_SECRET_ACCESS_KEY=wrong-secret-value")
	if r := run(wrong, "s3://state/runs", s3.endpoint); r.code != 2 || strings.Contains(r.stderr, "wrong-secret-value") || !strings.Contains(r.stderr, "AWS_SECRET_ACCESS_KEY") {
		t.Errorf("wrong key: exit %d\n%s", r.code, r.stderr)
	}
	// a step (not --init) in a bucket that does not exist should say so,
	// not "run --init first" (which would fail on the missing bucket)
	if r := run(s3.env, "s3://nobucket/runs", s3.endpoint); r.code != 2 || !strings.Contains(r.stderr, "nobucket") || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("missing bucket: exit %d\n%s", r.code, r.stderr)
	}
}
