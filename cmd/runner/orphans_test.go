package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
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

	// The shell dies with runner (Pdeathsig) — if it did not, this waits
	// until the test binary's timeout; its background child does not.
	for running(pgid) {
		time.Sleep(time.Millisecond)
	}
	if !running(sleeper) {
		t.Fatal("the background child died with runner: nothing to detect")
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
	if child := outlived(t, dir); child != 0 {
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
	if child := outlived(t, dir); child != 0 {
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

// TestASucceedingCommandWithABackgroundChildSucceeds: `sleep 100 & echo
// bye` exited 0, but the task failed 5 s later with "WaitDelay expired
// before I/O complete" (the background child held stdout), and with
// retries the successful command ran again.
func TestASucceedingCommandWithABackgroundChildSucceeds(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
tasks:
  bg:
    uses: shell
    retry: {attempts: 3, delay: 10ms}
    with:
      run: sleep 100 & echo $! > child.pid; echo ran >> ran.count; echo bye
`)
	res := runner(t, dir, baseEnv(), "apply", "r.yaml")
	if res.code != 0 || strings.Contains(res.stdout, "WaitDelay") || lines(t, filepath.Join(dir, "ran.count")) != 1 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	if outlived(t, dir) != 0 {
		t.Fatal("the background child outlived its task")
	}
}

// TestAChildThatLeavesTheGroupIsStoppedToo: a child that made a process
// group of its own (setpgid, not setsid) survived the timeout's kill.
func TestAChildThatLeavesTheGroupIsStoppedToo(t *testing.T) {
	for _, timeout := range []string{"1s", ""} {
		dir := t.TempDir()
		run := `perl -e 'setpgrp(0,0); $SIG{TERM}="IGNORE"; sleep 300' & echo $! > child.pid; `
		if timeout != "" {
			run += "wait"
		}
		recipe := "version: 1\ntasks:\n  escape:\n    uses: shell\n"
		if timeout != "" {
			recipe += "    timeout: " + timeout + "\n"
		}
		writeFile(t, filepath.Join(dir, "r.yaml"), recipe+"    with:\n      run: "+strconvQuote(run)+"\n")
		runner(t, dir, baseEnv(), "apply", "r.yaml")
		if outlived(t, dir) != 0 {
			t.Fatalf("timeout %q: the child in a process group of its own outlived its task", timeout)
		}
	}
}

// running reports whether process pid runs (a zombie does not).
func running(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(data), ") Z ")
}

func strconvQuote(s string) string { return fmt.Sprintf("%q", s) }

// TestASecondSignalKillsTheTasksAndStillSavesState: a second SIGTERM
// ended runner at once (exit 143) with no summary, the task's processes
// that ignore SIGTERM kept running, and state.json stayed "running".
// SIGHUP (a closed terminal) ended runner with no clean-up either.
func TestASecondSignalKillsTheTasksAndStillSavesState(t *testing.T) {
	for _, sigs := range [][]syscall.Signal{{syscall.SIGTERM, syscall.SIGTERM}, {syscall.SIGINT, syscall.SIGTERM}, {syscall.SIGHUP, syscall.SIGHUP}} {
		dir := stubbornDir(t)
		code, out, child := signalStubborn(t, dir, sigs, func(child int) {
			recorded(t, filepath.Join(dir, "r.yaml"), mustPgid(t, child))
		}, "apply", "r.yaml")
		if code != 130 {
			t.Errorf("%v: exit %d, want 130\n%s", sigs, code, out)
		}
		if running(child) {
			syscall.Kill(child, syscall.SIGKILL)
			t.Errorf("%v: the task's process outlived runner", sigs)
		}
		if run := latestRun(t, filepath.Join(dir, ".runner")); run.Status != state.Cancelled {
			t.Errorf("%v: run %s, want cancelled", sigs, run.Status)
		}
	}
}

// stubbornDir makes a folder with r.yaml, a recipe whose one task starts a
// child that ignores SIGTERM and writes its pid into the FIFO "fifo".
func stubbornDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
tasks:
  stubborn:
    uses: shell
    with:
      run: trap '' TERM; sleep 200 & echo $! > fifo; wait
`)
	mkfifo(t, filepath.Join(dir, "fifo"))
	return dir
}

// signalStubborn runs runner with args in a stubbornDir, and once the
// task's child runs and ready(child) has returned, sends it sigs. It
// returns runner's exit code, what it printed and the child's pid.
func signalStubborn(t *testing.T, dir string, sigs []syscall.Signal, ready func(child int), args ...string) (int, string, int) {
	t.Helper()
	cmd := exec.Command(runnerBin, args...)
	cmd.Dir, cmd.Env = dir, baseEnv()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	child := readPID(t, filepath.Join(dir, "fifo"))
	ready(child)
	for _, sig := range sigs {
		cmd.Process.Signal(sig)
	}
	err := cmd.Wait()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), child
}

// TestAClosedStdoutDoesNotKillTheRun: `runner apply r.yaml | head -2`
// killed runner with SIGPIPE (exit 141), its task with it, and left the
// run "running".
func TestAClosedStdoutDoesNotKillTheRun(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
tasks:
  chatty:
    uses: shell
    with:
      run: for i in $(seq 1 2000); do echo "line $i"; done; echo done > chatty.done
`)
	cmd := exec.Command(runnerBin, "apply", "r.yaml")
	cmd.Dir, cmd.Env = dir, baseEnv()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 10)
	stdout.Read(buf) // as head does: a little, then the pipe closes
	stdout.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("runner: %v", err)
	}
	if readFile(t, filepath.Join(dir, "chatty.done")) != "done\n" || latestRun(t, filepath.Join(dir, ".runner")).Status != state.Succeeded {
		t.Fatal("the run did not finish")
	}
}

func mustPgid(t *testing.T, pid int) int {
	t.Helper()
	pgid, err := syscall.Getpgid(pid)
	if err != nil {
		t.Fatal(err)
	}
	return pgid
}

// outlived reads the pid a task wrote to dir/child.pid and returns it if
// that process still runs (killing it, not to leave it behind), else 0.
func outlived(t *testing.T, dir string) int {
	t.Helper()
	var child int
	if _, err := fmtSscan(readFile(t, filepath.Join(dir, "child.pid")), &child); err != nil {
		t.Fatal(err)
	}
	if !running(child) {
		return 0
	}
	syscall.Kill(child, syscall.SIGKILL)
	return child
}

// TestADaemonThatKeepsTheOutputDoesNotFailTheTask: a process that starts
// a session of its own (a daemon) is left alone — and when it keeps the
// task's output open, runner stops reading after the grace period and
// the task still succeeds ("WaitDelay expired" failed it before).
func TestADaemonThatKeepsTheOutputDoesNotFailTheTask(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
tasks:
  daemon:
    uses: shell
    with:
      run: |
        setsid sleep 60 & echo $! > child.pid
        # A daemon detaches before the command ends: what is still in the
        # task's session then is stopped with it.
        while [ "$(cut -d' ' -f6 /proc/$!/stat)" = "$(cut -d' ' -f6 /proc/$$/stat)" ]; do sleep 0.01; done
        echo started
`)
	res := runner(t, dir, baseEnv(), "apply", "r.yaml")
	child := outlived(t, dir) // kills it: it is a daemon on purpose
	if res.code != 0 || !strings.Contains(res.stdout, "stopped reading after 5s") {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	if child == 0 {
		t.Error("the daemon (a session of its own) was stopped: it should be left alone")
	}
}

// survivors lists the running processes whose name (as a process sets it
// for itself: perl's $0, python's argv[0]) starts with mark.
func survivors(mark string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if name, _ := os.ReadFile("/proc/" + e.Name() + "/comm"); strings.HasPrefix(string(name), mark) && liveProcess(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// lingering returns the processes named mark… that keep running: a
// process killed a moment ago may still be on its way out, so it looks a
// few times, 10 ms apart, and returns what every look found running.
func lingering(mark string) []int {
	var left []int
	for range 20 {
		if left = survivors(mark); len(left) == 0 {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return left
}

// liveProcess reports whether pid runs: not a zombie, unless other
// threads of it go on.
func liveProcess(pid int) bool {
	if running(pid) {
		return true
	}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	return err == nil && len(tasks) > 1
}

// TestEscapesOfEveryShapeAreStopped: a process that forks in a loop (each
// generation in a new process group), a process whose main thread exited
// while another thread goes on (a "zombie" leader that is alive), and a
// process whose parent left the session while it stayed in it holding
// stdout, all outlived their task.
func TestEscapesOfEveryShapeAreStopped(t *testing.T) {
	for name, run := range map[string]string{
		"a fork loop": `perl -e '$0="runner-escape-loop"; $end=time+60; while(time<$end){ if(fork){exit 0} setpgrp(0,0); select(undef,undef,undef,0.001) }' &
sleep 0.3; echo main-done`,
		"a zombie leader with a live thread": `python3 -c 'import threading, ctypes, time
libc = ctypes.CDLL(None); libc.prctl(15, b"runner-escape-t")
t = threading.Thread(target=lambda: time.sleep(60)); t.start(); time.sleep(0.2); libc.syscall(60, 0)' >/dev/null 2>&1 &
sleep 0.6; echo main-done`,
		"a parent that left the session": `perl -MPOSIX -e 'my $pid = fork; if ($pid) { POSIX::setsid(); open(STDOUT,">/dev/null"); open(STDERR,">/dev/null"); sleep 60; exit } else { setpgrp(0,0); $0="runner-escape-session"; sleep 60 }' &
sleep 0.5; echo main-done`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "r.yaml"), "version: 1\ntasks:\n  escape:\n    uses: shell\n    with:\n      run: "+strconvQuote(run)+"\n")
			res := runner(t, dir, baseEnv(), "apply", "r.yaml")
			left := lingering("runner-escape")
			for _, pid := range left {
				syscall.Kill(pid, syscall.SIGKILL)
			}
			if res.code != 0 || len(left) > 0 {
				t.Fatalf("exit %d, %d processes outlived the task\n%s", res.code, len(left), res.stdout)
			}
			for _, pid := range survivors("perl") { // the setsid parent: a daemon, on purpose
				if cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); strings.Contains(string(cmdline), "runner-escape") {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		})
	}
}

// TestAnExitStatusIsNotATimeout: a command that exited with status 4, while
// a detached process kept its output open past the task's timeout, was
// reported as "timed out", so retry: on: [exit] did not retry it.
func TestAnExitStatusIsNotATimeout(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
tasks:
  t:
    uses: shell
    timeout: 2s
    retry: {attempts: 2, delay: 10ms, on: [exit]}
    with:
      run: |
        setsid sleep 30 &
        echo $! >> holders.pid
        echo ran >> ran.count
        sleep 0.2; exit 4
`)
	res := runner(t, dir, baseEnv(), "apply", "r.yaml")
	for _, line := range strings.Fields(readFile(t, filepath.Join(dir, "holders.pid"))) {
		pid, _ := strconv.Atoi(line)
		syscall.Kill(pid, syscall.SIGKILL)
	}
	if res.code != 1 || !strings.Contains(res.stdout, "command exited with status 4") || strings.Contains(res.stdout, "timed out") || lines(t, filepath.Join(dir, "ran.count")) != 2 {
		t.Fatalf("exit %d, ran %d times\n%s", res.code, lines(t, filepath.Join(dir, "ran.count")), res.stdout)
	}
}

// TestZombiesAreReapedWhileARunGoesOn: orphans that ended stayed zombies
// until runner exited — 3,000 during one task here; a long run could use
// up the process ids.
func TestZombiesAreReapedWhileARunGoesOn(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
tasks:
  spawner:
    uses: shell
    with:
      shell: bash
      run: 'for i in $(seq 1 500); do ( (exit 0) & ); done; touch spawned; sleep 300'
`)
	cmd := exec.Command(runnerBin, "apply", "r.yaml")
	cmd.Dir, cmd.Env = dir, baseEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() }()
	for _, err := os.Stat(filepath.Join(dir, "spawned")); err != nil; _, err = os.Stat(filepath.Join(dir, "spawned")) {
		time.Sleep(10 * time.Millisecond)
	}
	// The reaper runs every second: wait for it (a reaper that never runs
	// fails this test by the test binary's timeout).
	for zombies(cmd.Process.Pid) > 5 {
		time.Sleep(50 * time.Millisecond)
	}
}

