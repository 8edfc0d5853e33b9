package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/novelfactory/runner/engine/state"
)

// resumable is a recipe whose middle task can be made to hang, for the
// kill -9, lock and interrupt tests. Every task counts its runs in dir.
const resumable = `version: 1
vars:
  dir: ""
  slow: true
tasks:
  first:
    uses: shell
    with:
      run: echo ran >> "${{ vars.dir }}/first.count"; echo first-output
  middle:
    uses: shell
    needs: [first]
    with:
      run: |
        echo ran >> "${{ vars.dir }}/middle.count"
        if [ "${{ vars.slow }}" = true ]; then echo $$ > "${{ vars.dir }}/fifo"; exec sleep 300; fi
        echo "middle saw ${{ tasks.first.outputs.stdout }}"
  last:
    uses: shell
    needs: [middle]
    with:
      run: echo "${{ tasks.middle.outputs.stdout }}" > "${{ vars.dir }}/last.out"
`

// startBlocked starts `runner apply` of the resumable recipe in a new
// folder and returns once its middle task runs: the folder, the runner
// process, and the pid of the task's process (which sleeps until killed).
func startBlocked(t *testing.T) (string, *exec.Cmd, int) {
	t.Helper()
	return startBlockedIn(t, t.TempDir())
}

// startBlockedIn is startBlocked in a given folder.
func startBlockedIn(t *testing.T, dir string) (string, *exec.Cmd, int) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "r.yaml"), resumable)
	os.Remove(filepath.Join(dir, "fifo"))
	mkfifo(t, filepath.Join(dir, "fifo"))
	cmd := exec.Command(runnerBin, "apply", "r.yaml", "--set", "dir="+dir)
	cmd.Dir, cmd.Env = dir, baseEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return dir, cmd, readPID(t, filepath.Join(dir, "fifo")) // the middle task is running now
}

func lines(t *testing.T, path string) int {
	t.Helper()
	return strings.Count(readFile(t, path), "\n")
}

func latestRun(t *testing.T, stateDir string) *state.Run {
	t.Helper()
	runs, err := (&state.Store{Dir: stateDir}).List()
	if err != nil || len(runs) == 0 {
		t.Fatalf("no runs in %s: %v", stateDir, err)
	}
	return runs[len(runs)-1]
}

func TestResumeAfterKill9DoesNotRepeatSucceededTasks(t *testing.T) {
	dir, cmd, child := startBlocked(t)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	syscall.Kill(child, syscall.SIGKILL) // the orphaned sleep

	killed := latestRun(t, filepath.Join(dir, ".runner"))
	// first's success is journaled before middle can start; middle may not
	// have reached state.json yet.
	if m := killed.Task("middle").Status; killed.Task("first").Status != state.Succeeded || (m != state.Running && m != state.Pending) {
		t.Fatalf("state after kill -9: first %s, middle %s", killed.Task("first").Status, killed.Task("middle").Status)
	}

	res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--resume", "--set", "dir="+dir, "--set", "slow=false")
	if res.code != 0 {
		t.Fatalf("resume exited %d:\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if n := lines(t, filepath.Join(dir, "first.count")); n != 1 {
		t.Errorf("first ran %d times, want 1: a succeeded task must not run again", n)
	}
	if n := lines(t, filepath.Join(dir, "middle.count")); n != 2 {
		t.Errorf("middle ran %d times, want 2", n)
	}
	if got := readFile(t, filepath.Join(dir, "last.out")); got != "middle saw first-output\n" {
		t.Errorf("last.out = %q: the resumed run must see the reused outputs", got)
	}
	resumed := latestRun(t, filepath.Join(dir, ".runner"))
	if resumed.ID != killed.ID || resumed.Status != state.Succeeded || resumed.Resumes != 1 {
		t.Errorf("resumed run %s status %s resumes %d, want %s succeeded 1", resumed.ID, resumed.Status, resumed.Resumes, killed.ID)
	}
	list := runner(t, dir, baseEnv(), "runs", "r.yaml")
	if !strings.Contains(list.stdout, killed.ID) || !strings.Contains(list.stdout, "succeeded") {
		t.Errorf("runs lists:\n%s", list.stdout)
	}
}

func TestASecondRunWaitsForNoOneAndExits3(t *testing.T) {
	dir, cmd, child := startBlocked(t)
	defer syscall.Kill(child, syscall.SIGKILL)

	res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--set", "dir="+dir)
	if res.code != 3 || !strings.Contains(res.stderr, "another run of r is in progress") {
		t.Errorf("second run: exit %d, stderr %q; want 3 and a clear message", res.code, res.stderr)
	}

	// Ctrl-C: the running task is cancelled (its process group is
	// signalled), state is saved, exit 130.
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v, want exit 130", err)
	}
	if alive(child) {
		t.Errorf("the task's process %d survived the interrupt", child)
	}
	run := latestRun(t, filepath.Join(dir, ".runner"))
	if run.Status != state.Cancelled || run.Task("middle").Status != state.Cancelled || run.Task("last").Status != state.Cancelled {
		t.Errorf("after interrupt: run %s, middle %s, last %s", run.Status, run.Task("middle").Status, run.Task("last").Status)
	}
	// The lock is free again.
	res = runner(t, dir, baseEnv(), "apply", "r.yaml", "--set", "dir="+dir, "--set", "slow=false")
	if res.code != 0 {
		t.Errorf("run after the interrupt: exit %d\n%s", res.code, res.stderr)
	}
}

