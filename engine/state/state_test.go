package state_test

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
)

func TestLockIsExclusiveAndReleased(t *testing.T) {
	s := &state.Store{Dir: t.TempDir(), Masker: secret.New()}
	unlock, err := s.Lock("weekly-backup")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Lock("weekly-backup")
	var le *state.LockedError
	if !errors.As(err, &le) || !strings.Contains(le.Holder, "pid ") {
		t.Fatalf("second lock: %v", err)
	}
	if other, err := s.Lock("restore"); err != nil {
		t.Fatalf("another recipe's lock: %v", err)
	} else {
		other()
	}
	unlock()
	again, err := s.Lock("weekly-backup")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}

// TestLockHelperProcess is not a test: TestLockOfADeadProcessIsTakenOver
// runs the test binary again with RUNNER_LOCK_HELPER set, to hold a lock in
// another process.
func TestLockHelperProcess(t *testing.T) {
	dir := os.Getenv("RUNNER_LOCK_HELPER")
	if dir == "" {
		return
	}
	if _, err := (&state.Store{Dir: dir, Masker: secret.New()}).Lock("r"); err != nil {
		os.Exit(1)
	}
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Hour) // until killed
}

// TestLockOfADeadProcessIsTakenOver holds the lock in a child process that
// then dies by SIGKILL, as a crashed run would; the lock is free at once.
func TestLockOfADeadProcessIsTakenOver(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHelperProcess$")
	cmd.Env = append(os.Environ(), "RUNNER_LOCK_HELPER="+dir)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("helper: %q %v", buf, err)
	}
	s := &state.Store{Dir: dir, Masker: secret.New()}
	if _, err := s.Lock("r"); err == nil {
		t.Fatal("lock taken while another process holds it")
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	unlock, err := s.Lock("r")
	if err != nil {
		t.Fatalf("lock of a dead process not taken over: %v", err)
	}
	unlock()
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
	os.MkdirAll(filepath.Join(s.Dir, "runs", "20261101T090000Z-abcdef"), 0o755) // damaged: no state.json
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

func TestLoadAppliesTheJournalOverStateJSON(t *testing.T) {
	s := &state.Store{Dir: t.TempDir(), Masker: secret.New()}
	run := &state.Run{ID: state.NewRunID(time.Now()), Status: state.Running, Tasks: []*state.Task{
		{ID: "dump", Status: state.Running}, {ID: "upload", Status: state.Pending},
	}}
	if err := s.Create(run); err != nil {
		t.Fatal(err)
	}
	j, err := s.OpenJournal(run.ID)
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
	j, _ = s.OpenJournal(run.ID)
	j.Close()
	if got, _ := s.Load(run.ID); got.Task("dump").Status != state.Running {
		t.Errorf("old journal entries survived a new journal: %s", got.Task("dump").Status)
	}
}
