package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
)

func TestReadyTasksStartInFileOrder(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  a: {uses: ok, needs: [b]}
  b: {uses: ok}
  c: {uses: ok}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{Jobs: 1})
	if want := []string{"b", "a", "c"}; !reflect.DeepEqual(h.order, want) {
		t.Fatalf("order = %v, want %v: b first (no needs, first in file), then a (now ready, earlier in file than c)", h.order, want)
	}
	res.wantRun(t, state.Succeeded, "")
}

func TestIndependentTasksRunAtTheSameTime(t *testing.T) {
	h := newHarness()
	// Each "meet" task waits until another one has arrived: run one at a
	// time, they would never finish.
	r := h.load(t, `version: 1
tasks:
  a: {uses: meet}
  b: {uses: meet}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{Jobs: 2})
	for _, id := range []string{"a", "b"} {
		if st := res.task(t, id); st.Status != state.Succeeded {
			t.Errorf("%s: %s %s", id, st.Status, st.Error)
		}
	}
}

func TestJobsLimitsParallelism(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  a: {uses: meet}
  b: {uses: meet}
  c: {uses: meet}
  d: {uses: meet}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{Jobs: 2})
	res.wantRun(t, state.Succeeded, "")
	if h.maxRun != 2 {
		t.Fatalf("at most %d tasks ran at once, want exactly 2 (--jobs 2)", h.maxRun)
	}
}

func TestFailureSkipsWhatDependsOnIt(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  a: {uses: fail}
  b: {uses: ok, needs: [a]}
  c: {uses: ok, needs: [b]}
  d: {uses: ok}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	want := map[string][2]string{
		"a": {"failed", ""},
		"b": {"skipped", "needs a, which failed"},
		"c": {"skipped", "needs b, which was skipped"},
		"d": {"succeeded", ""},
	}
	for id, w := range want {
		st := res.task(t, id)
		if string(st.Status) != w[0] || st.Reason != w[1] {
			t.Errorf("%s: %s (%s), want %s (%s)", id, st.Status, st.Reason, w[0], w[1])
		}
	}
	if res.task(t, "a").Error != "it broke" {
		t.Errorf("error = %q", res.task(t, "a").Error)
	}
	res.wantRun(t, state.Failed, "")
}

func TestContinueOnErrorLetsDependentsRun(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  a: {uses: fail, continue_on_error: true}
  b:
    uses: ok
    needs: [a]
    with: {value: "a was ${{ tasks.a.status }}"}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	if st := res.task(t, "b"); st.Status != state.Succeeded || st.Outputs.(map[string]any)["value"] != "a was failed" {
		t.Fatalf("b: %s %v", st.Status, st.Outputs)
	}
	res.wantRun(t, state.Succeeded, ": a failure with continue_on_error must not fail the run")
}

func TestFalseConditionSkipsTheTaskAndItsDependents(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
vars: {go: false}
tasks:
  a: {uses: ok, if: vars.go}
  b: {uses: ok, needs: [a]}
  c: {uses: ok, if: "!vars.go"}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	if st := res.task(t, "a"); st.Status != state.Skipped || st.Reason != "if: vars.go is false" {
		t.Errorf("a: %s %q", st.Status, st.Reason)
	}
	if st := res.task(t, "b"); st.Status != state.Skipped {
		t.Errorf("b: %s", st.Status)
	}
	if st := res.task(t, "c"); st.Status != state.Succeeded {
		t.Errorf("c: %s", st.Status)
	}
	if len(h.order) != 1 || h.order[0] != "c" {
		t.Errorf("ran %v, want only c", h.order)
	}
}

func TestRetriesAreCountedAndBackoffIsRespected(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  flaky:
    uses: flaky
    retry: {attempts: 4, delay: 20ms, backoff: 2}
    with: {fail: 2, value: done}
  hopeless:
    uses: flaky
    retry: {attempts: 3, delay: 1ms}
    with: {fail: 10}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	st := res.task(t, "flaky")
	if st.Status != state.Succeeded || st.Attempts != 3 {
		t.Fatalf("flaky: %s after %d tries, want succeeded after 3", st.Status, st.Attempts)
	}
	tries := h.tries["flaky"]
	for i, min := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond} {
		if gap := tries[i+1].Sub(tries[i]); gap < min {
			t.Errorf("wait before try %d was %s, want at least %s", i+2, gap, min)
		}
	}
	if st := res.task(t, "hopeless"); st.Status != state.Failed || st.Attempts != 3 || len(h.tries["hopeless"]) != 3 {
		t.Errorf("hopeless: %s after %d tries, want failed after exactly 3", st.Status, st.Attempts)
	}
	retries := 0
	for _, e := range res.events {
		if e.Type == scheduler.TaskRetrying && e.Task == "flaky" {
			retries++
		}
	}
	if retries != 2 {
		t.Errorf("%d retry events for flaky, want 2", retries)
	}
}

func TestRetryOnlyForListedErrorClasses(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  permanent:
    uses: flaky
    retry: {attempts: 5, delay: 1ms, on: [transient]}
    with: {fail: 1, class: exit}
  transient:
    uses: flaky
    retry: {attempts: 5, delay: 1ms, on: [transient]}
    with: {fail: 1, class: transient}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	if st := res.task(t, "permanent"); st.Status != state.Failed || st.Attempts != 1 {
		t.Errorf("permanent: %s after %d tries, want failed after 1", st.Status, st.Attempts)
	}
	if st := res.task(t, "transient"); st.Status != state.Succeeded || st.Attempts != 2 {
		t.Errorf("transient: %s after %d tries, want succeeded after 2", st.Status, st.Attempts)
	}
}

func TestBackoffGrowsWithJitterUpToTheCap(t *testing.T) {
	r := recipe.Retry{Attempts: 10, Delay: time.Second, Backoff: 2, MaxDelay: 5 * time.Second}
	for attempt, base := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second} {
		for range 50 {
			d := scheduler.Backoff(r, attempt)
			if d < base || d > base*5/4 || d > r.MaxDelay {
				t.Fatalf("attempt %d: wait %s outside [%s, %s] or over the cap", attempt, d, base, base*5/4)
			}
		}
	}
	if d := scheduler.Backoff(r, 8); d != r.MaxDelay {
		t.Errorf("attempt 8: wait %s, want the cap %s", d, r.MaxDelay)
	}
}

// TestBackoffNeverOverflows: delay 1m, backoff 10 and no max_delay gave a
// negative wait from about the 18th try on (runner then retried at once,
// hammering the failing service), and delay 0 with a huge factor gave NaN.
func TestBackoffNeverOverflows(t *testing.T) {
	for _, r := range []recipe.Retry{
		{Delay: time.Minute, Backoff: 10},
		{Delay: 0, Backoff: 1e300},
		{Delay: 90 * time.Minute, Backoff: 2},
		{Delay: time.Second, Backoff: 1e10, MaxDelay: time.Duration(math.MaxInt64)},
	} {
		limit := r.MaxDelay
		if limit == 0 {
			limit = max(scheduler.DefaultMaxDelay, r.Delay)
		}
		for attempt := 1; attempt <= 2000; attempt++ {
			if d := scheduler.Backoff(r, attempt); d < 0 || d > limit {
				t.Fatalf("%+v, try %d: wait %s, want 0 … %s", r, attempt, d, limit)
			}
		}
	}
}

// TestNoDelayStaysNoDelay: delay 0 with a huge backoff factor made 0 × ∞
// = NaN, which was taken as "over the cap": an hour's wait where the
// recipe asked for none (hostile review of issue 11, finding 15).
func TestNoDelayStaysNoDelay(t *testing.T) {
	for _, factor := range []float64{2, 1e300, math.Inf(1)} {
		for _, attempt := range []int{1, 2, 400, 5000} {
			if d := scheduler.Backoff(recipe.Retry{Delay: 0, Backoff: factor}, attempt); d != 0 {
				t.Fatalf("delay 0, backoff %g, try %d: wait %s", factor, attempt, d)
			}
		}
	}
}

func TestTimeoutFailsTheAttempt(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  slow:
    uses: block
    timeout: 30ms
    retry: {attempts: 2, delay: 1ms, on: [timeout]}
  after: {uses: ok, needs: [slow]}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	st := res.task(t, "slow")
	if st.Status != state.Failed || st.Attempts != 2 || !strings.Contains(st.Error, "timed out after 30ms") {
		t.Fatalf("slow: %s after %d tries: %q", st.Status, st.Attempts, st.Error)
	}
	if res.task(t, "after").Status != state.Skipped {
		t.Errorf("after: %s", res.task(t, "after").Status)
	}
}

func TestCancellationStopsRunningAndPendingTasks(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  long: {uses: block}
  next: {uses: ok, needs: [long]}
`)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-h.started // cancel once the task is really running
		cancel()
	}()
	res := h.execute(ctx, t, r, scheduler.Options{})
	if st := res.task(t, "long"); st.Status != state.Cancelled {
		t.Errorf("long: %s", st.Status)
	}
	if st := res.task(t, "next"); st.Status != state.Cancelled {
		t.Errorf("next: %s", st.Status)
	}
	res.wantRun(t, state.Cancelled, "")
}

