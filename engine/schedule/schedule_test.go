package schedule

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/cron"
	"github.com/novelfactory/runner/engine/recipe"
)

func entry(t *testing.T, spec, zone string) *recipe.ScheduleEntry {
	t.Helper()
	expr, err := cron.Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return &recipe.ScheduleEntry{Spec: spec, Expr: expr, Location: loc, Zone: zone}
}

var defaultPolicy = Policy{Catchup: recipe.CatchupLatest, Window: 720 * time.Hour, Max: 10}

// server is what runner serve does with Due on every tick, with the
// ledger as its memory: the runs it started are in fired.
type server struct {
	t      *testing.T
	ledger *Ledger
	key    string
	entry  *recipe.ScheduleEntry
	policy Policy
	fired  []time.Time
}

func newServer(t *testing.T, ledgerPath string, e *recipe.ScheduleEntry, p Policy) *server {
	t.Helper()
	l, err := LoadLedger(ledgerPath)
	if err != nil {
		t.Fatal(err)
	}
	return &server{t: t, ledger: l, key: Key("/recipes/r.yaml", e), entry: e, policy: p}
}

func (s *server) tick(now time.Time) {
	last := s.ledger.Get(s.key)
	fire, advanced := Due(s.entry, s.policy, last, now)
	if advanced.Before(last) {
		s.t.Fatalf("Due moved last back from %s to %s", last, advanced)
	}
	if !advanced.Equal(last) {
		if err := s.ledger.Set(s.key, advanced); err != nil {
			s.t.Fatal(err)
		}
	}
	s.fired = append(s.fired, fire...)
}

// run ticks every step from `from` to `to`, both included.
func (s *server) run(from, to time.Time, step time.Duration) {
	for now := from; !now.After(to); now = now.Add(step) {
		s.tick(now)
	}
}

func (s *server) firedIn(loc *time.Location) string {
	var out []string
	for _, f := range s.fired {
		out = append(out, f.In(loc).Format("2006-01-02 15:04 MST"))
	}
	return strings.Join(out, ", ")
}

func TestNextTimesAreInTheEntrysZone(t *testing.T) {
	e := entry(t, "0 4 * * 0", "Asia/Seoul")
	got := NextTimes(e, time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), 3)
	var s []string
	for _, g := range got {
		s = append(s, g.Format(time.RFC3339))
	}
	if want := "2026-03-08T04:00:00+09:00 2026-03-15T04:00:00+09:00 2026-03-22T04:00:00+09:00"; strings.Join(s, " ") != want {
		t.Errorf("next times = %s, want %s", strings.Join(s, " "), want)
	}
}

func TestAWeeklyScheduleInSeoulFiresEverySundayAt4(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	s := newServer(t, filepath.Join(t.TempDir(), LedgerFile), entry(t, "0 4 * * 0", "Asia/Seoul"), defaultPolicy)
	s.run(time.Date(2026, 3, 1, 0, 0, 0, 0, seoul), time.Date(2026, 3, 29, 12, 0, 0, 0, seoul), 53*time.Second)
	if want := "2026-03-01 04:00 KST, 2026-03-08 04:00 KST, 2026-03-15 04:00 KST, 2026-03-22 04:00 KST, 2026-03-29 04:00 KST"; s.firedIn(seoul) != want {
		t.Errorf("fired %s, want %s", s.firedIn(seoul), want)
	}
}

func TestAFirstStartRunsNoBacklog(t *testing.T) {
	e := entry(t, "*/15 * * * *", "UTC")
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) // a fire time itself
	fire, advanced := Due(e, Policy{Catchup: recipe.CatchupAll, Window: 720 * time.Hour, Max: 10}, time.Time{}, now)
	if len(fire) != 0 || !advanced.Equal(now) {
		t.Errorf("first observation: fire %v, advanced %s; want nothing, advanced to now", fire, advanced)
	}
	fire, _ = Due(e, defaultPolicy, advanced, now.Add(15*time.Minute))
	if len(fire) != 1 || !fire[0].Equal(now.Add(15*time.Minute)) {
		t.Errorf("next tick: fire %v, want 12:15", fire)
	}
}

