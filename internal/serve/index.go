package serve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/internal/serve/api"
)

// entry is one run of the index: what lists show, without its tasks.
type entry struct {
	id       string
	dir      string // the state folder
	recipe   string // absolute path of the recipe file
	name     string
	status   string // the recorded status, or api.StatusDamaged
	started  time.Time
	finished *time.Time
	resumes  int
	trigger  string
	mtime    time.Time // of state.json when read
}

// index keeps a summary of every run in the state folders of the served
// recipes, newest first. It is read once at start (concurrently) and then
// kept up to date: each refresh lists the run folders, reads new ones, and
// reads again the state of runs that may still change (not succeeded)
// when its file changed. A list request never touches the disk.
type index struct {
	c        *Core
	mu       sync.RWMutex
	byID     map[string]*entry
	sorted   []*entry            // newest first
	byRecipe map[string][]*entry // by recipe path, newest first
}

func newIndex(c *Core) *index {
	return &index{c: c, byID: map[string]*entry{}, byRecipe: map[string][]*entry{}}
}

// stateDirs are the state folders of the served recipes.
func (ix *index) stateDirs() []string {
	seen := map[string]bool{}
	var dirs []string
	if ix.c.cfg.StateDir != "" {
		return []string{ix.c.cfg.StateDir}
	}
	for _, s := range ix.c.catalog.all() {
		if !seen[s.stateDir] {
			seen[s.stateDir] = true
			dirs = append(dirs, s.stateDir)
		}
	}
	return dirs
}

// refresh takes in new run folders and changed states.
func (ix *index) refresh() error {
	type job struct {
		dir, id string
		old     *entry
	}
	var jobs []job
	var firstErr error
	ix.mu.RLock()
	for _, dir := range ix.stateDirs() {
		names, err := listRunFolders(dir)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, id := range names {
			old := ix.byID[id]
			if old == nil {
				jobs = append(jobs, job{dir, id, nil})
				continue
			}
			if old.status == string(state.Succeeded) || ix.c.isActive(id) {
				continue
			}
			info, err := os.Stat(filepath.Join(dir, "runs", id, "state.json"))
			if err == nil && !info.ModTime().Equal(old.mtime) {
				jobs = append(jobs, job{dir, id, old})
			}
		}
	}
	ix.mu.RUnlock()
	if len(jobs) == 0 {
		return firstErr
	}
	read := make([]*entry, len(jobs))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0)*2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				read[i] = readEntry(jobs[i].dir, jobs[i].id)
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	ix.mu.Lock()
	for _, e := range read {
		ix.putLocked(e)
	}
	ix.mu.Unlock()
	return firstErr
}

// update reads run id of dir again (the server's own run changed).
func (ix *index) update(dir, id string) *entry {
	e := readEntry(dir, id)
	ix.mu.Lock()
	ix.putLocked(e)
	ix.mu.Unlock()
	return e
}

func (ix *index) putLocked(e *entry) {
	if old := ix.byID[e.id]; old != nil {
		if e.trigger == "" {
			e.trigger = old.trigger
		}
		*old = *e // in place: the sorted slices hold it; the start never changes
		return
	}
	ix.byID[e.id] = e
	ix.sorted = insertNewestFirst(ix.sorted, e)
	ix.byRecipe[e.recipe] = insertNewestFirst(ix.byRecipe[e.recipe], e)
}

func newer(a, b *entry) bool {
	if !a.started.Equal(b.started) {
		return a.started.After(b.started)
	}
	return a.id > b.id
}

func insertNewestFirst(list []*entry, e *entry) []*entry {
	i := sort.Search(len(list), func(i int) bool { return newer(e, list[i]) })
	list = append(list, nil)
	copy(list[i+1:], list[i:])
	list[i] = e
	return list
}

func (ix *index) get(id string) *entry {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if e := ix.byID[id]; e != nil {
		copied := *e
		return &copied
	}
	return nil
}

// setTrigger records how a run of this server was started.
func (ix *index) setTrigger(id, trigger string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if e := ix.byID[id]; e != nil {
		e.trigger = trigger
	}
}