func TestCancellationInterruptsTheWaitBetweenTries(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  flaky:
    uses: flaky
    retry: {attempts: 3, delay: 1h}
    with: {fail: 5}
`)
	ctx, cancel := context.WithCancel(context.Background())
	var res *execResult
	done := make(chan struct{})
	go func() {
		defer close(done)
		res = h.execute(ctx, t, r, scheduler.Options{})
	}()
	<-h.retrying // the first try failed; the hour-long wait begins
	cancel()
	<-done // without honouring cancellation this waits an hour (and the guard fails it)
	if st := res.task(t, "flaky"); st.Status != state.Cancelled || st.Attempts != 1 {
		t.Fatalf("flaky: %s after %d tries", st.Status, st.Attempts)
	}
}

func TestForEachFansOutAndCollectsOutputsAsAList(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
vars:
  episodes: [제1화, 제2화, 제10화]
tasks:
  each:
    uses: ok
    for_each: ${{ vars.episodes }}
    with: {value: "${{ index }}:${{ item }}"}
  all:
    uses: ok
    needs: [each]
    with: {value: '${{ join(map(tasks.each.outputs, #.value), ",") }}'}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	for i, item := range []string{"제1화", "제2화", "제10화"} {
		id := "each[" + string(rune('0'+i)) + "]"
		st := res.task(t, id)
		if st.Status != state.Succeeded || st.Item != item {
			t.Errorf("%s: %s item %v", id, st.Status, st.Item)
		}
	}
	if got := res.task(t, "all").Outputs.(map[string]any)["value"]; got != "0:제1화,1:제2화,2:제10화" {
		t.Fatalf("all saw %q", got)
	}
	if st := res.task(t, "each"); st.Status != state.Succeeded || len(st.Outputs.([]any)) != 3 {
		t.Errorf("each: %s %v", st.Status, st.Outputs)
	}
}

// TestForEachTakesARange: for_each: ${{ 1..3 }} was refused as "not a
// list"; a range of a million was accepted and made a million instances.
func TestForEachTakesARange(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  each:
    uses: ok
    for_each: ${{ 1..3 }}
    with: {value: "${{ item }}"}
  huge:
    uses: ok
    for_each: ${{ 1..999999 }}
    with: {value: "${{ item }}"}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	if st := res.task(t, "each"); st.Status != state.Succeeded || len(st.Outputs.([]any)) != 3 {
		t.Errorf("each: %s %v %s", st.Status, st.Outputs, st.Error)
	}
	if st := res.task(t, "each[2]"); st.Item != 3 {
		t.Errorf("each[2]: item %v", st.Item)
	}
	if st := res.task(t, "huge"); st.Status != state.Failed || !strings.Contains(st.Error, "for_each gave 999999 items: a task may have at most 10000 instances") {
		t.Errorf("huge: %s %q", st.Status, st.Error)
	}
}

func TestForEachInstanceFailureFailsTheTask(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  each:
    uses: flaky
    for_each: [0, 5, 0]
    with: {fail: "${{ item }}"}
  after: {uses: ok, needs: [each]}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	if st := res.task(t, "each"); st.Status != state.Failed || st.Error != "1 of 3 instances failed" {
		t.Errorf("each: %s %q", st.Status, st.Error)
	}
	if res.task(t, "each[0]").Status != state.Succeeded || res.task(t, "each[1]").Status != state.Failed {
		t.Errorf("instances: %s %s", res.task(t, "each[0]").Status, res.task(t, "each[1]").Status)
	}
	if res.task(t, "after").Status != state.Skipped {
		t.Errorf("after: %s", res.task(t, "after").Status)
	}
}

func TestResumeReusesSucceededTasks(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  a: {uses: ok, with: {value: fresh}}
  b:
    uses: ok
    needs: [a]
    with: {value: "${{ tasks.a.outputs.value }}"}
`)
	previous := &state.Run{ID: "earlier", Tasks: []*state.Task{
		{ID: "a", Status: state.Succeeded, Attempts: 1, Outputs: map[string]any{"value": "from the first run"}},
		{ID: "b", Status: state.Running},
	}}
	res := h.execute(context.Background(), t, r, scheduler.Options{Previous: previous})
	if !reflect.DeepEqual(h.order, []string{"b"}) {
		t.Fatalf("ran %v, want only b", h.order)
	}
	if got := res.task(t, "b").Outputs.(map[string]any)["value"]; got != "from the first run" {
		t.Fatalf("b saw %q", got)
	}
	if st := res.task(t, "a"); st.Status != state.Succeeded || st.Reason != "reused from run earlier" {
		t.Errorf("a: %s %q", st.Status, st.Reason)
	}
}

