package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestIncludeDirLetsARecipeIncludeOutsideItsFolder: include: is kept to the
// recipe's folder tree; --include-dir opens one more folder, for validate,
// plan, apply and graph alike.
func TestIncludeDirLetsARecipeIncludeOutsideItsFolder(t *testing.T) {
	shared := t.TempDir()
	writeFile(t, filepath.Join(shared, "common.yaml"), "version: 1\ntasks:\n  common:\n    uses: shell\n    with: {run: echo common}\n")
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), "version: 1\ninclude: ["+filepath.Join(shared, "common.yaml")+"]\ntasks:\n  main:\n    uses: shell\n    needs: [common]\n    with: {run: echo main}\n")
	res := runner(t, dir, baseEnv(), "validate", "r.yaml")
	if res.code != 2 || !strings.Contains(res.stderr, "r.yaml:2:11: cannot include "+filepath.Join(shared, "common.yaml")+": it is outside the recipe's folder") {
		t.Fatalf("validate without --include-dir: exit %d\n%s", res.code, res.stderr)
	}
	for _, args := range [][]string{
		{"validate", "r.yaml", "--include-dir", shared},
		{"plan", "r.yaml", "--include-dir", shared},
		{"apply", "r.yaml", "--include-dir", shared},
		{"graph", "r.yaml", "--include-dir", shared},
	} {
		if res := runner(t, dir, baseEnv(), args...); res.code != 0 {
			t.Errorf("%s: exit %d\n%s%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".runner")); err != nil {
		t.Errorf("apply left no state: %v", err)
	}
}

// TestAbsurdNumbersAreUsageErrors: --jobs 0 and -1 silently meant "the
// number of CPUs"; a negative retry delay was accepted.
func TestAbsurdNumbersAreUsageErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), "version: 1\ntasks:\n  t:\n    uses: shell\n    with: {run: \"true\"}\n")
	for _, jobs := range []string{"0", "-1"} {
		res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--jobs", jobs)
		if res.code != 2 || !strings.Contains(res.stderr, "--jobs "+jobs+": give a number of tasks at once, 1 or more") {
			t.Errorf("--jobs %s: exit %d\n%s", jobs, res.code, res.stderr)
		}
	}
	writeFile(t, filepath.Join(dir, "neg.yaml"), "version: 1\ntasks:\n  t:\n    uses: shell\n    retry: {attempts: 3, delay: -5s}\n    with: {run: \"true\"}\n")
	if res := runner(t, dir, baseEnv(), "validate", "neg.yaml"); res.code != 2 || !strings.Contains(res.stderr, "neg.yaml:5:33: task \"t\": retry.delay: -5s is negative") {
		t.Errorf("delay -5s: exit %d\n%s", res.code, res.stderr)
	}
}

// TestAPipeAsTheStepSummaryNeverHangs: GITHUB_STEP_SUMMARY naming a named
// pipe blocked runner for ever after the run, holding the recipe's lock.
func TestAPipeAsTheStepSummaryNeverHangs(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), "version: 1\ntasks:\n  t:\n    uses: shell\n    with: {run: \"true\"}\n")
	fifo := filepath.Join(dir, "summary")
	mkfifo(t, fifo)
	res := runner(t, dir, baseEnv("GITHUB_STEP_SUMMARY="+fifo), "apply", "r.yaml")
	if res.code != 0 || !strings.Contains(res.stderr, "warning: cannot append to GITHUB_STEP_SUMMARY: open "+fifo+": not a regular file") {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	// The lock is free: the next run starts.
	if res := runner(t, dir, baseEnv(), "apply", "r.yaml"); res.code != 0 {
		t.Fatalf("second run: exit %d\n%s", res.code, res.stderr)
	}
}

