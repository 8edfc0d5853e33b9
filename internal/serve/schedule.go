package serve

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/schedule"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/serve/api"
)

// Overlap policies: what a fire does while a run of the recipe holds its
// lock (see the package doc).
const (
	OverlapSkip           = "skip"
	OverlapQueue          = "queue"
	OverlapCancelPrevious = "cancel_previous"
)

// ScheduleReader reads the schedule of a loaded recipe; package
// engine/schedule provides one (see cmd/runner's serve command).
type ScheduleReader interface {
	// Schedule returns r's schedule, nil when it has none.
	Schedule(r *recipe.Recipe) (*Schedule, error)
}

// Schedule is a recipe's schedule as the server keeps it.
type Schedule struct {
	Overlap string // OverlapSkip, OverlapQueue or OverlapCancelPrevious
	Catchup string // latest, all or none: Entry.Due applies it
	Entries []Entry
}

// Entry is one entry of a schedule.
type Entry struct {
	Cron     string
	Timezone string
	Vars     map[string]string
	Secret   map[string]bool // vars of the recipe's secrets: list, never shown or written down
	Words    string          // the schedule in words
	Interval time.Duration   // the longest gap between two fires
	Clock    EntryClock
}

// EntryClock answers when an entry fires.
type EntryClock interface {
	// Due returns the times in (last, now] to fire now, as the catch-up
	// policy keeps them, and the time to record as the entry's last fire.
	Due(last, now time.Time) (fire []time.Time, advanced time.Time)
	// Next returns the first fire after t.
	Next(t time.Time) time.Time
}

// Ledger keeps the last fire time of each schedule entry across restarts.
type Ledger interface {
	// Last returns the last time entry key fired, and whether it ever did.
	Last(key string) (time.Time, bool)
	// Record persists t as key's last fire time, before the run starts.
	Record(key string, t time.Time) error
}

