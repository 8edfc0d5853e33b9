package web

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/serve/api"
)

// fakeBackend is a stateful api.Backend for the HTTP layer's tests: runs
// start, their tasks change status and their logs grow when a test says so.
type fakeBackend struct {
	mu      sync.Mutex
	now     time.Time
	recipes []api.Recipe
	runs    map[string]*fakeRun
	order   []string // run ids, oldest first
	watch   []chan api.Change
	calls   map[string]int
	started [][]string // the sets of each Start
	finance *api.Finance
	backups *api.Backups
}

type fakeRun struct {
	run  api.Run
	logs map[string]*bytes.Buffer
}

var helloGraph = []api.TaskNode{
	{ID: "find-episodes", Uses: "shell"},
	{ID: "count", Uses: "shell", Needs: []string{"find-episodes"}},
	{ID: "fetch-greeting", Uses: "shell"},
	{ID: "report", Uses: "shell", Needs: []string{"count", "fetch-greeting"}},
	{ID: "publish", Uses: "shell", Needs: []string{"report"}},
}

func newFakeBackend(now time.Time) *fakeBackend {
	last := now.Add(-9 * 24 * time.Hour)
	next := now.Add(2 * time.Hour)
	f := &fakeBackend{
		now:   now,
		runs:  map[string]*fakeRun{},
		calls: map[string]int{},
		recipes: []api.Recipe{
			{
				ID: "hello", Name: "hello", Path: "recipes/hello.yaml",
				Description: "Count the characters of every episode (에피소드) of a project.",
				Vars:        []api.Var{{Name: "project", Default: "Pilot"}, {Name: "publish", Default: "false"}, {Name: "api_token", Default: "***", Secret: true}, {Name: "stamp", Default: `${{ strftime(now(), "%Y-%m-%d") }}`, Computed: true}},
				Tasks:       helloGraph,
			},
			{
				ID: "weekly-backup", Name: "주간 백업", Path: "recipes/weekly-backup.yaml",
				Schedules: []api.Schedule{{Cron: "0 4 * * 0", Timezone: "Asia/Seoul", Words: "at 04:00 on Sunday", Next: &next}},
				Overlap:   "skip", Catchup: "latest", NextRun: &next,
				Overdue: &api.Overdue{Expected: 8 * 24 * time.Hour, LastSuccess: &last, Message: "no successful run for 9 days (expected every 7 days)"},
				Tasks:   []api.TaskNode{{ID: "zip", Uses: "zip"}, {ID: "upload", Uses: "s3put", Needs: []string{"zip"}}},
			},
			{
				ID: "broken", Name: "broken", Path: "recipes/broken.yaml",
				Errors: []string{"recipes/broken.yaml:3:9: schedule: cron \"61 * * * *\": minute 61 is out of range 0-59"},
			},
		},
	}
	// A history: 25 weekly backups, the last ones failing.
	for i := 25; i >= 1; i-- {
		st := "succeeded"
		if i <= 2 {
			st = "failed"
		}
		f.addRun("weekly-backup", now.Add(-time.Duration(i)*7*24*time.Hour+time.Hour), st, "schedule")
	}
	return f
}

func (f *fakeBackend) count(name string) {
	f.mu.Lock()
	f.calls[name]++
	f.mu.Unlock()
}

// totalCalls is how many times the backend was asked anything.
func (f *fakeBackend) totalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// addRun records a finished or running run; f.mu must not be held.
func (f *fakeBackend) addRun(recipe string, started time.Time, status, trigger string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.addRunLocked(recipe, started, status, trigger)
}

