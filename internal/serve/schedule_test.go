package serve

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/serve/api"
)

func TestATickFiresADueRunExactlyOnce(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"s.yaml": counting("scheduled")})
	f.core.Step() // the entry is new: it fires from now on
	f.clock.Set(t0.Add(29 * time.Minute))
	f.core.Step()
	if n := len(f.runs()); n != 0 {
		t.Fatalf("%d runs before the first fire, want 0", n)
	}
	f.clock.Set(t0.Add(30 * time.Minute)) // 11:00
	f.core.Step()
	f.idle()
	f.core.Step()
	f.clock.Set(t0.Add(31 * time.Minute))
	f.core.Step()
	f.idle()
	runs := f.runs()
	if len(runs) != 1 || runs[0].Status != string(state.Succeeded) || runs[0].Trigger != "schedule" {
		t.Fatalf("runs after one fire: %+v", runs)
	}
	if n := f.count("first"); n != 1 {
		t.Errorf("first ran %d times, want 1", n)
	}
}

func TestARestartNeitherRepeatsNorLosesAFire(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"s.yaml": counting("scheduled")})
	f.core.Step()
	f.clock.Set(t0.Add(30 * time.Minute))
	f.core.Step()
	f.idle()

	f.restart() // at the same time: 11:00 was recorded as fired
	f.core.Step()
	f.idle()
	if n := f.count("first"); n != 1 {
		t.Fatalf("after a restart at the same time, first ran %d times, want 1", n)
	}

	// Down from 11:00 to 13:10: the missed 12:00 and 13:00 give one run
	// (catch-up latest).
	f.core.shutdown()
	f.clock.Set(t0.Add(2*time.Hour + 40*time.Minute))
	f.restart()
	f.core.Step()
	f.idle()
	if n := f.count("first"); n != 2 {
		t.Errorf("after a restart past two fires, first ran %d times, want 2", n)
	}
}

func TestAClockSteppingBackDoesNotFireAgain(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"s.yaml": counting("scheduled")})
	f.core.Step()
	f.clock.Set(t0.Add(30 * time.Minute))
	f.core.Step()
	f.idle()
	f.clock.Set(t0) // back to 10:30
	f.core.Step()
	f.clock.Set(t0.Add(30 * time.Minute))
	f.core.Step()
	f.idle()
	if n := f.count("first"); n != 1 {
		t.Errorf("first ran %d times, want 1", n)
	}
}

// fireWhileBlocked fires a blocking recipe at 11:00, then again at 12:00
// while the first run still blocks.
func fireWhileBlocked(t *testing.T, overlap string) *fixture {
	f := newFixture(t, overlap, map[string]string{"s.yaml": counting("scheduled-blocking")})
	f.core.Step()
	f.clock.Set(t0.Add(30 * time.Minute))
	f.core.Step()
	if runs := f.runs(); len(runs) != 1 || runs[0].Status != string(state.Running) {
		t.Fatalf("after the first fire: %s", statuses(runs))
	}
	f.clock.Set(t0.Add(90 * time.Minute))
	f.core.Step()
	return f
}

func TestOverlapSkipDropsAFireWhileARunIsInProgress(t *testing.T) {
	f := fireWhileBlocked(t, OverlapSkip)
	f.release()
	f.idle()
	f.core.Step()
	f.idle()
	if runs := f.runs(); len(runs) != 1 || runs[0].Status != string(state.Succeeded) {
		t.Errorf("runs: %s, want one succeeded (the second fire skipped)", statuses(runs))
	}
	if n := f.count("second"); n != 1 {
		t.Errorf("second ran %d times, want 1", n)
	}
}