// key names the entry of the recipe at abs in its ledger.
func (e Entry) key(abs string) string {
	names := make([]string, 0, len(e.Vars))
	for k := range e.Vars {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%s|%s", abs, e.Cron, e.Timezone)
	for _, k := range names {
		fmt.Fprintf(&b, "|%s=%s", k, e.shown(k))
	}
	return b.String()
}

// shown is var k's value as shown and recorded: *** for a secret.
func (e Entry) shown(k string) string {
	if e.Secret[k] {
		return "***"
	}
	return e.Vars[k]
}

// shownVars are the entry's vars as shown: secrets as ***.
func (e Entry) shownVars() map[string]string {
	if len(e.Vars) == 0 {
		return nil
	}
	out := make(map[string]string, len(e.Vars))
	for k := range e.Vars {
		out[k] = e.shown(k)
	}
	return out
}

// sets are the entry's vars as --set arguments, in name order.
func (e Entry) sets() []string {
	var out []string
	for k, v := range e.Vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// openLedger opens engine/schedule's ledger in a state folder, saying in
// log when a damaged one was set aside.
func openLedger(stateDir string, log *slog.Logger) (Ledger, error) {
	l, err := schedule.LoadLedger(filepath.Join(stateDir, schedule.LedgerFile))
	if err != nil {
		return nil, err
	}
	if l.Damaged != nil {
		log.Warn("a damaged schedule ledger was set aside; its schedules start afresh at their next times",
			"err", l.Damaged, "moved_to", l.MovedTo)
	}
	return ledger{l}, nil
}

// ledger adapts schedule.Ledger to Ledger.
type ledger struct{ l *schedule.Ledger }

func (l ledger) Last(key string) (time.Time, bool) {
	t := l.l.Get(key)
	return t, !t.IsZero()
}

func (l ledger) Record(key string, t time.Time) error {
	if err := os.MkdirAll(filepath.Dir(l.l.Path()), 0o755); err != nil {
		return fmt.Errorf("record schedule fire: %w", err)
	}
	return l.l.Set(key, t)
}

// RecipeSchedules reads the schedule: key of recipes (engine/schedule
// decides what is due).
type RecipeSchedules struct{}

// Schedule implements ScheduleReader.
func (RecipeSchedules) Schedule(r *recipe.Recipe) (*Schedule, error) {
	if r.Schedule == nil {
		return nil, nil
	}
	policy := schedule.PolicyOf(r.Schedule)
	out := &Schedule{Overlap: r.Schedule.Overlap, Catchup: r.Schedule.Catchup}
	for _, e := range r.Schedule.Entries {
		zone := e.Zone
		if zone == "" {
			zone = e.Location.String()
		}
		vars := make(map[string]string, len(e.Vars))
		secret := map[string]bool{}
		for k, v := range e.Vars {
			vars[k] = fmt.Sprint(v)
			secret[k] = slices.Contains(r.Secrets, k)
		}
		out.Entries = append(out.Entries, Entry{Cron: e.Spec, Timezone: zone, Vars: vars, Secret: secret,
			Words: e.Expr.Describe(), Interval: e.Expr.Interval(), Clock: entryClock{e, policy}})
	}
	return out, nil
}

// entryClock answers for one recipe.ScheduleEntry through engine/schedule.
type entryClock struct {
	e *recipe.ScheduleEntry
	p schedule.Policy
}

func (c entryClock) Due(last, now time.Time) ([]time.Time, time.Time) {
	return schedule.Due(c.e, c.p, last, now)
}

func (c entryClock) Next(t time.Time) time.Time {
	if next := schedule.NextTimes(c.e, t, 1); len(next) > 0 {
		return next[0]
	}
	return time.Time{}
}

// fire is a schedule fire waiting to start.
type fire struct {
	at     time.Time
	runID  string // the run it will be
	key    string
	entry  Entry
	recipe string // the served recipe's abs path
	// wait says the fire waits for the lock rather than being skipped:
	// the queue policy, or a catch-up fire behind the first of its batch.
	wait bool
}

// timetable fires schedules: every tick, each entry of each valid
// recipe is asked what is due since its last recorded fire.
type timetable struct {
	c       *Core
	mu      sync.Mutex
	ledgers map[string]Ledger // by state folder
	pending map[string][]*fire
	// cancelled remembers the runs cancelled for cancel_previous, so a
	// run is cancelled once.
	cancelled map[string]bool
}

func newTimetable(c *Core) *timetable {
	return &timetable{c: c, ledgers: map[string]Ledger{}, pending: map[string][]*fire{}, cancelled: map[string]bool{}}
}

func (t *timetable) ledger(dir string) (Ledger, error) {
	if l, ok := t.ledgers[dir]; ok {
		return l, nil
	}
	l, err := t.c.cfg.OpenLedger(dir)
	if err != nil {
		return nil, err
	}
	t.ledgers[dir] = l
	return l, nil
}

// update sets the next-run gauges after the catalog changed.
func (t *timetable) update() {
	now := t.c.cfg.Now()
	for _, s := range t.c.catalog.all() {
		if next := s.next(now); next != nil {
			t.c.metrics.next.WithLabelValues(s.id).Set(float64(next.Unix()))
		} else {
			t.c.metrics.next.DeleteLabelValues(s.id)
		}
	}
}

// next is the soonest next fire of the recipe's schedule, or nil.
func (s *served) next(now time.Time) *time.Time {
	if s.recipe == nil || s.schedule == nil {
		return nil
	}
	var soonest *time.Time
	for _, e := range s.schedule.Entries {
		n := e.Clock.Next(now)
		if !n.IsZero() && (soonest == nil || n.Before(*soonest)) {
			soonest = &n
		}
	}
	return soonest
}

// tick fires what is due and starts what waits.
func (t *timetable) tick() {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.c.cfg.Now()
	t.dropOrphans()
	for _, s := range t.c.catalog.all() {
		if s.recipe == nil || s.schedule == nil {
			continue
		}
		led, err := t.ledger(s.stateDir)
		if err != nil {
			t.c.log.Error("serve: schedule ledger", "recipe", s.id, "err", err)
			continue
		}
		for _, e := range s.schedule.Entries {
			key := e.key(s.abs)
			last, ok := led.Last(key)
			if !ok {
				// A new entry fires from now on: nothing before it existed
				// was missed.
				if err := led.Record(key, now); err != nil {
					t.c.log.Error("serve: record schedule", "recipe", s.id, "err", err)
				}
				continue
			}
			fires, advanced := e.Clock.Due(last, now)
			if len(fires) == 0 && advanced.Equal(last) {
				continue
			}
			// Recorded before the run starts: a crash in between loses
			// this fire rather than running it twice after the restart.
			if err := led.Record(key, advanced); err != nil {
				t.c.log.Error("serve: record schedule; not firing, to not fire twice", "recipe", s.id, "err", err)
				continue
			}
			if len(fires) == 0 {
				continue // the catch-up policy dropped every time due: advanced only
			}
			t.enqueue(s, e, key, fires)
		}
		t.startWaiting(s)
		if next := s.next(now); next != nil {
			t.c.metrics.next.WithLabelValues(s.id).Set(float64(next.Unix()))
		}
	}
}

// dropOrphans drops the waiting fires of schedule entries that are gone:
// edited (another cron line, zone or vars), or their recipe removed or
// broken. Nothing would ever start them, and they would show as queued
// for good.
func (t *timetable) dropOrphans() {
	live := map[string]bool{}
	for _, s := range t.c.catalog.all() {
		if s.recipe == nil || s.schedule == nil {
			continue
		}
		for _, e := range s.schedule.Entries {
			live[e.key(s.abs)] = true
		}
	}
	for key, q := range t.pending {
		if live[key] || len(q) == 0 {
			continue
		}
		t.c.log.Info("serve: waiting fires dropped: their schedule entry changed or its recipe is gone", "entry", key, "fires", len(q))
		delete(t.pending, key)
		t.c.hub.send(api.Change{Run: q[0].runID, Status: "dropped"})
	}
}

func (t *timetable) enqueue(s *served, e Entry, key string, fires []time.Time) {
	policy := s.schedule.Overlap
	if policy == OverlapQueue && len(t.pending[key]) > 0 {
		t.c.log.Info("serve: a run of this schedule already waits; fire dropped", "recipe", s.id, "cron", e.Cron, "at", fires[0])
		return
	}
	for i, at := range fires {
		f := &fire{at: at, runID: state.NewRunID(at), key: key, entry: e, recipe: s.abs, wait: policy != OverlapSkip || i > 0}
		t.pending[key] = append(t.pending[key], f)
	}
	t.c.hub.send(api.Change{Recipe: s.id, Status: api.StatusQueued})
}

// startWaiting starts the oldest waiting fire of recipe s, or applies the
// overlap policy while a run of it is in progress.
func (t *timetable) startWaiting(s *served) {
	var first *fire
	for _, e := range s.schedule.Entries {
		if q := t.pending[e.key(s.abs)]; len(q) > 0 && (first == nil || q[0].at.Before(first.at)) {
			first = q[0]
		}
	}
	if first == nil {
		return
	}
	if own := t.c.activeOf(s.abs); own != nil {
		t.busy(s, first, own.id)
		return
	}
	_, err := t.c.start(request{s: s, sets: first.entry.sets(), trigger: "schedule", runID: first.runID})
	var apiErr *api.Error
	if errors.As(err, &apiErr) && apiErr.Code == api.CodeLocked {
		t.busy(s, first, "")
		return
	}
	t.pop(first)
	if err != nil {
		t.c.log.Error("serve: scheduled run did not start", "recipe", s.id, "cron", first.entry.Cron, "err", err)
	}
}

// busy applies the overlap policy to fire f while a run holds the
// recipe's lock: the server's own run ownRun, or (when "") another
// process's.
func (t *timetable) busy(s *served, f *fire, ownRun string) {
	switch {
	case !f.wait:
		t.pop(f)
		t.c.log.Info("serve: a run of the recipe is in progress; scheduled fire skipped", "recipe", s.id, "cron", f.entry.Cron, "at", f.at)
		t.c.metrics.skipped.WithLabelValues(s.id).Inc()
	case s.schedule.Overlap == OverlapCancelPrevious && ownRun != "" && !t.cancelled[ownRun]:
		t.cancelled[ownRun] = true
		t.c.log.Info("serve: cancelling the previous run for a scheduled one", "recipe", s.id, "run", ownRun)
		t.c.cancelActive(ownRun)
	}
}

func (t *timetable) pop(f *fire) {
	q := t.pending[f.key]
	for i, g := range q {
		if g == f {
			t.pending[f.key] = append(q[:i:i], q[i+1:]...)
			break
		}
	}
	if len(t.pending[f.key]) == 0 {
		delete(t.pending, f.key)
	}
}

// queued returns the waiting fires as runs with status queued.
func (t *timetable) queued() []api.RunSummary {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []api.RunSummary
	for _, q := range t.pending {
		for _, f := range q {
			s := t.c.catalog.byAbsPath(f.recipe)
			if s == nil {
				continue
			}
			name := s.id
			if s.recipe != nil && s.recipe.Name != "" {
				name = s.recipe.Name
			}
			out = append(out, api.RunSummary{ID: f.runID, Recipe: s.id, Name: name, Status: api.StatusQueued, Started: f.at, Trigger: "schedule"})
		}
	}
	return out
}

// unqueue drops the waiting fire that would be run id.
func (t *timetable) unqueue(id string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, q := range t.pending {
		for _, f := range q {
			if f.runID == id {
				t.pop(f)
				return true
			}
		}
	}
	return false
}

// drop forgets every waiting fire (the server is stopping). Their fire
// times are recorded: a restart does not fire them again.
func (t *timetable) drop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, q := range t.pending {
		for _, f := range q {
			t.c.log.Warn("serve: stopping; a waiting scheduled run is dropped", "run", f.runID, "at", f.at)
		}
		delete(t.pending, k)
	}
}