func (f *fakeBackend) addRunLocked(recipe string, started time.Time, status, trigger string) string {
	id := state.NewRunID(started)
	rc := f.recipeLocked(recipe)
	r := &fakeRun{run: api.Run{RunSummary: api.RunSummary{ID: id, Recipe: recipe, Name: rc.Name, Status: status, Started: started, Trigger: trigger}, Graph: rc.Tasks}, logs: map[string]*bytes.Buffer{}}
	for _, n := range rc.Tasks {
		st := status
		if status == "running" {
			st = "pending"
		}
		r.run.Tasks = append(r.run.Tasks, api.Task{ID: n.ID, Base: n.ID, Status: st})
	}
	if status != "running" {
		end := started.Add(90 * time.Second)
		r.run.Finished, r.run.Duration = &end, 90
	}
	r.setActions()
	f.runs[id] = r
	f.order = append(f.order, id)
	return id
}

func (r *fakeRun) setActions() {
	switch r.run.Status {
	case "running":
		r.run.Actions = []string{"cancel"}
	case "failed", "cancelled", api.StatusInterrupted:
		r.run.Actions = []string{"resume", "retry"}
	case "succeeded":
		r.run.Actions = []string{"retry"}
	default:
		r.run.Actions = nil
	}
}

func (f *fakeBackend) recipeLocked(id string) api.Recipe {
	for _, r := range f.recipes {
		if r.ID == id {
			return r
		}
	}
	return api.Recipe{}
}

func (f *fakeBackend) notify(c api.Change) {
	for _, ch := range f.watch {
		select {
		case ch <- c:
		default:
		}
	}
}

// setTask changes a task's status (and the run's, when all are done).
func (f *fakeBackend) setTask(runID, task, status string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.runs[runID]
	for i := range r.run.Tasks {
		t := &r.run.Tasks[i]
		if t.ID == task {
			t.Status = status
			t.Attempts = max(t.Attempts, 1)
			ts := f.now
			if status == "running" {
				t.Started = &ts
			} else {
				t.Finished, t.Duration = &ts, 1.5
				if status == "succeeded" {
					t.Outputs = map[string]any{"stdout": "done", "exit_code": 0}
				}
			}
		}
	}
	done := true
	for _, t := range r.run.Tasks {
		if t.Status == "pending" || t.Status == "running" {
			done = false
		}
	}
	if done && r.run.Status == "running" {
		r.run.Status = "succeeded"
		for _, t := range r.run.Tasks {
			if t.Status == "failed" {
				r.run.Status = "failed"
			}
		}
		end := f.now
		r.run.Finished, r.run.Duration = &end, 12
		r.setActions()
	}
	f.notify(api.Change{Recipe: r.run.Recipe, Run: runID, Status: r.run.Status})
}

// appendLog adds lines to a task's log.
func (f *fakeBackend) appendLog(runID, task string, lines ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.runs[runID]
	b := r.logs[task]
	if b == nil {
		b = &bytes.Buffer{}
		r.logs[task] = b
	}
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	for i := range r.run.Tasks {
		if r.run.Tasks[i].ID == task {
			r.run.Tasks[i].HasLog = true
		}
	}
}

func (f *fakeBackend) Recipes(ctx context.Context) ([]api.Recipe, error) {
	f.count("Recipes")
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []api.Recipe
	for _, r := range f.recipes {
		out = append(out, f.withRunsLocked(r))
	}
	return out, nil
}

func (f *fakeBackend) withRunsLocked(r api.Recipe) api.Recipe {
	r.Recent = nil
	for i := len(f.order) - 1; i >= 0 && len(r.Recent) < 20; i-- {
		if run := f.runs[f.order[i]]; run.run.Recipe == r.ID {
			r.Recent = append(r.Recent, run.run.RunSummary)
		}
	}
	if len(r.Recent) > 0 {
		last := r.Recent[0]
		r.LastRun = &last
	}
	return r
}

func (f *fakeBackend) Recipe(ctx context.Context, id string) (api.Recipe, error) {
	f.count("Recipe")
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.recipes {
		if r.ID == id {
			return f.withRunsLocked(r), nil
		}
	}
	return api.Recipe{}, api.Errorf(api.CodeNotFound, "no recipe %s", id)
}