func TestOnlyRunsTheSelectedTasksAndWhatTheyNeed(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  a: {uses: ok}
  b: {uses: ok, needs: [a]}
  c: {uses: ok}
  d: {uses: ok, needs: [b]}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{Only: []string{"b"}, Jobs: 1})
	if !reflect.DeepEqual(h.order, []string{"a", "b"}) {
		t.Fatalf("ran %v, want a then b", h.order)
	}
	if st := res.task(t, "c"); st.Status != state.Skipped || st.Reason != "not selected by --only" {
		t.Errorf("c: %s %q", st.Status, st.Reason)
	}
}

func TestAPanickingTaskFailsInsteadOfCrashing(t *testing.T) {
	h := newHarness()
	r := h.load(t, "version: 1\ntasks:\n  p: {uses: panic}\n")
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	if st := res.task(t, "p"); st.Status != state.Failed || !strings.Contains(st.Error, "panicked: boom") {
		t.Fatalf("p: %s %q", st.Status, st.Error)
	}
}

func TestStateAndLogsAreKeptWithSecretsMasked(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  talk: {uses: ok, with: {print: "the token is s3cr3t-t0ken", value: "s3cr3t-t0ken"}}
  quiet: {uses: ok}
`)
	m := secret.New()
	m.AddEnviron([]string{"API_TOKEN=s3cr3t-t0ken"})
	store := &state.Store{Dir: t.TempDir(), Masker: m}
	run := state.Run{ID: state.NewRunID(time.Now()), Started: time.Now()}
	res := h.execute(context.Background(), t, r, scheduler.Options{Store: store, Run: run, Masker: m})
	data, err := os.ReadFile(filepath.Join(store.RunDir(run.ID), "state.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "s3cr3t") {
		t.Fatalf("state.json holds the secret:\n%s", data)
	}
	var saved state.Run
	if err := json.Unmarshal(data, &saved); err != nil {
		t.Fatal(err)
	}
	if saved.Status != state.Succeeded || saved.Task("talk").Status != state.Succeeded {
		t.Fatalf("saved state: %+v", saved)
	}
	log, err := os.ReadFile(filepath.Join(store.RunDir(run.ID), res.task(t, "talk").Log))
	if err != nil {
		t.Fatal(err)
	}
	if string(log) != "the token is ***\n" {
		t.Fatalf("log = %q", log)
	}
	if res.task(t, "quiet").Log != "" {
		t.Errorf("a task that printed nothing got a log file")
	}
	for _, e := range res.events {
		if strings.Contains(e.Line, "s3cr3t") {
			t.Fatalf("event carries the secret: %+v", e)
		}
	}
}

func TestATaskReadyTwiceAtStartRunsOnce(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  a: {uses: ok, with: {value: x}}
  b: {uses: ok, needs: [a]}
`)
	// a is reused while the run starts, which makes b ready before the
	// scheduler has looked at it.
	previous := &state.Run{ID: "earlier", Tasks: []*state.Task{{ID: "a", Status: state.Succeeded, Outputs: map[string]any{"value": "x"}}}}
	h.execute(context.Background(), t, r, scheduler.Options{Previous: previous})
	if len(h.tries["b"]) != 1 {
		t.Fatalf("b ran %d times, want once", len(h.tries["b"]))
	}
}