// snapshot records every file and folder under root: path, mode, size,
// modification time and content hash.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	snap := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		entry := fmt.Sprintf("%s %d %d", info.Mode(), info.Size(), info.ModTime().UnixNano())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			entry += fmt.Sprintf(" %x", sha256.Sum256(data))
		}
		snap[path] = entry
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// copyTree copies the shipped recipes and the example project into dir.
func copyTree(t *testing.T, dir string) {
	t.Helper()
	for _, src := range []string{"../../recipes", "../../examples"} {
		err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel("../..", path)
			if d.Name() == ".runner" {
				return filepath.SkipDir
			}
			target := filepath.Join(dir, rel)
			if d.IsDir() {
				return os.MkdirAll(target, 0o755)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestDryRunLeavesTheFileSystemUnchanged(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	tmp := filepath.Join(dir, "tmp")
	os.Mkdir(tmp, 0o755)
	before := snapshot(t, dir)
	env := baseEnv("TMPDIR=" + tmp)
	for _, args := range [][]string{
		{"plan", "recipes/hello.yaml"},
		{"apply", "--dry-run", "recipes/hello.yaml", "--set", "publish=true"},
		{"plan", "recipes/hello.yaml", "--output", "json"},
		{"plan", "recipes/weekly-backup.yaml"},
		{"plan", "recipes/publish-epub.yaml"},
		{"plan", "recipes/finance.yaml"},
	} {
		res := runner(t, dir, env, args...)
		if res.code != 0 || !strings.Contains(res.stdout, "would run") {
			t.Fatalf("%v: exit %d\n%s\n%s", args, res.code, res.stdout, res.stderr)
		}
	}
	after := snapshot(t, dir)
	for path, b := range before {
		if after[path] != b {
			t.Errorf("%s changed: %s → %s", path, b, after[path])
		}
	}
	for path := range after {
		if _, ok := before[path]; !ok {
			t.Errorf("%s was created by a dry run", path)
		}
	}
}

func TestTheShippedHelloRecipeRuns(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	summary := filepath.Join(dir, "step-summary.md")
	res := runner(t, dir, baseEnv("GITHUB_STEP_SUMMARY="+summary), "apply", "recipes/hello.yaml")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{
		"안녕하세요! Pilot has 3 episodes, 466 characters in all",
		"fetch-greeting attempt 1 of 3 failed, retrying",
		"⊘ publish skipped: if: vars.publish is false",
		"count           succeeded",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, res.stdout)
		}
	}
	md := readFile(t, summary)
	for _, want := range []string{"runner: hello — succeeded", "| report | ✅ succeeded | 1 |", "| publish | ⏭️ skipped |"} {
		if !strings.Contains(md, want) {
			t.Errorf("step summary lacks %q:\n%s", want, md)
		}
	}
}

func TestJSONOutputIsOneEventPerLine(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	res := runner(t, dir, baseEnv(), "apply", "recipes/hello.yaml", "--output", "json")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	seen := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(res.stdout))
	for sc.Scan() {
		var e map[string]any
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not JSON: %q", sc.Text())
		}
		seen[fmt.Sprint(e["event"])]++
	}
	for event, n := range map[string]int{"run_started": 1, "task_started": 6, "task_finished": 8, "task_retrying": 1, "run_finished": 1, "summary": 1} {
		if seen[event] != n {
			t.Errorf("%d %s events, want %d (all: %v)", seen[event], event, n, seen)
		}
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "ok.yaml"), "version: 1\ntasks:\n  a: {uses: shell, with: {run: 'true'}}\n")
	writeFile(t, filepath.Join(dir, "fail.yaml"), "version: 1\ntasks:\n  a: {uses: shell, with: {run: 'echo oops >&2; exit 3'}}\n")
	writeFile(t, filepath.Join(dir, "bad.yaml"), "version: 1\ntasks:\n  a: {uses: shell, with: {rnu: 'true'}}\n")
	cases := []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"apply", "ok.yaml"}, 0, ""},
		{[]string{"apply", "fail.yaml"}, 1, ""},
		{[]string{"apply", "bad.yaml"}, 2, `bad.yaml:3:27: task "a": with: unknown param "rnu" (did you mean "run"?)`},
		{[]string{"validate", "ok.yaml", "bad.yaml"}, 2, "1 problem found; nothing was run."},
		{[]string{"apply", "missing.yaml"}, 2, "missing.yaml: cannot read recipe: no such file or directory"},
		{[]string{"apply", "ok.yaml", "--only", "b"}, 2, `--only b: no such task in ok.yaml`},
		{[]string{"apply", "ok.yaml", "--output", "xml"}, 2, `--output "xml": use text or json`},
		{[]string{"apply", "ok.yaml", "--set", "x=1"}, 2, `the recipe declares no var "x"`},
		{[]string{"apply", "--no-such-flag", "ok.yaml"}, 2, "flag provided but not defined"},
		{[]string{"tasks", "shel"}, 2, `unknown task type "shel" (did you mean "shell"?)`},
		// urfave/cli gives its own error exit code 3, which is runner's
		// code for a held lock: a command it does not know is a usage error.
		{[]string{"nosuch"}, 2, "No help topic for 'nosuch'"},
		{[]string{"plan", "fail.yaml", "--only", "a"}, 0, ""},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			res := runner(t, dir, baseEnv(), c.args...)
			if res.code != c.code || !strings.Contains(res.stderr, c.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and …%s…", res.code, res.stderr, c.code, c.stderr)
			}
		})
	}
	res := runner(t, dir, baseEnv(), "apply", "fail.yaml")
	if !strings.Contains(res.stdout, "command exited with status 3; last lines of stderr:\noops") {
		t.Errorf("a failed shell task should quote its stderr:\n%s", res.stdout)
	}
}