func (f *fakeBackend) Runs(ctx context.Context, q api.RunQuery) (api.RunPage, error) {
	f.count("Runs")
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []api.RunSummary
	for i := len(f.order) - 1; i >= 0; i-- {
		r := f.runs[f.order[i]].run.RunSummary
		if (q.Recipe == "" || r.Recipe == q.Recipe) && (q.Status == "" || r.Status == q.Status) &&
			(q.From.IsZero() || !r.Started.Before(q.From)) && (q.To.IsZero() || r.Started.Before(q.To)) {
			all = append(all, r)
		}
	}
	per := q.PerPage
	if per == 0 {
		per = 50
	}
	page := max(q.Page, 1)
	lo := min((page-1)*per, len(all))
	hi := min(lo+per, len(all))
	return api.RunPage{Runs: all[lo:hi], Total: len(all), Page: page, PerPage: per}, nil
}

func (f *fakeBackend) Run(ctx context.Context, id string) (api.Run, error) {
	f.count("Run")
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[id]
	if !ok {
		return api.Run{}, api.Errorf(api.CodeNotFound, "no run %s", id)
	}
	out := r.run
	out.Tasks = slices.Clone(r.run.Tasks)
	return out, nil
}

func (f *fakeBackend) Log(ctx context.Context, runID, taskID string, offset int64) (api.LogChunk, error) {
	f.count("Log")
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[runID]
	if !ok {
		return api.LogChunk{}, api.Errorf(api.CodeNotFound, "no run %s", runID)
	}
	var task *api.Task
	for i := range r.run.Tasks {
		if r.run.Tasks[i].ID == taskID {
			task = &r.run.Tasks[i]
		}
	}
	if task == nil {
		return api.LogChunk{}, api.Errorf(api.CodeNotFound, "run %s has no task %s", runID, taskID)
	}
	var data []byte
	if b := r.logs[taskID]; b != nil {
		data = b.Bytes()
	}
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	rest := data[offset:]
	if len(rest) > 64<<10 {
		rest = rest[:64<<10]
	}
	if i := bytes.LastIndexByte(rest, '\n'); i >= 0 {
		rest = rest[:i+1]
	} else {
		rest = nil
	}
	end := offset + int64(len(rest))
	done := task.Status != "running" && task.Status != "pending" && end == int64(len(data))
	return api.LogChunk{Offset: offset, End: end, Text: string(rest), Done: done}, nil
}

func (f *fakeBackend) Watch(ctx context.Context) <-chan api.Change {
	f.count("Watch")
	ch := make(chan api.Change, 16)
	f.mu.Lock()
	f.watch = append(f.watch, ch)
	f.mu.Unlock()
	go func() {
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.watch = slices.DeleteFunc(f.watch, func(c chan api.Change) bool { return c == ch })
		close(ch)
	}()
	return ch
}

func (f *fakeBackend) Start(ctx context.Context, recipeID string, sets []string) (api.RunSummary, error) {
	f.count("Start")
	f.mu.Lock()
	defer f.mu.Unlock()
	rc := f.recipeLocked(recipeID)
	if rc.ID == "" {
		return api.RunSummary{}, api.Errorf(api.CodeNotFound, "no recipe %s", recipeID)
	}
	if len(rc.Errors) > 0 {
		return api.RunSummary{}, api.Errorf(api.CodeInvalidRecipe, "%s does not load: %s", rc.Path, rc.Errors[0])
	}
	for _, s := range sets {
		name, _, ok := strings.Cut(s, "=")
		if !ok || !slices.ContainsFunc(rc.Vars, func(v api.Var) bool { return v.Name == name }) {
			return api.RunSummary{}, api.Errorf(api.CodeInvalidVar, "--set %s: the recipe declares no var %q", s, name)
		}
	}
	f.started = append(f.started, sets)
	f.now = f.now.Add(time.Second) // run ids sort by start
	id := f.addRunLocked(recipeID, f.now, "running", "manual")
	f.notify(api.Change{Recipe: recipeID, Run: id, Status: "running"})
	return f.runs[id].run.RunSummary, nil
}

