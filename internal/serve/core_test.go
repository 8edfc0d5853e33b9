package serve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/serve/api"
)

func TestAnInvalidRecipeIsShownWithItsErrorsBesideTheValidOnes(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{
		"good.yaml":    counting("good"),
		"bad.yaml":     "version: 1\ntasks:\n  a:\n    uses: nosuchtype\n",
		"compose.yaml": "services:\n  db: {image: postgres}\n",
		"notes.txt":    "version: 1",
	})
	recipes, err := f.core.Recipes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recipes) != 2 || recipes[0].ID != "bad" || recipes[1].ID != "good" {
		t.Fatalf("recipes: %+v, want bad and good (compose.yaml is no recipe)", recipes)
	}
	if len(recipes[0].Errors) == 0 || !strings.HasPrefix(recipes[0].Errors[0], filepath.Join(f.dir, "bad.yaml")+":4:11") {
		t.Errorf("bad's errors: %q, want one at bad.yaml:4:11", recipes[0].Errors)
	}
	if len(recipes[1].Errors) != 0 || len(recipes[1].Tasks) != 2 {
		t.Errorf("good: %+v", recipes[1])
	}
	_, err = f.core.Start(context.Background(), "bad", nil)
	if e := api.AsError(err); e.Code != api.CodeInvalidRecipe {
		t.Errorf("starting bad: %v, want %s", err, api.CodeInvalidRecipe)
	}
	if _, err := f.core.Start(context.Background(), "good", nil); err != nil {
		t.Errorf("starting good: %v", err)
	}
	f.idle()
}

func TestARecipeIsReloadedWhenItsFileChanges(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"r.yaml": counting("before")})
	path := filepath.Join(f.dir, "r.yaml")
	writeFile(t, path, "version: 1\nname: after\ntasks:\n  only: {uses: shell, with: {run: 'true'}}\n")
	future := time.Now().Add(time.Minute) // another mtime, whatever the file system's granularity
	if err := os.Chtimes(path, future, future); err != nil {
		t.Fatal(err)
	}
	f.core.Step()
	r, err := f.core.Recipe(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != "after" || len(r.Tasks) != 1 {
		t.Errorf("after the change: name %q, %d tasks; want after, 1", r.Name, len(r.Tasks))
	}
	writeFile(t, path, "version: 1\ntasks: [\n")
	future = future.Add(time.Minute)
	os.Chtimes(path, future, future)
	f.core.Step()
	if r, _ := f.core.Recipe(context.Background(), "r"); len(r.Errors) == 0 {
		t.Errorf("a broken edit: no errors shown")
	}
}

func TestAnUndeclaredVarIsRefusedByName(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"r.yaml": counting("r")})
	for _, sets := range [][]string{{"blok=true"}, {"block"}} {
		_, err := f.core.Start(context.Background(), "r", sets)
		e := api.AsError(err)
		if e.Code != api.CodeInvalidVar || e.Status != 400 || !strings.Contains(e.Message, strings.Split(sets[0], "=")[0]) {
			t.Errorf("start with %q: %v (code %s), want %s naming it", sets, err, e.Code, api.CodeInvalidVar)
		}
	}
	if runs := f.runs(); len(runs) != 0 {
		t.Errorf("a refused request started %d runs", len(runs))
	}
}

// chain is a recipe a → b → c whose tasks count their runs.
const chain = `version: 1
name: chain
vars:
  dir: .
tasks:
  a: {uses: shell, with: {run: 'echo x >> ${{ vars.dir }}/a.count'}}
  b: {uses: shell, needs: [a], with: {run: 'echo x >> ${{ vars.dir }}/b.count'}}
  c: {uses: shell, needs: [b], with: {run: 'echo x >> ${{ vars.dir }}/c.count'}}
`