func TestOverlapQueueStartsTheFireWhenTheRunEnds(t *testing.T) {
	f := fireWhileBlocked(t, OverlapQueue)
	runs := f.runs()
	if len(runs) != 2 || runs[0].Status != api.StatusQueued || runs[1].Status != string(state.Running) {
		t.Fatalf("while the first run blocks: %s, want queued,running", statuses(runs))
	}
	f.clock.Set(t0.Add(150 * time.Minute)) // 13:00 fires while one waits: dropped
	f.core.Step()
	f.release()
	f.idle()
	f.core.Step() // the lock is free: the queued fire starts
	f.idle()
	runs = f.runs()
	if len(runs) != 2 || statuses(runs) != "succeeded,succeeded" {
		t.Errorf("runs: %s, want two succeeded", statuses(runs))
	}
	if n := f.count("second"); n != 2 {
		t.Errorf("second ran %d times, want 2", n)
	}
}

func TestOverlapCancelPreviousCancelsTheServersRun(t *testing.T) {
	f := fireWhileBlocked(t, OverlapCancelPrevious)
	f.idle() // the first run, cancelled
	f.release()
	f.core.Step()
	f.idle()
	runs := f.runs()
	if statuses(runs) != "succeeded,cancelled" {
		t.Errorf("runs: %s, want succeeded,cancelled", statuses(runs))
	}
}

func TestSkipSkipsWhileAShellsRunHoldsTheLock(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"s.yaml": counting("scheduled")})
	lock, err := state.LockRecipe(filepath.Join(f.dir, "s.yaml"), "20260301T100000Z-abcdef", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.core.Step()
	f.clock.Set(t0.Add(30 * time.Minute))
	f.core.Step()
	lock.Unlock()
	f.core.Step()
	f.idle()
	if runs := f.runs(); len(runs) != 0 || f.count("first") != 0 {
		t.Errorf("runs: %s, first ran %d times: the fire must be skipped", statuses(runs), f.count("first"))
	}
}

func TestARecipesScheduleKeyFiresThroughEngineSchedule(t *testing.T) {
	f := newFixture(t, "", map[string]string{"s.yaml": strings.Replace(counting("hourly"), "tasks:", "schedule: {cron: \"0 * * * *\", timezone: UTC}\ntasks:", 1)})
	f.cfg.Schedules = nil // the recipe's own schedule: key
	f.restart()
	r, err := f.core.Recipe(context.Background(), "s")
	if err != nil || len(r.Errors) > 0 || len(r.Schedules) != 1 || r.NextRun == nil || !r.NextRun.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("recipe: %+v, %v", r, err)
	}
	f.core.Step()
	f.clock.Set(t0.Add(30 * time.Minute))
	f.core.Step()
	f.idle()
	f.core.Step()
	if n := f.count("first"); n != 1 {
		t.Errorf("first ran %d times, want 1", n)
	}
	if r, _ := f.core.Recipe(context.Background(), "s"); r.Schedules[0].Words == "" || r.Overlap == "" {
		t.Errorf("schedule shown as %+v, overlap %q", r.Schedules, r.Overlap)
	}
}

func TestAScheduledRecipeWithoutARecentSuccessIsOverdue(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"s.yaml": counting("scheduled")})
	writeHistory(t, filepath.Join(f.dir, "s.yaml"), 3) // the last ends at about 09:30
	f.restart()
	if r, _ := f.core.Recipe(context.Background(), "s"); r.Overdue != nil {
		t.Errorf("an hourly recipe that succeeded an hour ago is overdue: %+v", r.Overdue)
	}
	f.clock.Set(t0.Add(2 * time.Hour)) // 12:30: 3 h since, more than 1 h + 1 h of slack
	r, _ := f.core.Recipe(context.Background(), "s")
	if r.Overdue == nil || r.Overdue.LastSuccess == nil || !strings.Contains(r.Overdue.Message, "expected every") {
		t.Errorf("3 hours after the last success: overdue %+v", r.Overdue)
	}
}