func (f *fakeBackend) Resume(ctx context.Context, runID string) (api.RunSummary, error) {
	f.count("Resume")
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[runID]
	if !ok {
		return api.RunSummary{}, api.Errorf(api.CodeNotFound, "no run %s", runID)
	}
	if !slices.Contains(r.run.Actions, "resume") {
		return api.RunSummary{}, api.Errorf(api.CodeConflict, "run %s is %s: there is nothing to resume", runID, r.run.Status)
	}
	r.run.Status, r.run.Resumes = "running", r.run.Resumes+1
	r.setActions()
	return r.run.RunSummary, nil
}

func (f *fakeBackend) Cancel(ctx context.Context, runID string) error {
	f.count("Cancel")
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[runID]
	if !ok {
		return api.Errorf(api.CodeNotFound, "no run %s", runID)
	}
	if r.run.Status != "running" {
		return api.Errorf(api.CodeConflict, "run %s is %s, not running", runID, r.run.Status)
	}
	r.run.Status = "cancelled"
	r.setActions()
	return nil
}

func (f *fakeBackend) Retry(ctx context.Context, runID, taskID string, downstream bool) (api.RunSummary, error) {
	f.count("Retry")
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[runID]
	if !ok {
		return api.RunSummary{}, api.Errorf(api.CodeNotFound, "no run %s", runID)
	}
	if !slices.ContainsFunc(r.run.Tasks, func(t api.Task) bool { return t.ID == taskID }) {
		return api.RunSummary{}, api.Errorf(api.CodeNotFound, "run %s has no task %s", runID, taskID)
	}
	f.started = append(f.started, []string{fmt.Sprintf("retry %s downstream=%v", taskID, downstream)})
	r.run.Status = "running"
	r.setActions()
	return r.run.RunSummary, nil
}

func (f *fakeBackend) Finance(ctx context.Context) (api.Finance, error) {
	f.count("Finance")
	if f.finance == nil {
		return api.Finance{}, api.Errorf(api.CodeNotConfigured, "no finance CSV is configured")
	}
	return *f.finance, nil
}

func (f *fakeBackend) Backups(ctx context.Context) (api.Backups, error) {
	f.count("Backups")
	if f.backups == nil {
		return api.Backups{}, api.Errorf(api.CodeNotConfigured, "no backup target is configured")
	}
	return *f.backups, nil
}

// sampleFinance is eight days of 비용, 매출 and 이익, with totals as the
// report task would print them.
func sampleFinance() *api.Finance {
	f := &api.Finance{Source: "metrics/finance.csv", Latest: "2026-03-08", Unit: "원"}
	cost := []float64{120000, 80000, 95000, 110000, 70000, 130000, 90000, 100000}
	sales := []float64{200000, 150000, 90000, 180000, 160000, 210000, 120000, 170000}
	var profit []float64
	for i := range cost {
		f.Dates = append(f.Dates, fmt.Sprintf("2026-03-%02d", i+1))
		profit = append(profit, sales[i]-cost[i])
	}
	f.Series = []api.Series{{Name: "비용", Values: cost}, {Name: "매출", Values: sales}, {Name: "이익", Values: profit}}
	f.Cards = []api.Card{
		{Name: "비용", Totals: []api.Total{{Label: "최근 7일", Value: "675,000 원"}, {Label: "최근 30일", Value: "795,000 원"}, {Label: "2026년 3월", Value: "795,000 원"}}},
		{Name: "매출", Totals: []api.Total{{Label: "최근 7일", Value: "1,080,000 원"}, {Label: "최근 30일", Value: "1,280,000 원"}, {Label: "2026년 3월", Value: "1,280,000 원"}}},
		{Name: "이익", Totals: []api.Total{{Label: "최근 7일", Value: "405,000 원"}, {Label: "최근 30일", Value: "485,000 원"}, {Label: "2026년 3월", Value: "485,000 원"}}},
	}
	return f
}
