package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/backups"
	"github.com/novelfactory/runner/internal/finance"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/internal/serve/api"
)

// recentRuns is how many runs a recipe shows as its strip.
const recentRuns = 20

// Recipes implements api.Backend.
func (c *Core) Recipes(context.Context) ([]api.Recipe, error) {
	all := c.catalog.all()
	out := make([]api.Recipe, 0, len(all))
	for _, s := range all {
		out = append(out, c.recipeDoc(s))
	}
	return out, nil
}

// Recipe implements api.Backend.
func (c *Core) Recipe(_ context.Context, id string) (api.Recipe, error) {
	s, err := c.recipeOf(id)
	if err != nil {
		return api.Recipe{}, err
	}
	return c.recipeDoc(s), nil
}

func (c *Core) recipeDoc(s *served) api.Recipe {
	now := c.cfg.Now()
	doc := api.Recipe{ID: s.id, Name: s.id, Path: s.path, Errors: c.maskAll(s.errors)}
	if r := s.recipe; r != nil {
		if r.Name != "" {
			doc.Name = r.Name
		}
		doc.Description = r.Description
		secret := map[string]bool{}
		for _, n := range r.Secrets {
			secret[n] = true
		}
		for _, v := range r.Vars {
			def := "***"
			if !secret[v.Name] {
				def = c.masker.String(valueText(v.Value))
			}
			computed := v.Value != nil && len(v.Value.Exprs()) > 0
			doc.Vars = append(doc.Vars, api.Var{Name: v.Name, Default: def, Secret: secret[v.Name], Computed: computed})
		}
		doc.Tasks = graph(s)
	}
	if sc := s.schedule; sc != nil && s.recipe != nil {
		doc.Overlap, doc.Catchup = sc.Overlap, sc.Catchup
		for _, e := range sc.Entries {
			sch := api.Schedule{Cron: e.Cron, Timezone: e.Timezone, Words: e.Words, Vars: c.maskMap(e.shownVars())}
			if n := e.Clock.Next(now); !n.IsZero() {
				sch.Next = &n
			}
			doc.Schedules = append(doc.Schedules, sch)
		}
		doc.NextRun = s.next(now)
	}
	c.index.mu.RLock()
	runs := c.index.byRecipe[s.abs]
	var lastSuccess *time.Time
	for i, e := range runs {
		if i < recentRuns {
			doc.Recent = append(doc.Recent, c.summary(e))
		}
		if e.status == string(state.Succeeded) {
			t := e.started
			if e.finished != nil {
				t = *e.finished
			}
			lastSuccess = &t
			break
		}
	}
	for i := len(doc.Recent); i < recentRuns && i < len(runs); i++ {
		doc.Recent = append(doc.Recent, c.summary(runs[i]))
	}
	c.index.mu.RUnlock()
	if len(doc.Recent) > 0 {
		last := doc.Recent[0]
		doc.LastRun = &last
	}
	doc.Overdue = overdue(s, lastSuccess, now)
	return doc
}

// overdue says whether a scheduled recipe has gone too long without a
// success: longer than its schedule's longest gap plus a seventh of it
// (at least an hour) — 8 days for a weekly backup. A recipe that never
// succeeded counts from when the server first saw it.
func overdue(s *served, lastSuccess *time.Time, now time.Time) *api.Overdue {
	if s.recipe == nil || s.schedule == nil {
		return nil
	}
	var interval time.Duration
	for _, e := range s.schedule.Entries {
		if e.Interval > interval {
			interval = e.Interval
		}
	}
	if interval <= 0 {
		return nil
	}
	slack := interval / 7
	if slack < time.Hour {
		slack = time.Hour
	}
	expected := interval + slack
	since := s.seen
	if lastSuccess != nil {
		since = *lastSuccess
	}
	if now.Sub(since) <= expected {
		return nil
	}
	msg := fmt.Sprintf("no successful run for %s (expected every %s)", days(now.Sub(since)), days(interval))
	if lastSuccess == nil {
		msg = fmt.Sprintf("no successful run since the server started %s ago (expected every %s)", days(now.Sub(since)), days(interval))
	}
	return &api.Overdue{Expected: expected, LastSuccess: lastSuccess, Message: msg}
}

