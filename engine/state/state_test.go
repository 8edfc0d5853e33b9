package state_test

import (
	"bufio"
	"errors"
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
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
)

// recipeFile writes an empty recipe file at dir/name.
func recipeFile(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte("version: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLockIsExclusiveAndReleased(t *testing.T) {
	dir := t.TempDir()
	weekly := recipeFile(t, dir, "weekly-backup.yaml")
	l, err := state.LockRecipe(weekly, "run-1", secret.New())
	if err != nil {
		t.Fatal(err)
	}
	_, err = state.LockRecipe(weekly, "run-2", secret.New())
	var le *state.LockedError
	if !errors.As(err, &le) || !strings.Contains(le.Holder, "pid ") || !strings.Contains(le.Holder, "run-1") {
		t.Fatalf("second lock: %v", err)
	}
	if other, err := state.LockRecipe(recipeFile(t, dir, "restore.yaml"), "run-3", secret.New()); err != nil {
		t.Fatalf("another recipe's lock: %v", err)
	} else {
		other.Unlock()
	}
	l.Unlock()
	again, err := state.LockRecipe(weekly, "run-4", secret.New())
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again.Unlock()
}

// TestTheLockIsTheRecipeFiles: it was keyed by the recipe's file name in
// the state folder, so two recipes of the same name in one state folder
// blocked each other, and the same recipe with another --state-dir ran
// alongside itself. A link to the recipe is the recipe.
func TestTheLockIsTheRecipeFiles(t *testing.T) {
	dir := t.TempDir()
	a := recipeFile(t, dir, "genre-a/backup.yaml")
	b := recipeFile(t, dir, "genre-b/backup.yaml")
	la, err := state.LockRecipe(a, "run-a", secret.New())
	if err != nil {
		t.Fatal(err)
	}
	defer la.Unlock()
	lb, err := state.LockRecipe(b, "run-b", secret.New())
	if err != nil {
		t.Fatalf("a recipe of the same name elsewhere: %v", err)
	}
	lb.Unlock()
	link := filepath.Join(dir, "link.yaml")
	os.Symlink(a, link)
	var le *state.LockedError
	if _, err := state.LockRecipe(link, "run-c", secret.New()); !errors.As(err, &le) {
		t.Fatalf("the same recipe through a link: %v", err)
	}
}

// TestLockHelperProcess is not a test: other tests run the test binary
// again with RUNNER_LOCK_HELPER set, to hold a lock in another process —
// and, with RUNNER_LOCK_CHILD, to start a process group that ignores
// SIGTERM and record it, as a task does.
func TestLockHelperProcess(t *testing.T) {
	recipe := os.Getenv("RUNNER_LOCK_HELPER")
	if recipe == "" {
		return
	}
	masker := secret.New()
	masker.Add("s3cr3t-t0ken")
	l, err := state.LockRecipe(recipe, "run-helper", masker)
	if err != nil {
		os.Exit(1)
	}
	if os.Getenv("RUNNER_LOCK_CHILD") != "" {
		child := exec.Command("sh", "-c", "trap '' TERM; exec sleep 3600")
		child.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := child.Start(); err != nil {
			os.Exit(1)
		}
		l.Started("middle", child.Process.Pid, "sh -c sleep 3600 --token=s3cr3t-t0ken")
		os.Stdout.WriteString(strconv.Itoa(child.Process.Pid) + "\n")
	}
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Hour) // until killed
}

// holdInHelper runs TestLockHelperProcess and returns it once it holds the
// lock, with the pid of the process group it started (or 0).
func holdInHelper(t *testing.T, recipe string, child bool) (*exec.Cmd, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "RUNNER_LOCK_HELPER="+recipe)
	if child {
		cmd.Env = append(cmd.Env, "RUNNER_LOCK_CHILD=1")
	}
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	pgid := 0
	for sc.Scan() {
		if sc.Text() == "locked" {
			return cmd, pgid
		}
		pgid, _ = strconv.Atoi(sc.Text())
	}
	t.Fatal("the helper did not take the lock")
	return nil, 0
}