func TestRetryRunsOneTaskAgainOrEverythingAfterIt(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"chain.yaml": chain})
	ctx := context.Background()
	run, err := f.core.Start(ctx, "chain", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.idle()
	if _, err := f.core.Retry(ctx, run.ID, "b", false); err != nil {
		t.Fatal(err)
	}
	f.idle()
	if a, b, c := f.count("a"), f.count("b"), f.count("c"); a != 1 || b != 2 || c != 1 {
		t.Errorf("after retrying b alone: a %d, b %d, c %d; want 1, 2, 1", a, b, c)
	}
	if _, err := f.core.Retry(ctx, run.ID, "b", true); err != nil {
		t.Fatal(err)
	}
	f.idle()
	if a, b, c := f.count("a"), f.count("b"), f.count("c"); a != 1 || b != 3 || c != 2 {
		t.Errorf("after retrying b with downstream: a %d, b %d, c %d; want 1, 3, 2", a, b, c)
	}
	got, err := f.core.Run(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != string(state.Succeeded) || got.Resumes != 2 || got.Trigger != "api" || len(got.Tasks) != 3 {
		t.Errorf("the run: %+v", got.RunSummary)
	}
	_, err = f.core.Retry(ctx, run.ID, "zz", false)
	if e := api.AsError(err); e.Code != api.CodeNotFound {
		t.Errorf("retry of an unknown task: %v", err)
	}
	_, err = f.core.Resume(ctx, run.ID)
	if e := api.AsError(err); e.Code != api.CodeConflict {
		t.Errorf("resume of a succeeded run: %v, want %s", err, api.CodeConflict)
	}
}

func TestCancelEndsTheRunResumably(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"r.yaml": counting("r")})
	ctx := context.Background()
	run, err := f.core.Start(ctx, "r", []string{"block=true"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.core.Start(ctx, "r", nil)
	if e := api.AsError(err); e.Code != api.CodeLocked {
		t.Errorf("a second start while it runs: %v, want %s", err, api.CodeLocked)
	}
	if err := f.core.Cancel(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	f.idle()
	got, _ := f.core.Run(ctx, run.ID)
	if got.Status != string(state.Cancelled) || !contains(got.Actions, "resume") {
		t.Fatalf("after cancel: %s, actions %v", got.Status, got.Actions)
	}
	f.release()
	if _, err := f.core.Resume(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	f.idle()
	if got, _ := f.core.Run(ctx, run.ID); got.Status != string(state.Succeeded) || f.count("first") != 1 {
		t.Errorf("after resume: %s, first ran %d times", got.Status, f.count("first"))
	}
}

func TestLogReturnsWholeLinesFromAnOffset(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"r.yaml": `version: 1
tasks:
  talk: {uses: shell, with: {run: 'echo one; echo two; printf three'}}
`})
	ctx := context.Background()
	run, err := f.core.Start(ctx, "r", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.idle()
	chunk, err := f.core.Log(ctx, run.ID, "talk", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(chunk.Text, "one\n") || !chunk.Done || chunk.End <= chunk.Offset {
		t.Fatalf("log: %+v", chunk)
	}
	rest, err := f.core.Log(ctx, run.ID, "talk", chunk.End)
	if err != nil || rest.Text != "" || rest.End != chunk.End {
		t.Errorf("log from its end: %+v, %v", rest, err)
	}
	for _, bad := range []string{"../x", "a/b", strings.Repeat("a", 200)} {
		_, err := f.core.Log(ctx, run.ID, bad, 0)
		if e := api.AsError(err); e.Code != api.CodeInvalidID {
			t.Errorf("task %q: %v", bad, err)
		}
	}
	if _, err := f.core.Log(ctx, "../../etc", "talk", 0); !errors.As(err, new(*api.Error)) {
		t.Errorf("a hostile run id: %v", err)
	}

	t.Run("from inside a line, the next whole line", func(t *testing.T) {
		mid, err := f.core.Log(ctx, run.ID, "talk", 2) // inside "one"
		if err != nil || !strings.HasPrefix(mid.Text, "two\n") || mid.Offset != 4 {
			t.Errorf("log from offset 2: %+v, %v", mid, err)
		}
	})
	t.Run("a task the run never had is not found", func(t *testing.T) {
		for _, task := range []string{"nosuch", "talk[99999]"} {
			if _, err := f.core.Log(ctx, run.ID, task, 0); api.AsError(err).Code != api.CodeNotFound {
				t.Errorf("task %s: %v, want not_found", task, err)
			}
		}
	})
	t.Run("a link planted in the logs folder is not served", func(t *testing.T) {
		secret := filepath.Join(t.TempDir(), "secret.txt")
		if err := os.WriteFile(secret, []byte("the content of another file\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(f.dir, ".runner", "runs", run.ID, "logs", "talk.log")
		if err := os.Remove(logPath); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(secret, logPath); err != nil {
			t.Fatal(err)
		}
		chunk, err := f.core.Log(ctx, run.ID, "talk", 0)
		if err == nil || strings.Contains(chunk.Text, "another file") {
			t.Errorf("a linked log: %+v, %v", chunk, err)
		}
	})
}

func TestWatchSeesARunStartAndEnd(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"r.yaml": counting("r")})
	ctx, cancel := context.WithCancel(context.Background())
	changes := f.core.Watch(ctx)
	run, err := f.core.Start(context.Background(), "r", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.idle()
	seen := map[string]bool{}
	for len(changes) > 0 {
		ch := <-changes
		if ch.Run == run.ID && ch.Task == "" {
			seen[ch.Status] = true
		}
	}
	if !seen["running"] || !seen["succeeded"] {
		t.Errorf("changes of the run: %v", seen)
	}
	cancel()
	for range changes { // closed once ctx ends
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestAComputedVarIsMarkedSoTheFormDoesNotSendItsText(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"r.yaml": `version: 1
vars:
  project: Pilot
  stamp: ${{ strftime(now(), "%Y-%m-%d") }}
tasks:
  a: {uses: shell, with: {run: "true"}}
`})
	rc, err := f.core.Recipe(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]api.Var{}
	for _, v := range rc.Vars {
		got[v.Name] = v
	}
	if got["project"].Computed || !got["stamp"].Computed || !strings.Contains(got["stamp"].Default, "strftime") {
		t.Fatalf("vars %+v", rc.Vars)
	}
}

// gatedLedger is a ledger in memory whose Record, once armed, says it was
// entered and waits to be released: it holds a tick in the middle.
type gatedLedger struct {
	mu       sync.Mutex
	last     map[string]time.Time
	armed    bool
	entered  chan struct{}
	released chan struct{}
}

func (l *gatedLedger) Last(key string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.last[key]
	return t, ok
}

func (l *gatedLedger) Record(key string, t time.Time) error {
	l.mu.Lock()
	armed := l.armed
	l.armed = false
	l.last[key] = t
	l.mu.Unlock()
	if armed {
		close(l.entered)
		<-l.released
	}
	return nil
}

// A list of runs asked for while a tick starts a scheduled run used to
// hold the index's read lock while it waited for the tick, which waited
// for the run to start, which waited to write the index: every tick,
// list, run and the shutdown then hung for ever.
func TestAListOfRunsWhileATickStartsARunDoesNotDeadlock(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"s.yaml": counting("scheduled")})
	led := &gatedLedger{last: map[string]time.Time{}, entered: make(chan struct{}), released: make(chan struct{})}
	f.cfg.OpenLedger = func(string) (Ledger, error) { return led, nil }
	f.restart()
	f.core.Step() // the entry is new: recorded, not gated
	f.clock.Set(t0.Add(30 * time.Minute))
	led.mu.Lock()
	led.armed = true
	led.mu.Unlock()

	stepped := make(chan struct{})
	go func() {
		defer close(stepped)
		f.core.Step()
	}()
	<-led.entered // the tick holds the timetable, about to start the 11:00 run
	listed := make(chan error, 1)
	go func() {
		_, err := f.core.Runs(context.Background(), api.RunQuery{})
		listed <- err
	}()
	// Let the list take whatever it takes before it waits for the tick.
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); runtime.Gosched() {
		if !f.core.index.mu.TryLock() {
			break // the list holds the index
		}
		f.core.index.mu.Unlock()
	}
	close(led.released)

	hung := time.After(10 * time.Second)
	select {
	case <-stepped:
	case <-hung:
		panic("the tick and the list of runs deadlocked") // the cleanup's shutdown would hang too
	}
	select {
	case err := <-listed:
		if err != nil {
			t.Fatal(err)
		}
	case <-hung:
		panic("the list of runs never returned")
	}
	f.idle()
}