// days says a duration in days, or hours below two days.
func days(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	if d >= 2*time.Hour {
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return d.Round(time.Minute).String()
}

// valueText is a var's default as the recipe writes it: its value when
// it is a literal, its expression's text otherwise.
func valueText(v interface {
	Eval(*eval.Scope) (any, error)
	Exprs() []*eval.Expr
}) string {
	if v == nil {
		return ""
	}
	if len(v.Exprs()) == 0 {
		if val, err := v.Eval(nil); err == nil {
			return eval.Text(val)
		}
	}
	if t, ok := v.(interface{ Source() string }); ok {
		return t.Source()
	}
	return "(computed when the run starts)"
}

func graph(s *served) []api.TaskNode {
	if s.recipe == nil {
		return nil
	}
	nodes := make([]api.TaskNode, len(s.recipe.Tasks))
	for i, t := range s.recipe.Tasks {
		nodes[i] = api.TaskNode{ID: t.ID, Uses: t.Uses, Needs: t.Needs}
	}
	return nodes
}

func (c *Core) maskAll(lines []string) []string {
	if len(lines) == 0 {
		return nil
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = c.masker.String(l)
	}
	return out
}

func (c *Core) maskMap(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = c.masker.String(v)
	}
	return out
}

// Run implements api.Backend.
func (c *Core) Run(_ context.Context, id string) (api.Run, error) {
	e, s, err := c.runOf(id)
	if err != nil {
		for _, q := range c.timer.queued() {
			if q.ID == id {
				return api.Run{RunSummary: q, Tasks: []api.Task{}, Actions: []string{"cancel"}}, nil
			}
		}
		return api.Run{}, err
	}
	sum := c.summary(e)
	out := api.Run{RunSummary: sum, Tasks: []api.Task{}}
	if s != nil {
		out.Graph = graph(s)
	}
	run, err := (&state.Store{Dir: e.dir}).Load(id)
	if err != nil {
		out.Status, out.Problem = api.StatusDamaged, c.masker.String(err.Error())
		return out, nil
	}
	if run.Damaged != nil {
		out.Problem = c.masker.String(run.Damaged.Error())
	}
	live := sum.Status == string(state.Running)
	for _, t := range run.Tasks {
		base, _, _ := strings.Cut(t.ID, "[")
		task := api.Task{ID: t.ID, Base: base, Status: string(t.Status), Attempts: t.Attempts, Started: t.Started, Finished: t.Finished,
			Duration: t.Duration().Seconds(), Outputs: maskValue(c, t.Outputs), Error: c.masker.String(t.Error), Reason: c.masker.String(t.Reason), HasLog: t.Log != ""}
		if !live && (t.Status == state.Running || t.Status == state.Pending) {
			task.Status = api.StatusInterrupted
		}
		out.Tasks = append(out.Tasks, task)
	}
	switch {
	case live && c.isActive(id):
		out.Actions = []string{"cancel"}
	case live:
	case s != nil && s.recipe != nil && sum.Status != api.StatusDamaged:
		if sum.Status != string(state.Succeeded) {
			out.Actions = append(out.Actions, "resume")
		}
		out.Actions = append(out.Actions, "retry")
	}
	return out, nil
}