func TestAThreeWeekOutageOfAWeeklySchedule(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	e := entry(t, "0 4 * * 0", "Asia/Seoul")
	// It last fired Sunday 1 March; the server came back on Wednesday 25 March.
	last := time.Date(2026, 3, 1, 4, 0, 0, 0, seoul)
	now := time.Date(2026, 3, 25, 10, 0, 0, 0, seoul)
	for _, c := range []struct {
		catchup string
		window  time.Duration
		want    string
	}{
		{recipe.CatchupLatest, 720 * time.Hour, "2026-03-22 04:00 KST"},
		{recipe.CatchupAll, 720 * time.Hour, "2026-03-08 04:00 KST, 2026-03-15 04:00 KST, 2026-03-22 04:00 KST"},
		{recipe.CatchupNone, 720 * time.Hour, ""},
		{recipe.CatchupAll, 11 * 24 * time.Hour, "2026-03-15 04:00 KST, 2026-03-22 04:00 KST"},
		{recipe.CatchupLatest, 24 * time.Hour, ""}, // even the newest is older than the window
	} {
		t.Run(c.catchup+" within "+c.window.String(), func(t *testing.T) {
			s := &server{fired: nil}
			fire, advanced := Due(e, Policy{Catchup: c.catchup, Window: c.window, Max: 10}, last, now)
			s.fired = fire
			if got := s.firedIn(seoul); got != c.want {
				t.Errorf("fired %q, want %q", got, c.want)
			}
			// Whatever fired, nothing of the outage is due again.
			if again, _ := Due(e, Policy{Catchup: c.catchup, Window: c.window, Max: 10}, advanced, now.Add(time.Hour)); len(again) != 0 {
				t.Errorf("an hour later %v is due again (advanced to %s)", again, advanced)
			}
			if advanced.Before(time.Date(2026, 3, 22, 4, 0, 0, 0, seoul)) && c.window > 24*time.Hour {
				t.Errorf("advanced %s is before the newest missed time", advanced)
			}
		})
	}
}

func TestCatchupAllIsCappedToTheNewestMissedTimes(t *testing.T) {
	e := entry(t, "0 * * * *", "UTC")
	last := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := time.Date(2026, 3, 2, 0, 30, 0, 0, time.UTC) // 24 missed hours
	fire, advanced := Due(e, Policy{Catchup: recipe.CatchupAll, Window: 720 * time.Hour, Max: 3}, last, now)
	var got []string
	for _, f := range fire {
		got = append(got, f.Format("02 15:04"))
	}
	if strings.Join(got, ",") != "01 22:00,01 23:00,02 00:00" {
		t.Errorf("fired %v, want the three newest, oldest first", got)
	}
	if !advanced.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("advanced %s, want 02 00:00", advanced)
	}
}

func TestAnOnTimeFireAlwaysFiresAndLatestDoesNotAddAnOlderOne(t *testing.T) {
	e := entry(t, "*/15 * * * *", "UTC")
	last := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := time.Date(2026, 3, 1, 12, 0, 20, 0, time.UTC) // back from 3 h of sleep, 20 s after a fire time
	for catchup, want := range map[string]int{recipe.CatchupLatest: 1, recipe.CatchupNone: 1, recipe.CatchupAll: 11} {
		fire, _ := Due(e, Policy{Catchup: catchup, Window: 720 * time.Hour, Max: 10}, last, now)
		if len(fire) != want || !fire[len(fire)-1].Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
			t.Errorf("%s: fired %v, want %d ending with 12:00", catchup, fire, want)
		}
	}
}

