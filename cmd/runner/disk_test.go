package main

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tmpfs mounts a tmpfs of the given size (as mount's size=, e.g. "256k")
// on a new folder, for a disk that fills up. It needs root, as CI has.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root (CI runs as root)")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// TestAFullStateDiskIsRunnersFailureNotTheTasks: when the state folder's
// disk filled, the task-log writer failed, the child's stdout pipe closed
// and the child died of SIGPIPE ("command exited with status 141"),
// state.json was left "running" and the journal empty.
func TestAFullStateDiskIsRunnersFailureNotTheTasks(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
vars:
  loud: true
tasks:
  loud:
    uses: shell
    with:
      run: |
        if [ "${{ vars.loud }}" = true ]; then head -c 3000000 /dev/zero | tr '\0' x; echo; fi
        echo finished > loud.done
  after:
    uses: shell
    needs: [loud]
    with:
      run: echo ran > after.ran
`)
	state := tmpfs(t, "256k")
	res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--state-dir", state)
	if res.code != 1 || !strings.Contains(res.stderr, "no space left on device") || !strings.Contains(res.stderr, "state could not be written to "+state) {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, tail(res.stdout), res.stderr)
	}
	if strings.Contains(res.stdout, "status 141") || readFile(t, filepath.Join(dir, "loud.done")) != "finished\n" {
		t.Fatalf("the task was killed by the log writer's failure:\n%s", tail(res.stdout))
	}
	if !strings.Contains(res.stdout, "loud   succeeded") {
		t.Errorf("the summary does not give the task's own result:\n%s", tail(res.stdout))
	}
	if _, err := os.Stat(filepath.Join(dir, "after.ran")); err == nil {
		t.Error("a task was started after the state could not be written")
	}
	run := latestRun(t, state) // state.json on disk is whole and readable
	// Room again: the run resumes and finishes.
	os.RemoveAll(filepath.Join(state, "runs", run.ID, "logs"))
	res = runner(t, dir, baseEnv(), "apply", "r.yaml", "--state-dir", state, "--resume", "--set", "loud=false")
	if res.code != 0 || readFile(t, filepath.Join(dir, "after.ran")) != "ran\n" {
		t.Fatalf("resume: exit %d\n%s\n%s", res.code, tail(res.stdout), res.stderr)
	}
}

// TestZipOnAFullDiskFailsAndLetsGo: the zip task hung for ever about 2
// runs in 3 when its destination filled up, kept the recipe lock (the
// next run exited 3), ignored the first SIGTERM, and its temp file filled
// the disk. A hang fails this test by the test binary's timeout.
func TestZipOnAFullDiskFailsAndLetsGo(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "episodes")
	os.Mkdir(src, 0o755)
	// More than the zip task keeps in flight (about 12 MiB on 2 cores), so
	// that its reader waits for memory when the disk fills.
	for i := range 30 {
		data := make([]byte, 1_500_000)
		rand.Read(data)
		os.WriteFile(filepath.Join(src, "ep"+itoa(i)+".bin"), data, 0o644)
	}
	full := tmpfs(t, "1m")
	writeFile(t, filepath.Join(dir, "r.yaml"), "version: 1\ntasks:\n  pack:\n    uses: zip\n    with:\n      src: episodes\n      dest: "+full+"/episodes.zip\n")
	for try := range 6 {
		res := runner(t, dir, baseEnv(), "apply", "r.yaml")
		if res.code != 1 || !strings.Contains(res.stdout, "no space left on device") {
			t.Fatalf("try %d: exit %d (3 means the last run kept the lock)\n%s\n%s", try, res.code, tail(res.stdout), res.stderr)
		}
		if entries, _ := os.ReadDir(full); len(entries) != 0 {
			t.Fatalf("try %d: left on the full disk: %v", try, entries)
		}
	}
}

// tail is the end of a long output, for failure messages.
func tail(s string) string {
	if len(s) > 3000 {
		return "…" + s[len(s)-3000:]
	}
	return s
}