// maskValue masks every string in an output value (state is masked when
// written, but a secret learnt since is masked too).
func maskValue(c *Core, v any) any {
	switch x := v.(type) {
	case string:
		return c.masker.String(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = maskValue(c, e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = maskValue(c, e)
		}
		return out
	}
	return v
}

// logChunk is the most a Log call returns.
const logChunk = 64 << 10

// Log implements api.Backend: whole lines of the task's log from offset
// on; the last line without its newline only once the task has finished.
func (c *Core) Log(_ context.Context, runID, taskID string, offset int64) (api.LogChunk, error) {
	if !api.TaskPattern.MatchString(taskID) {
		return api.LogChunk{}, api.Errorf(api.CodeInvalidID, "%q is not a task id", taskID)
	}
	if offset < 0 {
		return api.LogChunk{}, api.Errorf(api.CodeBadRequest, "offset %d: give 0 or more", offset)
	}
	e, _, err := c.runOf(runID)
	if err != nil {
		return api.LogChunk{}, err
	}
	done := !c.isActive(runID)
	run, err := (&state.Store{Dir: e.dir}).Load(runID)
	if err == nil {
		t := run.Task(taskID)
		switch {
		case t == nil && done:
			// A task the run never had: nothing to read, and no file to look for.
			return api.LogChunk{}, api.Errorf(api.CodeNotFound, "run %s has no task %s", runID, taskID)
		case t != nil && t.Status.Terminal():
			done = true // a running run's task is done once its record says so
		}
	}
	path := filepath.Join(e.dir, "runs", runID, state.LogPath(taskID))
	f, err := regfile.OpenNoFollow(path) // a link planted in the logs folder is not served
	if errors.Is(err, os.ErrNotExist) {
		return api.LogChunk{Offset: offset, End: offset, Done: done}, nil
	}
	if err != nil {
		return api.LogChunk{}, fmt.Errorf("read log of %s in run %s: %w", taskID, runID, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return api.LogChunk{}, fmt.Errorf("read log of %s in run %s: %w", taskID, runID, err)
	}
	if offset > info.Size() {
		return api.LogChunk{}, api.Errorf(api.CodeBadRequest, "offset %d is past the end of the log (%d bytes)", offset, info.Size())
	}
	buf := make([]byte, min(int64(logChunk), info.Size()-offset))
	n, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return api.LogChunk{}, fmt.Errorf("read log of %s in run %s: %w", taskID, runID, err)
	}
	buf = buf[:n]
	end := offset + int64(n)
	if offset > 0 && !startsLine(f, offset) {
		// A client resuming inside a line (a Last-Event-ID it made up, or
		// one from before the log was cut) starts at the next whole line,
		// not in the middle of a character.
		cut := strings.IndexByte(string(buf), '\n')
		if cut < 0 {
			return api.LogChunk{Offset: end, End: end, Done: done && end == info.Size()}, nil
		}
		buf, offset = buf[cut+1:], offset+int64(cut+1)
	}
	complete := done && end == info.Size()
	if !complete {
		if cut := strings.LastIndexByte(string(buf), '\n'); cut >= 0 {
			buf = buf[:cut+1]
		} else if len(buf) < logChunk {
			buf = buf[:0] // half a line: wait for the rest
		}
		end = offset + int64(len(buf))
	}
	return api.LogChunk{Offset: offset, End: end, Text: c.masker.String(string(buf)), Done: complete}, nil
}

// startsLine reports whether offset in f is the start of a line.
func startsLine(f *os.File, offset int64) bool {
	var b [1]byte
	n, _ := f.ReadAt(b[:], offset-1)
	return n == 1 && b[0] == '\n'
}

// Finance implements api.Backend: the CSV summed up by the report task's
// code (internal/finance), read again only when the file changed.
func (c *Core) Finance(ctx context.Context) (api.Finance, error) {
	if c.cfg.FinanceCSV == "" {
		return api.Finance{}, api.Errorf(api.CodeNotConfigured, "no finance CSV is configured (runner serve --finance-csv FILE)")
	}
	info, err := os.Stat(c.cfg.FinanceCSV)
	if errors.Is(err, os.ErrNotExist) {
		return api.Finance{}, api.Errorf(api.CodeNotConfigured, "the finance CSV %s does not exist (yet): run the finance recipe, or give --finance-csv", c.cfg.FinanceCSV)
	}
	if err != nil {
		return api.Finance{}, fmt.Errorf("finance: %w", err)
	}
	c.financeMu.Lock()
	defer c.financeMu.Unlock()
	if c.financeDoc != nil && info.ModTime().Equal(c.financeMtime) && info.Size() == c.financeSize {
		return *c.financeDoc, nil
	}
	sum, err := finance.Summarize(ctx, c.cfg.FinanceCSV, c.cfg.Finance)
	if err != nil {
		return api.Finance{}, fmt.Errorf("finance: %w", err)
	}
	doc := *sum
	c.financeDoc, c.financeMtime, c.financeSize = &doc, info.ModTime(), info.Size()
	return doc, nil
}

// Backups implements api.Backend: the sets under the configured target
// (internal/backups), listed on each call.
func (c *Core) Backups(ctx context.Context) (api.Backups, error) {
	if c.cfg.BackupTarget == "" {
		return api.Backups{}, api.Errorf(api.CodeNotConfigured, "no backup target is configured (runner serve --backups TARGET)")
	}
	sets, err := backups.List(ctx, c.cfg.BackupTarget, c.cfg.Backups)
	if err != nil {
		return api.Backups{}, fmt.Errorf("list backups: %s", c.masker.String(err.Error()))
	}
	doc := api.Backups{Target: c.masker.String(c.cfg.BackupTarget), Sets: []api.BackupSet{}}
	for _, s := range sets {
		doc.Sets = append(doc.Sets, api.BackupSet{Name: s.Name, Date: s.Date, Objects: s.Objects, Size: s.Size, Complete: s.Complete,
			Problem: c.masker.String(s.Problem), RestoreCommand: c.masker.String(s.RestoreCommand)})
	}
	return doc, nil
}