func TestDaylightSavingChangesInNewYorkFireOnce(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct {
		name, spec string
		from, to   time.Time
		want       string
	}{
		{"spring forward: 02:30 fires once, at 03:00", "30 2 * * *",
			time.Date(2026, 3, 7, 12, 0, 0, 0, ny), time.Date(2026, 3, 9, 12, 0, 0, 0, ny),
			"2026-03-08 03:00 EDT, 2026-03-09 02:30 EDT"},
		{"fall back: 01:30 fires once", "30 1 * * *",
			time.Date(2026, 10, 31, 12, 0, 0, 0, ny), time.Date(2026, 11, 2, 12, 0, 0, 0, ny),
			"2026-11-01 01:30 EDT, 2026-11-02 01:30 EST"},
		{"fall back: every 30 minutes through the repeated hour", "*/30 * * * *",
			time.Date(2026, 11, 1, 0, 10, 0, 0, ny), time.Date(2026, 11, 1, 2, 10, 0, 0, ny),
			"2026-11-01 00:30 EDT, 2026-11-01 01:00 EDT, 2026-11-01 01:30 EDT, 2026-11-01 01:00 EST, 2026-11-01 01:30 EST, 2026-11-01 02:00 EST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t, filepath.Join(t.TempDir(), LedgerFile), entry(t, c.spec, "America/New_York"), defaultPolicy)
			s.run(c.from, c.to, 10*time.Second)
			if got := s.firedIn(ny); got != c.want {
				t.Errorf("fired %s\n        want %s", got, c.want)
			}
		})
	}
}

func TestARestartNeitherRepeatsNorLosesARun(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	path := filepath.Join(t.TempDir(), "state", LedgerFile)
	e := entry(t, "0 4 * * 0", "Asia/Seoul")
	sunday := time.Date(2026, 3, 8, 4, 0, 0, 0, seoul)

	first := newServer(t, path, e, defaultPolicy)
	first.run(sunday.Add(-time.Hour), sunday.Add(30*time.Second), 5*time.Second) // fires at 04:00, stops 30 s later
	// Restarted within the grace: 04:00 is in the reloaded ledger, not run again.
	second := newServer(t, path, e, defaultPolicy)
	second.run(sunday.Add(40*time.Second), sunday.Add(2*time.Hour), 5*time.Second)
	// Down from Saturday to Monday: the Sunday run is caught up once on return.
	second.run(sunday.Add(6*24*time.Hour), sunday.Add(6*24*time.Hour), time.Second)
	third := newServer(t, path, e, defaultPolicy)
	third.run(sunday.Add(8*24*time.Hour), sunday.Add(8*24*time.Hour+time.Hour), 5*time.Second)
	fourth := newServer(t, path, e, defaultPolicy)
	fourth.run(sunday.Add(8*24*time.Hour+2*time.Hour), sunday.Add(8*24*time.Hour+3*time.Hour), 5*time.Second)

	got := strings.Join([]string{first.firedIn(seoul), second.firedIn(seoul), third.firedIn(seoul), fourth.firedIn(seoul)}, " | ")
	if want := "2026-03-08 04:00 KST |  | 2026-03-15 04:00 KST | "; got != want {
		t.Errorf("runs per server life: %q, want %q", got, want)
	}
}

func TestAClockSteppingBackFiresNothingAndNeverRepeats(t *testing.T) {
	e := entry(t, "0 4 * * *", "UTC")
	fired := time.Date(2026, 3, 8, 4, 0, 0, 0, time.UTC)
	// The clock jumps back an hour after 04:00 fired.
	fire, advanced := Due(e, defaultPolicy, fired, fired.Add(-time.Hour))
	if len(fire) != 0 || !advanced.Equal(fired) {
		t.Errorf("clock back: fire %v, advanced %s; want nothing, last kept", fire, advanced)
	}
	// Ticking on through 04:00 again fires nothing: it was fired.
	s := &server{t: t, entry: e, policy: defaultPolicy}
	l, _ := LoadLedger(filepath.Join(t.TempDir(), LedgerFile))
	s.ledger, s.key = l, "k"
	if err := l.Set("k", fired); err != nil {
		t.Fatal(err)
	}
	s.run(fired.Add(-time.Hour), fired.Add(time.Hour), 10*time.Second)
	if len(s.fired) != 0 {
		t.Errorf("after the clock stepped back, fired %v again", s.fired)
	}
	// And the record never moves back.
	if err := l.Set("k", fired.Add(-time.Hour)); err != nil || !l.Get("k").Equal(fired) {
		t.Errorf("Set back: %v, last %s; want %s kept", err, l.Get("k"), fired)
	}
}