// TestTheFirstSIGTERMEndsRunnerWhenNothingIsRunning: with no run to wind
// down (here: blocked writing a warning to a full stderr after the run),
// the first SIGTERM only cancelled a context nothing watched.
func TestTheFirstSIGTERMEndsRunnerWhenNothingIsRunning(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), "version: 1\ntasks:\n  t:\n    uses: shell\n    with: {run: \"true\"}\n")
	// stderr is a pipe filled to the brim: runner's warning about the
	// summary will block.
	fds := make([]int, 2)
	if err := syscall.Pipe2(fds, syscall.O_NONBLOCK|syscall.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := syscall.Write(fds[1], make([]byte, 4096)); err != nil {
			break
		}
	}
	syscall.SetNonblock(fds[1], false)
	errR, errW := os.NewFile(uintptr(fds[0]), "stderr-r"), os.NewFile(uintptr(fds[1]), "stderr-w")
	defer errR.Close()
	outR, outW, _ := os.Pipe()
	cmd := exec.Command(runnerBin, "apply", "r.yaml")
	cmd.Dir, cmd.Env = dir, baseEnv("GITHUB_STEP_SUMMARY="+dir) // a folder: refused with a warning
	cmd.Stdout, cmd.Stderr = outW, errW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	errW.Close()
	sc := bufio.NewScanner(outR)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "run ") {
	}
	// The run is over and its state saved; runner is printing.
	cmd.Process.Signal(syscall.SIGTERM)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("after SIGTERM: %v, want exit status 130", err)
	}
}

// TestTheFactorysConventions: the graph dump is named after its kind
// (neo4j-YYYYMMDD.dump; sqlite-… in the example), restore.yaml still takes
// a set of the old graph-… shape, and weekly-backup.yaml backs up the
// projects it is given, as the factory's script did with --project Pilot.
func TestTheFactorysConventions(t *testing.T) {
	dir := t.TempDir()
	copyTree(t, dir)
	offsite := filepath.Join(dir, "build/offsite/weekly")
	res := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml", "--set", "stamp=20261129", "--set", "projects=Pilot")
	if res.code != 0 {
		t.Fatalf("backup: exit %d\n%s", res.code, res.stdout)
	}
	names := func(set string) string {
		entries, _ := os.ReadDir(filepath.Join(offsite, set))
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return strings.Join(out, " ")
	}
	if got := names("20261129"); got != ".runner-set Pilot-episodes.zip manifest.json sqlite-20261129.db" {
		t.Fatalf("the set holds %s", got)
	}
	// Every project when projects is empty; a project that does not exist fails the backup.
	if res := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml", "--set", "stamp=20261130"); res.code != 0 {
		t.Fatalf("backup of every project: exit %d\n%s", res.code, res.stdout)
	}
	if got := names("20261130"); got != ".runner-set Ember-episodes.zip Pilot-episodes.zip manifest.json sqlite-20261130.db" {
		t.Fatalf("the set holds %s", got)
	}
	if res := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml", "--set", "stamp=20261201", "--set", "projects=Pilot, Nope"); res.code != 1 || !strings.Contains(res.stdout, "projects/Nope") {
		t.Fatalf("backup of a missing project: exit %d\n%s", res.code, res.stdout)
	}
	// A set made before dumps were named by kind (graph-…) restores.
	old := filepath.Join(dir, "recipes/old-backup.yaml")
	data, _ := os.ReadFile(filepath.Join(dir, "recipes/weekly-backup.yaml"))
	os.WriteFile(old, []byte(strings.Replace(string(data), "${{ vars.db_kind }}-${{ vars.stamp }}", "graph-${{ vars.stamp }}", 1)), 0o644)
	if res := runner(t, dir, baseEnv(), "apply", "recipes/old-backup.yaml", "--set", "stamp=20261202"); res.code != 0 {
		t.Fatalf("old-style backup: exit %d\n%s", res.code, res.stdout)
	}
	if got := names("20261202"); !strings.Contains(got, "graph-20261202.db") {
		t.Fatalf("the old-style set holds %s", got)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	if res := runner(t, dir, baseEnv(), "apply", "recipes/restore.yaml", "--set", "dest="+fresh, "--set", "set=20261202"); res.code != 0 {
		t.Fatalf("restore of the old-style set: exit %d\n%s", res.code, res.stdout)
	}
	if _, err := os.Stat(filepath.Join(fresh, "graph/story.db")); err != nil {
		t.Fatal(err)
	}
}
