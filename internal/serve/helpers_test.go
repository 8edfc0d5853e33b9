package serve

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/internal/serve/api"
	_ "github.com/novelfactory/runner/tasks" // the built-in task types
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// every fires at each multiple of d since the epoch, catching up only the
// latest missed fire: a stand-in for a cron entry.
type every time.Duration

func (e every) Due(last, now time.Time) ([]time.Time, time.Time) {
	latest := now.Truncate(time.Duration(e))
	if !latest.After(last) {
		return nil, last
	}
	return []time.Time{latest}, latest
}

func (e every) Next(t time.Time) time.Time { return t.Truncate(time.Duration(e)).Add(time.Duration(e)) }

// schedules gives the recipes named scheduled… a schedule firing every
// hour, with block=true for those named …-blocking.
type schedules struct{ overlap string }

func (s schedules) Schedule(r *recipe.Recipe) (*Schedule, error) {
	if !strings.HasPrefix(r.Name, "scheduled") {
		return nil, nil
	}
	var vars map[string]string
	if strings.HasSuffix(r.Name, "-blocking") {
		vars = map[string]string{"block": "true"}
	}
	return &Schedule{Overlap: s.overlap, Catchup: "latest", Entries: []Entry{
		{Cron: "0 * * * *", Timezone: "UTC", Words: "every hour", Interval: time.Hour, Clock: every(time.Hour), Vars: vars},
	}}, nil
}

var t0 = time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)

// counting is a recipe whose first task counts its runs in first.count
// and whose second waits until the file release exists (when block is
// true) and counts in second.count.
func counting(name string) string {
	return `version: 1
name: ` + name + `
vars:
  dir: .
  block: false
tasks:
  first:
    uses: shell
    with: {run: 'echo x >> ${{ vars.dir }}/first.count'}
  second:
    uses: shell
    needs: [first]
    with:
      run: |
        if [ "${{ vars.block }}" = true ]; then until [ -e ${{ vars.dir }}/release ]; do sleep 0.02; done; fi
        echo x >> ${{ vars.dir }}/second.count
`
}

type fixture struct {
	t     *testing.T
	dir   string // the served folder
	work  string // where counters go
	clock *clock
	core  *Core
	cfg   Config
}

// newFixture serves dir's recipes (written by files) with a fake clock.
func newFixture(t *testing.T, overlap string, files map[string]string) *fixture {
	t.Helper()
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir()) // locks of this test only
	f := &fixture{t: t, dir: t.TempDir(), work: t.TempDir(), clock: &clock{t: t0}}
	for name, text := range files {
		writeFile(t, filepath.Join(f.dir, name), strings.ReplaceAll(text, "dir: .", "dir: "+f.work))
	}
	f.cfg = Config{Dirs: []string{f.dir}, Now: f.clock.Now, Grace: -1, Schedules: schedules{overlap},
		Environ: []string{"PATH=" + os.Getenv("PATH")}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	f.restart()
	return f
}

// restart makes a new core on the same folders, as after a server restart.
func (f *fixture) restart() {
	f.t.Helper()
	if f.core != nil {
		f.core.shutdown()
	}
	core, err := New(f.cfg)
	if err != nil {
		f.t.Fatal(err)
	}
	f.core = core
	f.t.Cleanup(core.shutdown)
}

func writeFile(t testing.TB, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// count is how many lines the counter file name holds.
func (f *fixture) count(name string) int {
	data, err := os.ReadFile(filepath.Join(f.work, name+".count"))
	if err != nil {
		return 0
	}
	return strings.Count(string(data), "\n")
}

func (f *fixture) release() { writeFile(f.t, filepath.Join(f.work, "release"), "") }

// runs lists every run, newest first.
func (f *fixture) runs() []api.RunSummary {
	f.t.Helper()
	page, err := f.core.Runs(context.Background(), api.RunQuery{PerPage: 200})
	if err != nil {
		f.t.Fatal(err)
	}
	return page.Runs
}

// waitFor waits until cond holds, looking again at every change; the
// deadline only keeps a broken test from hanging.
func (f *fixture) waitFor(what string, cond func() bool) {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	changes := f.core.Watch(ctx)
	deadline := time.After(2 * time.Minute)
	for !cond() {
		select {
		case <-changes:
		case <-time.After(100 * time.Millisecond): // changes seen by other means (a file, a lock)
			f.core.index.refresh()
		case <-deadline:
			f.t.Fatalf("gave up waiting for %s", what)
		}
	}
}

// idle waits until the server runs nothing.
func (f *fixture) idle() {
	f.t.Helper()
	f.waitFor("no run in progress", func() bool {
		f.core.mu.Lock()
		defer f.core.mu.Unlock()
		return len(f.core.active) == 0
	})
}

func statuses(runs []api.RunSummary) string {
	var s []string
	for _, r := range runs {
		s = append(s, r.Status)
	}
	return strings.Join(s, ",")
}
