package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/backups"
	"github.com/novelfactory/runner/internal/finance"
	"github.com/novelfactory/runner/internal/serve/api"
)

// DefaultGrace is how long running tasks may go on after the server is
// told to stop, before they are cancelled: long enough for an upload to
// finish, short enough for systemd's default stop timeout (90 s) to cover
// it and the tasks' own 5 s from SIGTERM to SIGKILL.
const DefaultGrace = 30 * time.Second

// DefaultTick is how often the server looks at its recipes, schedules and
// runs.
const DefaultTick = 2 * time.Second

// Config is what the server serves and how.
type Config struct {
	// Dirs are the folders whose recipes are served (*.yaml and *.yml
	// directly in each, see the package doc).
	Dirs []string
	// StateDir keeps every recipe's runs; empty: .runner beside each
	// recipe, as `runner apply` does.
	StateDir string
	// Registry holds the task types recipes may use; the built-ins when nil.
	Registry *tasktype.Registry
	// Environ is the environment runs see (the server's own).
	Environ []string
	// Masker masks secrets in all the server returns; the engine adds each
	// run's secrets to it. A new one when nil.
	Masker *secret.Masker
	Now    func() time.Time // the clock; time.Now when nil
	// Tick is how often schedules, recipe files and run folders are
	// looked at; DefaultTick when 0. Tests drive the loop with Step.
	Tick time.Duration
	// Grace is how long running tasks may go on after Serve's context ends
	// before they are cancelled; DefaultGrace when 0, none when negative.
	Grace time.Duration
	// Kill, when closed, kills the running tasks' processes at once (a
	// second SIGTERM).
	Kill <-chan struct{}
	// Schedules reads a loaded recipe's schedule; RecipeSchedules (the
	// recipe's schedule: key) when nil.
	Schedules ScheduleReader
	// OpenLedger opens the persisted last-fire times kept in a state
	// folder; engine/schedule's ledger there when nil.
	OpenLedger func(stateDir string) (Ledger, error)
	// FinanceCSV is the dated CSV of the finance page; empty: none.
	FinanceCSV string
	// Finance says how to read and word it (as the report task's params).
	Finance finance.Options
	// BackupTarget is the s3:// or file:// target of the backups page;
	// empty: none.
	BackupTarget string
	// Backups say how to reach it; Environ is the server's when empty.
	Backups backups.Options
	Logger  *slog.Logger // slog.Default() when nil
}

// Core is the server's core: it implements api.Backend.
type Core struct {
	cfg     Config
	log     *slog.Logger
	masker  *secret.Masker
	catalog *catalog
	index   *index
	hub     hub
	metrics *metrics
	timer   *timetable

	// runCtx is the context of every run the server starts: it outlives
	// the request that started the run and ends after the grace period.
	// (Serve, not Run, is the loop: Run is api.Backend's one run.)
	runCtx    context.Context
	cancelAll context.CancelFunc

	mu       sync.Mutex
	active   map[string]*activeRun // by run id
	stopping bool
	wg       sync.WaitGroup // the runs' goroutines

	financeMu    sync.Mutex
	financeDoc   *api.Finance // of the CSV as it was at financeMtime and financeSize
	financeMtime time.Time
	financeSize  int64
}

var _ api.Backend = (*Core)(nil)

// New loads the recipes and the run index: once it returns, the server
// can answer.
func New(cfg Config) (*Core, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Tick <= 0 {
		cfg.Tick = DefaultTick
	}
	if cfg.Grace == 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Masker == nil {
		cfg.Masker = secret.New()
	}
	if cfg.Registry == nil {
		cfg.Registry = tasktype.Builtin()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.OpenLedger == nil {
		log := cfg.Logger
		cfg.OpenLedger = func(dir string) (Ledger, error) { return openLedger(dir, log) }
	}
	if cfg.Schedules == nil {
		cfg.Schedules = RecipeSchedules{}
	}
	if cfg.Backups.Environ == nil {
		cfg.Backups.Environ = cfg.Environ
	}
	if len(cfg.Dirs) == 0 {
		return nil, errors.New("serve: no folder of recipes to serve")
	}
	for _, d := range cfg.Dirs {
		info, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("serve %s: %w", d, err)
		}
		if !info.IsDir() {
			return nil, fmt.Errorf("serve %s: not a folder (give the folder that holds the recipes)", d)
		}
	}
	cfg.Masker.AddEnviron(cfg.Environ)
	c := &Core{cfg: cfg, log: cfg.Logger, masker: cfg.Masker, active: map[string]*activeRun{}}
	c.hub.subs = map[chan api.Change]struct{}{}
	c.runCtx, c.cancelAll = context.WithCancel(context.Background())
	c.metrics = newMetrics()
	c.catalog = newCatalog(c)
	c.index = newIndex(c)
	c.timer = newTimetable(c)
	c.catalog.scan()
	if err := c.index.refresh(); err != nil {
		return nil, err
	}
	c.metrics.fromHistory(c)
	c.timer.update()
	return c, nil
}

// Serve keeps the server's schedules, recipes and index up to date until ctx
// ends; then it stops starting runs, gives running ones the grace period,
// cancels them, and returns once their state is saved.
func (c *Core) Serve(ctx context.Context) error {
	ticker := time.NewTicker(c.cfg.Tick)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			c.shutdown()
			return nil
		case <-ticker.C:
			c.Step()
		}
	}
}

// Step does one tick's work: reload changed recipes, take in new and
// changed run folders, fire what is due, start what waits. Serve calls it
// every Tick; tests call it with their own clock.
func (c *Core) Step() {
	if c.isStopping() {
		return
	}
	if c.catalog.scan() {
		c.hub.send(api.Change{})
	}
	if err := c.index.refresh(); err != nil {
		c.log.Warn("serve: read runs", "err", err)
	}
	c.timer.tick()
}

func (c *Core) isStopping() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopping
}

// shutdown stops starting runs, waits up to Grace for the running ones,
// then cancels them and waits until they have saved their state.
func (c *Core) shutdown() {
	c.mu.Lock()
	c.stopping = true
	n := len(c.active)
	c.mu.Unlock()
	c.timer.drop()
	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	if n > 0 && c.cfg.Grace > 0 {
		c.log.Info("serve: stopping; waiting for running runs", "runs", n, "grace", c.cfg.Grace)
		t := time.NewTimer(c.cfg.Grace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
		}
	}
	c.cancelAll()
	<-done
}