func TestTheLedgerSurvivesAReloadAndKeysFollowTheCronLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), LedgerFile)
	l, err := LoadLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	a, b := entry(t, "0 4 * * 0", "Asia/Seoul"), entry(t, "0 5 * * 0", "Asia/Seoul")
	at := time.Date(2026, 3, 8, 4, 0, 0, 0, time.UTC)
	if err := l.Set(Key("r.yaml", a), at); err != nil {
		t.Fatal(err)
	}
	again, err := LoadLedger(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := again.Get(Key("r.yaml", a)); !got.Equal(at) {
		t.Errorf("reloaded last = %s, want %s", got, at)
	}
	if got := again.Get(Key("r.yaml", b)); !got.IsZero() {
		t.Errorf("an edited cron line has a past: %s", got)
	}
	if err := again.Forget(func(k string) bool { return false }); err != nil || len(again.Keys()) != 0 {
		t.Errorf("Forget: %v, keys %v", err, again.Keys())
	}
}

// dueByEveryTime is Due as its doc says it, stepping through every due
// time: the reference the fast Due must agree with.
func dueByEveryTime(e *recipe.ScheduleEntry, p Policy, last, now time.Time) ([]time.Time, time.Time) {
	if last.IsZero() {
		return nil, now
	}
	if !now.After(last) {
		return nil, last
	}
	from, oldest := last, Grace
	if p.Catchup != recipe.CatchupNone && p.Window > oldest {
		oldest = p.Window
	}
	if cut := now.Add(-oldest); cut.After(from) {
		from = cut.Add(-time.Nanosecond)
	}
	var missed, onTime []time.Time
	advanced := last
	for t := e.Expr.Next(from, e.Location); !t.IsZero() && !t.After(now); t = e.Expr.Next(t, e.Location) {
		advanced = t
		if now.Sub(t) <= Grace {
			onTime = append(onTime, t)
		} else {
			missed = append(missed, t)
		}
	}
	if from.After(last) && advanced.Equal(last) {
		if t := e.Expr.Next(last, e.Location); !t.IsZero() && !t.After(from) {
			advanced = from
		}
	}
	switch p.Catchup {
	case recipe.CatchupLatest:
		if len(onTime) > 0 {
			return onTime[len(onTime)-1:], advanced
		}
		if len(missed) > 0 {
			return missed[len(missed)-1:], advanced
		}
		return nil, advanced
	case recipe.CatchupAll:
		if n := max(p.Max, 1); len(missed) > n {
			missed = missed[len(missed)-n:]
		}
		return append(missed, onTime...), advanced
	}
	return onTime, advanced
}

// After a year of downtime, `* * * * *` has half a million missed times;
// Due must find the newest few without stepping through them all (it took
// 1.2 s and 189 MB on every server start).
func TestDueAfterAYearOfDowntimeDoesNotStepThroughEveryMinute(t *testing.T) {
	e := entry(t, "* * * * *", "America/New_York")
	now := time.Date(2027, 3, 1, 0, 0, 30, 0, time.UTC)
	p := Policy{Catchup: recipe.CatchupAll, Window: 8760 * time.Hour, Max: 10}
	allocs := testing.AllocsPerRun(1, func() { Due(e, p, now.AddDate(-1, 0, 0), now) })
	if allocs > 5000 {
		t.Errorf("Due allocated %.0f times: it stepped through every missed minute", allocs)
	}
	// A window as long as a duration goes is no overflow and no endless loop.
	p.Window = time.Duration(1<<63 - 1)
	if fire, _ := Due(e, p, time.Date(1800, 1, 1, 0, 0, 0, 0, time.UTC), now); len(fire) != 11 {
		t.Errorf("fired %d times, want 10 missed and 1 on time", len(fire))
	}
}