// TestLockOfADeadProcessIsTakenOver holds the lock in a child process that
// then dies by SIGKILL, as a crashed run would; the lock is free at once.
func TestLockOfADeadProcessIsTakenOver(t *testing.T) {
	recipe := recipeFile(t, t.TempDir(), "r.yaml")
	cmd, _ := holdInHelper(t, recipe, false)
	if _, err := state.LockRecipe(recipe, "run-2", secret.New()); err == nil {
		t.Fatal("lock taken while another process holds it")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	l, err := state.LockRecipe(recipe, "run-2", secret.New())
	if err != nil {
		t.Fatalf("lock of a dead process not taken over: %v", err)
	}
	l.Unlock()
}

// TestALockIsNotTakenOverWhileAKilledRunsProcessesRun: kill -9 of runner
// freed the lock at once, and --resume started the same step while the
// orphan still ran.
func TestALockIsNotTakenOverWhileAKilledRunsProcessesRun(t *testing.T) {
	recipe := recipeFile(t, t.TempDir(), "r.yaml")
	cmd, pgid := holdInHelper(t, recipe, true)
	defer syscall.Kill(-pgid, syscall.SIGKILL)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	_, err := state.LockRecipe(recipe, "run-2", secret.New())
	var oe *state.OrphansError
	if !errors.As(err, &oe) || len(oe.Groups) != 1 || oe.Groups[0].PGID != pgid || oe.Run != "run-helper" {
		t.Fatalf("lock over a killed run's live processes: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "task middle: process group") || !strings.Contains(msg, fmt.Sprintf("kill -TERM -- -%d", pgid)) || strings.Contains(msg, "s3cr3t") {
		t.Errorf("message:\n%s", msg)
	}
	lockPath, _ := state.LockPath(recipe)
	if holder := readAll(t, strings.TrimSuffix(lockPath, ".lock")+".holder"); !strings.Contains(holder, "sleep 3600") || strings.Contains(holder, "s3cr3t") {
		t.Errorf("the holder file keeps the command masked:\n%s", holder)
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	for procgroup.Alive(pgid) {
		time.Sleep(10 * time.Millisecond) // until the kernel has ended it
	}
	l, err := state.LockRecipe(recipe, "run-2", secret.New())
	if err != nil {
		t.Fatalf("lock once the processes ended: %v", err)
	}
	l.Unlock()
}

func TestRunsAreListedOldestFirstAndResumeFindsTheLastUnfinished(t *testing.T) {
	s := &state.Store{Dir: t.TempDir(), Masker: secret.New()}
	t0 := time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC)
	for i, st := range []state.Status{state.Failed, state.Succeeded, state.Cancelled} {
		started := t0.Add(time.Duration(i) * time.Hour)
		r := &state.Run{ID: state.NewRunID(started), Recipe: "/r.yaml", Started: started, Status: st}
		if err := s.Create(r); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := s.List()
	if err != nil || len(runs) != 3 || runs[0].Status != state.Failed {
		t.Fatalf("runs: %v %v", runs, err)
	}
	last, err := s.LatestUnfinished("/r.yaml")
	if err != nil || last.Status != state.Cancelled {
		t.Fatalf("latest unfinished: %v %v", last, err)
	}
	if _, err := s.LatestUnfinished("/other.yaml"); err == nil {
		t.Fatal("want an error for a recipe without runs")
	}
}

// TestADamagedNewestRunIsNamedOrRecovered: when the latest run's
// state.json was unreadable it was skipped silently: `runner runs` hid it
// and --resume said the run before it "succeeded: nothing to resume",
// though the damaged run's journal recorded what had succeeded.
func TestADamagedNewestRunIsNamedOrRecovered(t *testing.T) {
	s := &state.Store{Dir: t.TempDir(), Masker: secret.New()}
	t0 := time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC)
	done := &state.Run{ID: state.NewRunID(t0), Recipe: "/r.yaml", Started: t0, Status: state.Succeeded}
	s.Create(done)
	damaged := &state.Run{ID: state.NewRunID(t0.Add(time.Hour)), Recipe: "/r.yaml", Name: "r", Started: t0.Add(time.Hour), Status: state.Running,
		Tasks: []*state.Task{{ID: "dump", Status: state.Running}, {ID: "upload", Status: state.Pending}}}
	s.Create(damaged)
	j, _ := s.OpenJournal(damaged)
	j.Append(&state.Task{ID: "dump", Status: state.Succeeded, Outputs: map[string]any{"path": "graph.dump"}})
	j.Close()
	stateJSON := filepath.Join(s.RunDir(damaged.ID), "state.json")
	data, _ := os.ReadFile(stateJSON)
	os.WriteFile(stateJSON, data[:len(data)/2], 0o644) // cut short

	last, err := s.LatestUnfinished("/r.yaml")
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if last.ID != damaged.ID || last.Damaged == nil || last.Task("dump").Status != state.Succeeded || last.Task("dump").Outputs.(map[string]any)["path"] != "graph.dump" {
		t.Fatalf("recovered %s (damaged: %v): %+v", last.ID, last.Damaged, last.Task("dump"))
	}
	// Without a journal to recover from, the run is named, not passed over.
	os.Remove(filepath.Join(s.RunDir(damaged.ID), "journal.jsonl"))
	runs, _ := s.List()
	if len(runs) != 2 || runs[1].ID != damaged.ID || runs[1].Damaged == nil || !runs[1].Started.Equal(damaged.Started) {
		t.Fatalf("runs %v: the damaged run is not listed", runs)
	}
	_, err = s.LatestUnfinished("/r.yaml")
	if err == nil || !strings.Contains(err.Error(), "run "+damaged.ID+": its state.json cannot be read") || strings.Contains(err.Error(), "nothing to resume") {
		t.Fatalf("resume without a journal: %v", err)
	}
}

func TestLoadAppliesTheJournalOverStateJSON(t *testing.T) {
	s := &state.Store{Dir: t.TempDir(), Masker: secret.New()}
	run := &state.Run{ID: state.NewRunID(time.Now()), Status: state.Running, Tasks: []*state.Task{
		{ID: "dump", Status: state.Running}, {ID: "upload", Status: state.Pending},
	}}
	if err := s.Create(run); err != nil {
		t.Fatal(err)
	}
	j, err := s.OpenJournal(run)
	if err != nil {
		t.Fatal(err)
	}
	j.Append(&state.Task{ID: "dump", Status: state.Succeeded, Outputs: map[string]any{"path": "a.dump"}})
	j.Append(&state.Task{ID: "each[0]", Status: state.Succeeded})
	j.Close()
	// A crash in the middle of a write leaves a cut line: it is ignored.
	f, _ := os.OpenFile(filepath.Join(s.RunDir(run.ID), "journal.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"upload","status":"succ`)
	f.Close()

	got, err := s.Load(run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Task("dump").Status != state.Succeeded || got.Task("dump").Outputs.(map[string]any)["path"] != "a.dump" {
		t.Errorf("dump: %+v", got.Task("dump"))
	}
	if got.Task("each[0]") == nil || got.Task("upload").Status != state.Pending {
		t.Errorf("each[0] %v, upload %s", got.Task("each[0]"), got.Task("upload").Status)
	}
	// A new execution of the run starts a new journal.
	j, _ = s.OpenJournal(run)
	j.Close()
	if got, _ := s.Load(run.ID); got.Task("dump").Status != state.Running {
		t.Errorf("old journal entries survived a new journal: %s", got.Task("dump").Status)
	}
}

func readAll(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestTheLockFollowsTheFileNotItsName: a hard link, a rename while it
// runs, a lock file removed while it runs, or a user whose lock file falls
// elsewhere: all the same recipe.
func TestTheLockFollowsTheFileNotItsName(t *testing.T) {
	dir := t.TempDir()
	a := recipeFile(t, dir, "a/r.yaml")
	l, err := state.LockRecipe(a, "run-1", secret.New())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Unlock()
	hard := filepath.Join(dir, "b", "r.yaml")
	os.MkdirAll(filepath.Dir(hard), 0o755)
	if err := os.Link(a, hard); err != nil {
		t.Fatal(err)
	}
	var le *state.LockedError
	if _, err := state.LockRecipe(hard, "run-2", secret.New()); !errors.As(err, &le) {
		t.Fatalf("a hard link in another folder: %v", err)
	}
	renamed := filepath.Join(dir, "a", "renamed.yaml")
	os.Rename(a, renamed)
	if _, err := state.LockRecipe(renamed, "run-3", secret.New()); !errors.As(err, &le) {
		t.Fatalf("the recipe renamed while it runs: %v", err)
	}
	os.Rename(renamed, a)
	lockPath, _ := state.LockPath(a)
	os.Remove(lockPath)
	if _, err := state.LockRecipe(a, "run-4", secret.New()); !errors.As(err, &le) {
		t.Fatalf("the lock file removed while it runs: %v", err)
	}
}

// TestDamageThatStillReadsAsJSONIsFound: a one-byte flip of the recipe's
// path in state.json hid the run; a flipped status in the journal made a
// succeeded task run again, and a flipped output was fed on, silently.
func TestDamageThatStillReadsAsJSONIsFound(t *testing.T) {
	s := &state.Store{Dir: t.TempDir(), Masker: secret.New()}
	run := &state.Run{ID: state.NewRunID(time.Now()), Recipe: "/f/r.yaml", Started: time.Now(), Status: state.Running,
		Tasks: []*state.Task{{ID: "a", Status: state.Running}, {ID: "b", Status: state.Pending}}}
	s.Create(run)
	j, _ := s.OpenJournal(run)
	j.Append(&state.Task{ID: "a", Status: state.Succeeded, Outputs: map[string]any{"stdout": "A-out"}})
	j.Append(&state.Task{ID: "b", Status: state.Failed})
	j.Close()
	flip := func(file, from, to string) {
		p := filepath.Join(s.RunDir(run.ID), file)
		data, _ := os.ReadFile(p)
		os.WriteFile(p, []byte(strings.Replace(string(data), from, to, 1)), 0o644)
	}
	flip("state.json", `"recipe": "/f/r.yaml"`, `"recipe": "/f/s.yaml"`)
	got, err := s.Load(run.ID)
	if err != nil || got.Damaged == nil || got.Recipe != "/f/r.yaml" {
		t.Fatalf("a flipped recipe path: damaged %v, recipe %q, %v", got.Damaged, got.Recipe, err)
	}
	flip("state.json", `"recipe": "/f/s.yaml"`, `"recipe": "/f/r.yaml"`)
	flip("journal.jsonl", `"stdout":"A-out"`, `"stdout":"A-ouu"`)
	got, _ = s.Load(run.ID)
	if got.Damaged != nil || got.JournalDamage == nil || got.Task("a").Status == state.Succeeded {
		t.Fatalf("a flipped output in the journal: state %v, journal %v, a %s", got.Damaged, got.JournalDamage, got.Task("a").Status)
	}
	flip("journal.jsonl", `"stdout":"A-ouu"`, `"stdout":"A-out"`)
	flip("journal.jsonl", `"status":"failed"`, `"status":"failee"`) // the last line, whole
	if got, _ = s.Load(run.ID); got.JournalDamage == nil || got.Task("a").Status != state.Succeeded {
		t.Fatalf("a flipped status in the last line: journal %v, a %s", got.JournalDamage, got.Task("a").Status)
	}
}

// TestARunStoppedWhileCreatedBlocksNothing: runner killed while it wrote
// its first state left a run folder with only a temp file; `runs` called
// it damaged and a plain --resume stopped on it.
func TestARunStoppedWhileCreatedBlocksNothing(t *testing.T) {
	s := &state.Store{Dir: t.TempDir(), Masker: secret.New()}
	t0 := time.Date(2026, 11, 1, 4, 0, 0, 0, time.UTC)
	failed := &state.Run{ID: state.NewRunID(t0), Recipe: "/r.yaml", Started: t0, Status: state.Failed}
	s.Create(failed)
	stopped := state.NewRunID(t0.Add(time.Hour))
	os.MkdirAll(filepath.Join(s.RunDir(stopped), "logs"), 0o755)
	os.WriteFile(filepath.Join(s.RunDir(stopped), ".state.json.tmp-0123456789ab"), nil, 0o644)
	last, err := s.LatestUnfinished("/r.yaml")
	if err != nil || last.ID != failed.ID {
		t.Fatalf("resume: %v %v", last, err)
	}
}

// TestMaskingNeverChangesWhatStateMeans: a secret that reads like a date
// (CACHE_KEY=20261202) or a status (X_TOKEN=succeeded) was masked in the
// encoded bytes: run ids became ***T…, statuses ***; every run read as
// damaged, and a succeeded task ran again. Values are masked, not bytes.
func TestMaskingNeverChangesWhatStateMeans(t *testing.T) {
	m := secret.New()
	m.Add("succeeded", time.Now().UTC().Format("20060102"))
	s := &state.Store{Dir: t.TempDir(), Masker: m}
	run := &state.Run{ID: state.NewRunID(time.Now()), Recipe: "/r.yaml", Started: time.Now(), Status: state.Running,
		Tasks: []*state.Task{{ID: "a", Status: state.Succeeded, Outputs: map[string]any{"stdout": "it succeeded", "n": int64(1) << 60}}}}
	if err := s.Create(run); err != nil {
		t.Fatal(err)
	}
	j, _ := s.OpenJournal(run)
	j.Append(&state.Task{ID: "b", Status: state.Succeeded, Outputs: map[string]any{"stdout": "succeeded too"}})
	j.Close()
	got, err := s.Load(run.ID)
	if err != nil || got.Damaged != nil || got.JournalDamage != nil {
		t.Fatalf("load: %v, damaged %v, journal %v", err, got.Damaged, got.JournalDamage)
	}
	a, b := got.Task("a"), got.Task("b")
	if a.Status != state.Succeeded || b.Status != state.Succeeded || a.Outputs.(map[string]any)["stdout"] != "it ***" {
		t.Fatalf("a %s %v, b %s", a.Status, a.Outputs, b.Status)
	}
	if n := a.Outputs.(map[string]any)["n"]; n != float64(1<<60) {
		t.Errorf("a number output became %v", n)
	}
}

// TestAJournalLineFromAnotherRunIsNotTrusted: a valid line appended from
// another run's journal was taken as this run's, and its output fed on.
func TestAJournalLineFromAnotherRunIsNotTrusted(t *testing.T) {
	s := &state.Store{Dir: t.TempDir(), Masker: secret.New()}
	var runs [2]*state.Run
	for i := range runs {
		runs[i] = &state.Run{ID: state.NewRunID(time.Now().Add(time.Duration(i) * time.Hour)), Recipe: "/r.yaml", Started: time.Now(), Status: state.Running,
			Tasks: []*state.Task{{ID: "a", Status: state.Pending}}}
		s.Create(runs[i])
		j, _ := s.OpenJournal(runs[i])
		if i == 0 {
			j.Append(&state.Task{ID: "a", Status: state.Succeeded, Outputs: map[string]any{"stdout": "A-out-1"}})
		}
		j.Close()
	}
	other, _ := os.ReadFile(filepath.Join(s.RunDir(runs[0].ID), "journal.jsonl"))
	lines := strings.SplitAfter(string(other), "\n")
	f, _ := os.OpenFile(filepath.Join(s.RunDir(runs[1].ID), "journal.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(lines[1])
	f.Close()
	got, _ := s.Load(runs[1].ID)
	if got.Task("a").Status == state.Succeeded || got.JournalDamage == nil {
		t.Fatalf("a %s, journal damage %v", got.Task("a").Status, got.JournalDamage)
	}
}

// TestALongRecipeNameCanBeLocked: a legal 239-byte recipe name (78 Hangul
// syllables) could not run as root: "file name too long" for its lock.
func TestALongRecipeNameCanBeLocked(t *testing.T) {
	name := strings.Repeat("백업", 39) + ".yaml"
	l, err := state.LockRecipe(recipeFile(t, t.TempDir(), name), "run-1", secret.New())
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
}