// zombies counts the zombie children of pid.
func zombies(pid int) int {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	n := 0
	for _, c := range strings.Fields(string(data)) {
		if stat, _ := os.ReadFile("/proc/" + c + "/stat"); strings.Contains(string(stat), ") Z ") {
			n++
		}
	}
	return n
}

// TestAResumedRunNeverFeedsOnAMaskedOutput: a task whose output held a
// secret was reused on --resume, and the task after it received "***".
func TestAResumedRunNeverFeedsOnAMaskedOutput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
tasks:
  a:
    uses: shell
    with:
      run: echo "$API_TOKEN"
  b:
    needs: a
    uses: shell
    with:
      run: |
        if [ "${{ tasks.a.outputs.stdout }}" = "$API_TOKEN" ]; then echo got-the-token >> b.trace; else echo got-something-else >> b.trace; fi
        [ -e go ] || exit 1
`)
	env := baseEnv("API_TOKEN=s3cr3t-tok-998877")
	if res := runner(t, dir, env, "apply", "r.yaml"); res.code != 1 {
		t.Fatalf("first run: %d", res.code)
	}
	writeFile(t, filepath.Join(dir, "go"), "")
	if res := runner(t, dir, env, "apply", "r.yaml", "--resume"); res.code != 0 {
		t.Fatalf("resume: %d\n%s", res.code, res.stdout)
	}
	if got := readFile(t, filepath.Join(dir, "b.trace")); got != "got-the-token\ngot-the-token\n" {
		t.Fatalf("b saw:\n%s", got)
	}
}