func TestSecretsNeverLeaveTheProcess(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
vars:
  password: ""
  dsn: postgres://factory:pw-in-url-77@db:5432/novels
secrets: [password]
tasks:
  leak:
    uses: shell
    with:
      run: |
        echo "env token: $API_TOKEN"
        echo "var: ${{ vars.password }} dsn: ${{ vars.dsn }}"
        echo "to stderr: $API_TOKEN" >&2
        echo "task env: $MY_API_KEY"
        exit 1
      env:
        MY_API_KEY: taskenvsecret77
`)
	summary := filepath.Join(dir, "summary.md")
	env := baseEnv("API_TOKEN=tok-0123456789", "GITHUB_STEP_SUMMARY="+summary)
	res := runner(t, dir, env, "apply", "r.yaml", "--set", "password=hunter2-horse")
	plan := runner(t, dir, env, "plan", "r.yaml", "--set", "password=hunter2-horse")
	jsonOut := runner(t, dir, env, "apply", "r.yaml", "--set", "password=hunter2-horse", "-o", "json")
	if res.code != 1 || !strings.Contains(res.stdout, "env token: ***") || !strings.Contains(res.stdout, "var: *** dsn: postgres://factory:***@db") {
		t.Fatalf("exit %d; output:\n%s", res.code, res.stdout)
	}
	texts := map[string]string{"stdout": res.stdout, "stderr": res.stderr, "plan": plan.stdout, "json": jsonOut.stdout, "summary": readFile(t, summary)}
	filepath.WalkDir(filepath.Join(dir, ".runner"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			texts[path] = readFile(t, path)
		}
		return nil
	})
	for where, text := range texts {
		for _, secret := range []string{"tok-0123456789", "hunter2-horse", "pw-in-url-77", "taskenvsecret77"} {
			if strings.Contains(text, secret) {
				t.Errorf("%s contains %q:\n%s", where, secret, text)
			}
		}
	}
}

func TestRecipeEnvAndWorkdirReachTheTasks(t *testing.T) {
	dir := t.TempDir()
	work := filepath.Join(dir, "elsewhere")
	os.Mkdir(work, 0o755)
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
vars: {who: 작가}
env:
  GREETING: hello ${{ vars.who }}
tasks:
  show:
    uses: shell
    with:
      run: echo "$GREETING|${{ env.GREETING }}|$(basename "$PWD")|$RUNNER_TASK_ID"
  use:
    uses: shell
    needs: [show]
    with:
      run: echo "${{ tasks.show.outputs.stdout }}" > out.txt
`)
	res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--workdir", work)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if got := readFile(t, filepath.Join(work, "out.txt")); got != "hello 작가|hello 작가|elsewhere|show\n" {
		t.Errorf("out.txt = %q", got)
	}
}