func TestAlwaysRunsAfterAFailureOrASkip(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
vars: {go: false}
tasks:
  stop-db: {uses: ok}
  dump: {uses: fail, needs: [stop-db]}
  optional: {uses: ok, if: vars.go}
  start-db:
    uses: ok
    needs: [dump, optional]
    if: always()
    with: {value: "dump ${{ tasks.dump.status }}"}
  upload: {uses: ok, needs: [dump]}
`)
	res := h.execute(context.Background(), t, r, scheduler.Options{})
	if st := res.task(t, "start-db"); st.Status != state.Succeeded || st.Outputs.(map[string]any)["value"] != "dump failed" {
		t.Fatalf("start-db: %s %v", st.Status, st.Outputs)
	}
	if res.task(t, "upload").Status != state.Skipped || res.run.Status != state.Failed {
		t.Fatalf("upload %s, run %s", res.task(t, "upload").Status, res.run.Status)
	}
}

// TestFailureAndSuccessLookAlongTheWholeChain: failure() holds when any
// task before, directly or through others, failed (the dump, although the
// notification needs only the upload, which was skipped), and runs its
// task in spite of the failure, as always() does; success() holds only
// when every task before succeeded, so a success() after an always() task
// still sees the failure further up. A failure under continue_on_error is
// not one.
func TestFailureAndSuccessLookAlongTheWholeChain(t *testing.T) {
	for _, tc := range []struct {
		name   string
		dump   string
		coe    bool
		want   map[string]state.Status
		reason string
	}{
		{"when the dump fails", "fail", false, map[string]state.Status{
			"upload": state.Skipped, "cleanup": state.Succeeded, "on-failure": state.Succeeded,
			"on-success": state.Skipped, "after-cleanup": state.Skipped, "not-failed": state.Skipped,
		}, "if: success() is false"},
		{"when every task succeeds", "ok", false, map[string]state.Status{
			"upload": state.Succeeded, "cleanup": state.Succeeded, "on-failure": state.Skipped,
			"on-success": state.Succeeded, "after-cleanup": state.Succeeded, "not-failed": state.Succeeded,
		}, ""},
		{"when the dump fails under continue_on_error", "fail", true, map[string]state.Status{
			"upload": state.Succeeded, "cleanup": state.Succeeded, "on-failure": state.Skipped,
			"on-success": state.Succeeded, "after-cleanup": state.Succeeded, "not-failed": state.Succeeded,
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness()
			r := h.load(t, fmt.Sprintf(`version: 1
tasks:
  dump: {uses: %s, continue_on_error: %t}
  upload: {uses: ok, needs: [dump]}
  cleanup: {uses: ok, needs: [dump], if: always()}
  on-failure: {uses: ok, needs: [upload], if: failure()}
  on-success: {uses: ok, needs: [upload], if: success()}
  after-cleanup: {uses: ok, needs: [cleanup], if: success()}
  not-failed: {uses: ok, needs: [cleanup], if: '!failure()'}
`, tc.dump, tc.coe))
			res := h.execute(context.Background(), t, r, scheduler.Options{})
			for id, want := range tc.want {
				if got := res.task(t, id).Status; got != want {
					t.Errorf("%s: %s, want %s (%s)", id, got, want, res.task(t, id).Reason)
				}
			}
			if got := res.task(t, "after-cleanup").Reason; tc.reason != "" && got != tc.reason {
				t.Errorf("after-cleanup: reason %q, want %q", got, tc.reason)
			}
			plan := h.plan(t, r, scheduler.Options{})
			for _, p := range plan {
				if p.ID == "on-failure" && tc.dump == "ok" && (p.Would != scheduler.WouldSkip || p.If != "failure() → false") {
					t.Errorf("plan of on-failure: %s (%s)", p.Would, p.If)
				}
			}
		})
	}
}

func TestPlanEvaluatesConditionsAsFarAsTheyAreKnown(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
vars: {go: false, n: 3}
tasks:
  first: {uses: ok}
  off: {uses: ok, if: vars.go}
  unknown: {uses: ok, needs: [first], if: 'tasks.first.outputs.value == "x"'}
  broken: {uses: ok, if: vars.n}
  each:
    uses: ok
    for_each: [1, 2]
    if: item > 1
`)
	plan := h.plan(t, r, scheduler.Options{})
	got := map[string]string{}
	for _, p := range plan {
		got[p.ID] = p.Would + " | " + p.If + " | " + p.Reason
	}
	want := map[string]string{
		"first":   "run |  | ",
		"off":     "skip | vars.go → false | if: vars.go is false",
		"unknown": `run | tasks.first.outputs.value == "x" → known after run | `,
		"broken":  `fail |  | if: condition "vars.n" gave 3, not true or false`,
		"each[0]": "skip | item > 1 → false | if: item > 1 is false",
		"each[1]": "run | item > 1 → true | ",
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q, want %q", id, got[id], w)
		}
	}
	if len(h.order) != 0 {
		t.Errorf("a plan ran tasks: %v", h.order)
	}
}