func listRunFolders(dir string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(dir, "runs"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runs in %s: %w", dir, err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.IsDir() && state.IsRunID(e.Name()) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// summaryFields are the fields of state.json an entry needs; the tasks
// are skipped.
type summaryFields struct {
	ID       string     `json:"id"`
	Recipe   string     `json:"recipe"`
	Name     string     `json:"name"`
	Started  time.Time  `json:"started"`
	Finished *time.Time `json:"finished"`
	Status   string     `json:"status"`
	Resumes  int        `json:"resumes"`
}

// readEntry reads the summary of a run. A state.json that cannot be read
// is loaded through the store, which recovers what its journal says.
func readEntry(dir, id string) *entry {
	e := &entry{id: id, dir: dir, status: api.StatusDamaged}
	e.started, _ = time.Parse("20060102T150405Z", id[:16])
	path := filepath.Join(dir, "runs", id, "state.json")
	info, statErr := os.Stat(path)
	if statErr == nil {
		e.mtime = info.ModTime()
	}
	data, err := regfile.ReadFile(path)
	var f summaryFields
	if err == nil {
		err = json.Unmarshal(data, &f)
	}
	if err != nil || f.ID != id || f.Status == "" {
		store := &state.Store{Dir: dir}
		run, err := store.Load(id)
		if err != nil || run.Recipe == "" {
			return e
		}
		f = summaryFields{ID: id, Recipe: run.Recipe, Name: run.Name, Started: run.Started, Finished: run.Finished, Status: string(run.Status), Resumes: run.Resumes}
	}
	e.recipe, e.name, e.started, e.finished, e.status, e.resumes = f.Recipe, f.Name, f.Started, f.Finished, f.Status, f.Resumes
	return e
}

// summary is the api form of e, with its live status.
func (c *Core) summary(e *entry) api.RunSummary {
	s := api.RunSummary{ID: e.id, Recipe: c.catalog.idOf(e.recipe), Name: e.name, Status: c.liveStatus(e),
		Started: e.started, Finished: e.finished, Trigger: e.trigger, Resumes: e.resumes}
	if e.finished != nil {
		s.Duration = e.finished.Sub(e.started).Seconds()
	}
	return s
}

// liveStatus is e's status, with a run recorded as running whose process
// is gone shown as interrupted.
func (c *Core) liveStatus(e *entry) string {
	if e.status != string(state.Running) && e.status != string(state.Pending) {
		return e.status
	}
	if c.isActive(e.id) {
		return string(state.Running)
	}
	h, alive := state.CurrentHolder(e.recipe)
	if h != nil && alive && h.Run == e.id && h.PID != os.Getpid() {
		return string(state.Running) // a shell's runner apply
	}
	return api.StatusInterrupted
}

// Runs implements api.Backend.
func (c *Core) Runs(_ context.Context, q api.RunQuery) (api.RunPage, error) {
	if q.Recipe != "" && !api.IDPattern.MatchString(q.Recipe) {
		return api.RunPage{}, api.Errorf(api.CodeInvalidID, "recipe id %q is not of the form of a recipe id", q.Recipe)
	}
	if q.Page < 1 {
		q.Page = 1
	}
	switch {
	case q.PerPage == 0:
		q.PerPage = 50
	case q.PerPage < 1 || q.PerPage > 200:
		return api.RunPage{}, api.Errorf(api.CodeBadRequest, "per_page %d: give 1 to 200", q.PerPage)
	}
	// Before the index's lock, never under it: a tick holds the timetable
	// while the run it starts waits to write the index.
	queued := c.timer.queued()
	var list []*entry
	c.index.mu.RLock()
	if q.Recipe != "" {
		if s := c.catalog.get(q.Recipe); s != nil {
			list = c.index.byRecipe[s.abs]
		}
	} else {
		list = c.index.sorted
	}
	page := api.RunPage{Page: q.Page, PerPage: q.PerPage, Runs: []api.RunSummary{}}
	skip := (q.Page - 1) * q.PerPage
	match := func(s api.RunSummary) bool {
		return (q.Status == "" || s.Status == q.Status) &&
			(q.From.IsZero() || !s.Started.Before(q.From)) && (q.To.IsZero() || s.Started.Before(q.To))
	}
	add := func(s api.RunSummary) {
		if !match(s) {
			return
		}
		if page.Total >= skip && len(page.Runs) < q.PerPage {
			page.Runs = append(page.Runs, s)
		}
		page.Total++
	}
	for _, s := range queued {
		if q.Recipe == "" || s.Recipe == q.Recipe {
			add(s)
		}
	}
	for _, e := range list {
		// Only a status filter needs the live status of every run; the
		// time bounds and paging need only what the index holds.
		if q.Status == "" && (!q.From.IsZero() && e.started.Before(q.From) || !q.To.IsZero() && !e.started.Before(q.To)) {
			continue
		}
		if q.Status == "" && (page.Total < skip || len(page.Runs) >= q.PerPage) {
			page.Total++
			continue
		}
		add(c.summary(e))
	}
	c.index.mu.RUnlock()
	return page, nil
}