// TestADamagedStateIsNamedAndRecoveredFromTheJournal: the newest run's
// unreadable state.json hid it from `runner runs`, and --resume said the
// run before it had "succeeded: nothing to resume".
func TestADamagedStateIsNamedAndRecoveredFromTheJournal(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), resumable)
	if res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--set", "dir="+dir, "--set", "slow=false"); res.code != 0 {
		t.Fatalf("first run: %d\n%s", res.code, res.stderr)
	}
	_, cmd, child := startBlockedIn(t, dir)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	syscall.Kill(child, syscall.SIGKILL)
	killed := latestRun(t, filepath.Join(dir, ".runner"))
	os.WriteFile(filepath.Join(dir, ".runner/runs", killed.ID, "state.json"), []byte(`{"id": "`+killed.ID+`", "tasks": [`), 0o644) // bit rot

	list := runner(t, dir, baseEnv(), "runs", "r.yaml")
	if !strings.Contains(list.stdout, killed.ID) || !strings.Contains(list.stdout, "damaged, recovered from its journal") {
		t.Fatalf("runs:\n%s", list.stdout)
	}
	res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--resume", "--set", "dir="+dir, "--set", "slow=false")
	if res.code != 0 || !strings.Contains(res.stderr, "run "+killed.ID+": its state.json cannot be read") || !strings.Contains(res.stderr, "recovered from its journal: 1 tasks succeeded") {
		t.Fatalf("resume: exit %d\n%s", res.code, res.stderr)
	}
	if n := lines(t, filepath.Join(dir, "first.count")); n != 2 {
		t.Errorf("first ran %d times, want 2 (once per run: the resumed run reuses it)", n)
	}
}