// TestResumeMatchesForEachInstancesByValue: instances were matched by
// index, so a list reordered since the failed run re-ran finished items.
func TestResumeMatchesForEachInstancesByValue(t *testing.T) {
	h := newHarness()
	r := h.load(t, `version: 1
tasks:
  each:
    uses: ok
    for_each: [Cedar, Ember, Pilot, Ember]
    with: {value: "zipped ${{ item }}"}
`)
	previous := &state.Run{ID: "earlier", Tasks: []*state.Task{
		{ID: "each", Status: state.Failed},
		{ID: "each[0]", Status: state.Succeeded, Item: "Pilot", Outputs: map[string]any{"value": "zipped Pilot earlier"}},
		{ID: "each[1]", Status: state.Succeeded, Item: "Ember", Outputs: map[string]any{"value": "zipped Ember earlier"}},
		{ID: "each[2]", Status: state.Failed, Item: "Cedar"},
	}}
	res := h.execute(context.Background(), t, r, scheduler.Options{Previous: previous, Jobs: 1})
	// Cedar failed before; the second Ember is new; Pilot and the first
	// Ember succeeded and are reused wherever they now stand.
	if !reflect.DeepEqual(h.order, []string{"each[0]", "each[3]"}) {
		t.Fatalf("ran %v, want each[0] (Cedar) and each[3] (the second Ember)", h.order)
	}
	outs := res.task(t, "each").Outputs.([]any)
	want := []string{"zipped Cedar", "zipped Ember earlier", "zipped Pilot earlier", "zipped Ember"}
	for i, w := range want {
		if got := outs[i].(map[string]any)["value"]; got != w {
			t.Errorf("instance %d: %v, want %q", i, got, w)
		}
	}
}