// A schedule entry may set a secret var (an API token for the runs it
// starts): its value is never shown by the API nor written into the
// schedule ledger's keys, which it was, in clear.
func TestAScheduleEntrysSecretVarIsNeitherShownNorRecorded(t *testing.T) {
	text := strings.Replace(counting("secret"), "  block: false\n", "  block: false\n  token: default-token-value\nsecrets: [token]\n", 1)
	text = strings.Replace(text, "tasks:", "schedule: {cron: \"0 * * * *\", timezone: UTC, vars: {token: hunter2hunter2}}\ntasks:", 1)
	f := newFixture(t, "", map[string]string{"s.yaml": text})
	f.cfg.Schedules = nil
	f.restart()
	r, err := f.core.Recipe(context.Background(), "s")
	if err != nil || len(r.Schedules) != 1 || r.Schedules[0].Vars["token"] != "***" {
		t.Fatalf("recipe: %+v, %v; want the schedule's token shown as ***", r.Schedules, err)
	}
	f.core.Step() // records the new entry in the ledger
	err = filepath.WalkDir(f.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		if data, _ := os.ReadFile(path); strings.Contains(string(data), "hunter2hunter2") {
			t.Errorf("%s holds the secret:\n%s", path, data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// onTimeOnly fires like every but drops a fire seen more than a minute
// late, as catch-up none does: the entry advances past it, firing nothing.
type onTimeOnly every

func (e onTimeOnly) Due(last, now time.Time) ([]time.Time, time.Time) {
	fire, advanced := every(e).Due(last, now)
	if len(fire) > 0 && now.Sub(fire[0]) > time.Minute {
		return nil, advanced
	}
	return fire, advanced
}

func (e onTimeOnly) Next(t time.Time) time.Time { return every(e).Next(t) }

// catchupNone is schedules with catch-up none.
type catchupNone struct{ schedules }

func (s catchupNone) Schedule(r *recipe.Recipe) (*Schedule, error) {
	sc, err := s.schedules.Schedule(r)
	if sc != nil {
		sc.Catchup = "none"
		for i := range sc.Entries {
			sc.Entries[i].Clock = onTimeOnly(time.Hour)
		}
	}
	return sc, err
}

// A tick late past a fire (a suspended machine) under catch-up none
// advances the entry without firing; while another fire of it waits under
// queue, that used to index the empty list of fires and take the server
// down.
func TestAFireDroppedByCatchupWhileAnotherWaitsIsDroppedQuietly(t *testing.T) {
	f := newFixture(t, OverlapQueue, map[string]string{"s.yaml": counting("scheduled-blocking")})
	f.cfg.Schedules = catchupNone{schedules{OverlapQueue}}
	f.restart()
	f.core.Step()
	f.clock.Set(t0.Add(30 * time.Minute)) // 11:00: runs, blocks
	f.core.Step()
	f.clock.Set(t0.Add(90 * time.Minute)) // 12:00: waits
	f.core.Step()
	if runs := f.runs(); statuses(runs) != "queued,running" {
		t.Fatalf("while the first run blocks: %s, want queued,running", statuses(runs))
	}
	f.clock.Set(t0.Add(155 * time.Minute)) // 13:05: 13:00 was missed
	f.core.Step()
	f.release()
	f.idle()
	f.core.Step() // the 12:00 fire starts
	f.idle()
	if runs := f.runs(); statuses(runs) != "succeeded,succeeded" {
		t.Errorf("runs: %s, want two succeeded (11:00 and 12:00; 13:00 dropped)", statuses(runs))
	}
}

// TestAWaitingFireOfAnEditedEntryIsDropped: a fire waiting under queue
// whose entry was then edited stayed "queued" for good (review).
func TestAWaitingFireOfAnEditedEntryIsDropped(t *testing.T) {
	f := fireWhileBlocked(t, OverlapQueue)
	if runs := f.runs(); statuses(runs) != "queued,running" {
		t.Fatalf("before the edit: %s", statuses(runs))
	}
	// The entry's vars change (no more block=true): another entry.
	path := filepath.Join(f.dir, "s.yaml")
	writeFile(t, path, strings.ReplaceAll(counting("scheduled"), "dir: .", "dir: "+f.work))
	future := time.Now().Add(time.Hour)
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	f.core.Step()
	if runs := f.runs(); statuses(runs) != "running" {
		t.Errorf("after the edit: %s, want the waiting fire dropped", statuses(runs))
	}
	f.release()
	f.idle()
}
