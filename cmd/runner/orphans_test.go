package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/procgroup"
	"github.com/novelfactory/runner/engine/state"
)

// orphaning is a recipe whose task leaves a grandchild running: the shell
// starts sleep in the background and waits for it.
const orphaning = `version: 1
vars:
  dir: ""
  block: true
tasks:
  step:
    uses: shell
    with:
      run: |
        echo ran >> "${{ vars.dir }}/step.count"
        if [ "${{ vars.block }}" = true ]; then sleep 300 & echo $! > "${{ vars.dir }}/fifo"; wait; fi
`

// gone waits until no process of group pgid runs; a process that never
// ends fails the test by its timeout.
func gone(pgid int) {
	for procgroup.Alive(pgid) {
		time.Sleep(10 * time.Millisecond)
	}
}

// TestAKilledRunnersTasksDoNotRunTwice: kill -9 of runner orphaned its
// running task, the kernel freed the recipe lock at once, and --resume
// started the same step while the orphan still ran.
func TestAKilledRunnersTasksDoNotRunTwice(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), orphaning)
	mkfifo(t, filepath.Join(dir, "fifo"))
	cmd := exec.Command(runnerBin, "apply", "r.yaml", "--set", "dir="+dir)
	cmd.Dir, cmd.Env = dir, baseEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sleeper := readPID(t, filepath.Join(dir, "fifo"))
	pgid, _ := syscall.Getpgid(sleeper)
	defer syscall.Kill(-pgid, syscall.SIGKILL)
	recorded(t, filepath.Join(dir, "r.yaml"), pgid)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()

	// The shell died with runner (Pdeathsig); its background child did not.
	if procgroup.StartTime(pgid) != 0 && !strings.HasPrefix(readFile(t, "/proc/"+itoa(pgid)+"/stat"), itoa(pgid)+" (sh) Z") {
		t.Errorf("the task's shell %d outlived runner", pgid)
	}
	res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--resume", "--set", "dir="+dir, "--set", "block=false")
	if res.code != 3 || !strings.Contains(res.stderr, "processes its tasks started still run") || !strings.Contains(res.stderr, "task step: process group "+itoa(pgid)) {
		t.Fatalf("resume while the orphan runs: exit %d\n%s", res.code, res.stderr)
	}
	if n := lines(t, filepath.Join(dir, "step.count")); n != 1 {
		t.Fatalf("step ran %d times", n)
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	gone(pgid)
	res = runner(t, dir, baseEnv(), "apply", "r.yaml", "--resume", "--set", "dir="+dir, "--set", "block=false")
	if res.code != 0 {
		t.Fatalf("resume once the orphan ended: exit %d\n%s", res.code, res.stderr)
	}
}

// TestATimeoutKillsTheWholeGroup: the SIGKILL promised 5 s after SIGTERM
// reached only the shell, so a child that ignores SIGTERM outlived runner.
func TestATimeoutKillsTheWholeGroup(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
tasks:
  stubborn:
    uses: shell
    timeout: 1s
    with:
      run: trap '' TERM; sleep 300 & echo $! > child.pid; wait
`)
	res := runner(t, dir, baseEnv(), "apply", "r.yaml")
	if res.code != 1 || !strings.Contains(res.stdout, "timed out after 1s") {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	var child int
	if _, err := fmtSscan(readFile(t, filepath.Join(dir, "child.pid")), &child); err != nil {
		t.Fatal(err)
	}
	if st := procgroup.StartTime(child); st != 0 && !strings.Contains(readFile(t, "/proc/"+itoa(child)+"/stat"), ") Z") {
		syscall.Kill(child, syscall.SIGKILL)
		t.Fatalf("the child that ignores SIGTERM (%d) outlived the task", child)
	}
}

// TestBackgroundLeftoversAreStoppedWhenATaskEnds: nothing a task starts
// outlives it, as in GitHub Actions.
func TestBackgroundLeftoversAreStoppedWhenATaskEnds(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
tasks:
  leaves-one:
    uses: shell
    with:
      run: sleep 300 > /dev/null 2>&1 & echo $! > child.pid
`)
	res := runner(t, dir, baseEnv(), "apply", "r.yaml")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	var child int
	fmtSscan(readFile(t, filepath.Join(dir, "child.pid")), &child)
	if st := procgroup.StartTime(child); st != 0 && !strings.Contains(readFile(t, "/proc/"+itoa(child)+"/stat"), ") Z") {
		syscall.Kill(child, syscall.SIGKILL)
		t.Fatalf("the background process %d outlived its task", child)
	}
}

// TestTheLockIsKeyedByTheRecipe: the same recipe with another --state-dir
// ran alongside itself; two recipes of the same file name sharing a state
// folder blocked each other.
func TestTheLockIsKeyedByTheRecipe(t *testing.T) {
	dir, cmd, child := startBlocked(t)
	defer func() { syscall.Kill(child, syscall.SIGKILL); cmd.Process.Kill(); cmd.Wait() }()
	res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--set", "dir="+dir, "--state-dir", t.TempDir())
	if res.code != 3 {
		t.Errorf("the same recipe with another --state-dir: exit %d, want 3\n%s", res.code, res.stderr)
	}
	other := filepath.Join(t.TempDir(), "r.yaml")
	writeFile(t, other, "version: 1\ntasks:\n  hi:\n    uses: shell\n    with:\n      run: echo hi\n")
	res = runner(t, dir, baseEnv(), "apply", other, "--state-dir", filepath.Join(dir, ".runner"))
	if res.code != 0 {
		t.Errorf("another r.yaml sharing the state folder: exit %d, want 0\n%s", res.code, res.stderr)
	}
}

// recorded waits until the lock's holder file of the recipe lists the
// process group pgid: runner records a group just after starting it.
func recorded(t *testing.T, recipe string, pgid int) {
	t.Helper()
	lock, err := state.LockPath(recipe)
	if err != nil {
		t.Fatal(err)
	}
	holder := strings.TrimSuffix(lock, ".lock") + ".holder"
	for !strings.Contains(readFileOrEmpty(holder), fmt.Sprintf(`"pgid":%d,`, pgid)) {
		time.Sleep(time.Millisecond)
	}
}

func readFileOrEmpty(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}