// TestFailureAndSuccessInParamsSeeTheChain: a notification under
// always() that words its status with ${{ failure() ? … }} was told
// "ok" after a failure: outside `if`, success() and failure() were the
// scope's constants, true and false. They see the task's needs, as in
// its condition, in params and in for_each, in apply and in plan.
func TestFailureAndSuccessInParamsSeeTheChain(t *testing.T) {
	for _, dump := range []string{"fail", "ok"} {
		h := newHarness()
		r := h.load(t, fmt.Sprintf(`version: 1
tasks:
  dump: {uses: %s}
  upload: {uses: ok, needs: [dump]}
  tell:
    uses: ok
    needs: [upload]
    if: always()
    with: {value: '${{ failure() ? "failed" : "ok" }} ${{ success() }}'}
  each:
    uses: ok
    needs: [upload]
    if: always()
    for_each: '${{ failure() ? ["f"] : ["s"] }}'
    with: {value: '${{ item }}'}
`, dump))
		want := map[string]string{"fail": "failed false", "ok": "ok true"}[dump]
		wantItem := map[string]string{"fail": "f", "ok": "s"}[dump]
		res := h.execute(context.Background(), t, r, scheduler.Options{})
		if got := res.task(t, "tell").Outputs; got == nil || got.(map[string]any)["value"] != want {
			t.Errorf("dump %s: tell's value %v, want %q", dump, got, want)
		}
		if got := res.task(t, "each[0]").Item; got != wantItem {
			t.Errorf("dump %s: each's item %v, want %q", dump, got, wantItem)
		}
		if dump == "ok" {
			for _, p := range h.plan(t, r, scheduler.Options{}) {
				if p.ID == "tell" && fmt.Sprint(p.Params) != "map[value:ok true]" {
					t.Errorf("plan of tell: %v", p.Params)
				}
			}
		}
	}
}

