package scheduler

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
)

// ProcessRecorder keeps track of the process groups tasks run (see
// state.Lock).
type ProcessRecorder interface {
	Started(task string, pgid int, command string) (ended func())
	Running(pid int) bool
}

// taskProcesses is a task's view of the ProcessRecorder.
type taskProcesses struct {
	r    ProcessRecorder
	task string
}

func (p taskProcesses) Started(pgid int, command string) func() {
	return p.r.Started(p.task, pgid, command)
}

func (p taskProcesses) Running(pid int) bool { return p.r.Running(pid) }

// runUnit runs one instance with its retries: the action of a walk that
// is not a dry run.
func (x *execution) runUnit(ctx context.Context, u *unit, p prepared) result {
	t := u.g.task
	logs := x.newTaskLog(u)
	env := &tasktype.Env{
		RunID:    x.run.ID,
		Recipe:   x.r.Name,
		TaskID:   u.id,
		Dir:      t.Dir,
		Started:  x.started(),
		Environ:  append(append([]string{}, x.opt.Environ...), "RUNNER_TASK_ID="+u.id),
		Log:      logs,
		Logger:   logs.logger,
		Progress: &progress{x: x, task: u.id},
		Secrets:  x.opt.Masker,
	}
	if x.opt.Processes != nil {
		env.Processes = taskProcesses{x.opt.Processes, u.id}
	}
	var (
		out tasktype.Outputs
		err error
	)
	for attempt := 1; ; attempt++ {
		x.mu.Lock()
		u.st.Attempts = attempt
		x.mu.Unlock()
		err = x.attempt(ctx, t, func(ctx context.Context) (err error) {
			out, err = p.typ.Run(ctx, env, p.params)
			return err
		})
		if err == nil || ctx.Err() != nil {
			break
		}
		if attempt >= t.Retry.Attempts || !retryable(t.Retry.On, err) {
			break
		}
		wait := Backoff(t.Retry, attempt)
		x.emit(Event{Type: TaskRetrying, Task: u.id, Attempt: attempt, Attempts: t.Retry.Attempts, Wait: wait, Error: x.mask(err.Error())})
		logs.sink.note(fmt.Sprintf("runner: attempt %d of %d failed: %v; retrying in %s", attempt, t.Retry.Attempts, err, wait.Round(time.Millisecond)))
		x.changed()
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
		case <-timer.C:
		}
		if ctx.Err() != nil {
			break
		}
	}
	logs.Close()
	res := result{u: u, outputs: out, err: err, status: state.Succeeded}
	switch {
	case ctx.Err() != nil && err != nil:
		res.status = state.Cancelled
	case err != nil:
		res.status = state.Failed
	}
	return res
}

// attempt calls the task's type once — its Run, or in a dry run its Plan —
// under the task's timeout, turning a panic into an error.
func (x *execution) attempt(ctx context.Context, t *recipe.Task, call func(context.Context) error) (err error) {
	actx := ctx
	if t.Timeout > 0 {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, t.Timeout)
		defer cancel()
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("task type %s panicked: %v", t.Uses, r)
		}
	}()
	err = call(actx)
	// A command's own exit status stands, even when the time ran out while
	// runner read what the command left behind.
	if err != nil && ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) && tasktype.Classify(err) != tasktype.ClassExit {
		err = &tasktype.ClassifiedError{Class: tasktype.ClassTimeout, Err: fmt.Errorf("timed out after %s: %w", t.Timeout, err)}
	}
	return err
}

func retryable(on []string, err error) bool {
	if len(on) == 0 {
		return true
	}
	class := tasktype.Classify(err)
	for _, c := range on {
		if c == class {
			return true
		}
	}
	return false
}

// DefaultMaxDelay caps the wait between tries when a retry sets no
// max_delay (or a delay longer than this: then the delay is the cap).
const DefaultMaxDelay = time.Hour

// Backoff is the wait after failed try number attempt (1-based): delay ×
// backoff^(attempt-1), plus up to 25% random jitter so that many runs
// retrying the same service spread out, capped at max_delay (by default
// DefaultMaxDelay, or the delay if that is longer). The cap holds after the
// jitter, and however many tries: a wait never overflows into a negative
// one, which would retry at once.
func Backoff(r recipe.Retry, attempt int) time.Duration {
	if r.Delay <= 0 {
		return 0 // no delay grows to none, whatever the factor (0 × ∞ is NaN)
	}
	limit := r.MaxDelay
	if limit <= 0 {
		limit = max(DefaultMaxDelay, r.Delay)
	}
	d := float64(r.Delay) * math.Pow(r.Backoff, float64(attempt-1))
	if math.IsNaN(d) || d >= float64(limit) {
		return limit
	}
	d += d * 0.25 * rand.Float64()
	if d >= float64(limit) {
		return limit
	}
	return time.Duration(d)
}

// started is when the run started, in the recipe's clock.
func (x *execution) started() time.Time {
	if x.r.Location != nil {
		return x.run.Started.In(x.r.Location)
	}
	return x.run.Started
}