func TestDueAgreesWithSteppingThroughEveryTime(t *testing.T) {
	specs := []struct{ spec, zone string }{
		{"* * * * *", "UTC"}, {"*/7 * * * *", "America/New_York"}, {"0 4 * * 0", "Asia/Seoul"},
		{"5 * * * *", "Australia/Lord_Howe"}, {"30 2 * * *", "America/New_York"}, {"* 4 * * *", "Europe/London"},
		{"0 0 29 2 *", "UTC"}, {"0 12 13 * 5", "America/Santiago"},
	}
	policies := []Policy{
		{Catchup: recipe.CatchupLatest, Window: 720 * time.Hour, Max: 10},
		{Catchup: recipe.CatchupAll, Window: 720 * time.Hour, Max: 3},
		{Catchup: recipe.CatchupAll, Window: 90 * time.Minute, Max: 50},
		{Catchup: recipe.CatchupNone, Window: 720 * time.Hour, Max: 10},
		{Catchup: recipe.CatchupLatest, Window: 26 * time.Hour, Max: 1},
	}
	base := time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)
	gaps := []time.Duration{30 * time.Second, time.Minute, 61 * time.Second, 59 * time.Minute, 3 * time.Hour, 25 * time.Hour, 9 * 24 * time.Hour, 45 * 24 * time.Hour}
	for _, sp := range specs {
		e := entry(t, sp.spec, sp.zone)
		for _, p := range policies {
			for i, gap := range gaps {
				for _, at := range []time.Duration{0, 90 * time.Minute, 241*24*time.Hour + 17*time.Minute} {
					last := base.Add(at).Add(time.Duration(i) * 7 * time.Minute)
					now := last.Add(gap)
					f1, a1 := Due(e, p, last, now)
					f2, a2 := dueByEveryTime(e, p, last, now)
					if !a1.Equal(a2) || len(f1) != len(f2) {
						t.Fatalf("%s in %s, %+v, last %s, now %s: Due = %v, %s; want %v, %s", sp.spec, sp.zone, p, last, now, f1, a1, f2, a2)
					}
					for j := range f1 {
						if !f1[j].Equal(f2[j]) {
							t.Fatalf("%s in %s, %+v, last %s, now %s: Due = %v; want %v", sp.spec, sp.zone, p, last, now, f1, f2)
						}
					}
				}
			}
		}
	}
}

// A named pipe where the ledger should be is refused at once: reading it
// would block runner serve's ticks, for every recipe, forever.
func TestALedgerThatIsANamedPipeIsRefusedWithoutBlocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), LedgerFile)
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skip(err)
	}
	done := make(chan error, 1)
	go func() { _, err := LoadLedger(path); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "not a regular file") {
			t.Errorf("LoadLedger = %v, want a not-a-regular-file error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("LoadLedger blocks on a named pipe")
	}
}

func TestADamagedLedgerIsSetAsideAndSchedulesGoOn(t *testing.T) {
	for name, content := range map[string]string{"empty": "", "not JSON": "{{{", "a list": "[]", "NUL bytes": "\x00\x00", "a bad time": `{"version":1,"schedules":{"k":{"last":"yesterday"}}}`} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), LedgerFile)
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			l, err := LoadLedger(path)
			if err != nil {
				t.Fatalf("LoadLedger = %v, want the damaged file set aside", err)
			}
			if l.Damaged == nil || !strings.HasPrefix(l.MovedTo, path+".damaged-") {
				t.Fatalf("Damaged %v, MovedTo %q", l.Damaged, l.MovedTo)
			}
			if kept, err := os.ReadFile(l.MovedTo); err != nil || string(kept) != content {
				t.Fatalf("the damaged file was not kept as it was: %q, %v", kept, err)
			}
			if len(l.Keys()) != 0 {
				t.Fatalf("keys %v, want an empty ledger", l.Keys())
			}
			at := time.Date(2026, 12, 6, 4, 0, 0, 0, time.UTC)
			if err := l.Set("k", at); err != nil {
				t.Fatal(err)
			}
			again, err := LoadLedger(path)
			if err != nil || !again.Get("k").Equal(at) || again.Damaged != nil {
				t.Fatalf("after a save: %v, %v, damaged %v", again.Get("k"), err, again.Damaged)
			}
		})
	}
}