// TestAPlanCannotLookAtAFileAnEarlierTaskWouldMake: a task whose plan
// finds its input missing would run ("cannot look now") when a task it
// needs would run first and may make the file, and would fail when no
// task before it would run.
func TestAPlanCannotLookAtAFileAnEarlierTaskWouldMake(t *testing.T) {
	h := newHarness()
	tasktype.Add(h.reg, tasktype.Def[testParams]{
		Name: "reads", Summary: "reads a file",
		Plan: func(_ context.Context, _ *tasktype.Env, p *testParams) (tasktype.Plan, error) {
			if _, err := os.Stat(p.Value); err != nil {
				return tasktype.Plan{}, fmt.Errorf("read the input: %w", err)
			}
			return tasktype.Plan{Summary: "would read " + p.Value}, nil
		},
		Run: func(context.Context, *tasktype.Env, *testParams) (tasktype.Outputs, error) { return nil, nil },
	})
	r := h.load(t, `
version: 1
vars: {make: true}
tasks:
  make: {uses: ok, if: vars.make}
  after-make: {uses: reads, needs: [make], with: {value: /nonexistent/made.txt}}
  alone: {uses: reads, with: {value: /nonexistent/alone.txt}}
`)
	got := map[string]scheduler.PlannedTask{}
	for _, p := range h.plan(t, r, scheduler.Options{}) {
		got[p.ID] = p
	}
	if p := got["after-make"]; p.Would != scheduler.WouldRun || !strings.Contains(p.Summary, "cannot look now") || !strings.Contains(p.Summary, "made.txt") {
		t.Errorf("after a task that would run: %s %q %q, want run and cannot look now", p.Would, p.Summary, p.Reason)
	}
	if p := got["alone"]; p.Would != scheduler.WouldFail || !strings.Contains(p.Reason, "alone.txt") {
		t.Errorf("alone: %s %q, want fail: nothing before it would make the file", p.Would, p.Reason)
	}
}
