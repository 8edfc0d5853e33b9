package shellrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
	"sync"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"

	"github.com/novelfactory/runner/engine/tasktype"
)

// Options say where a script runs and where its output goes.
type Options struct {
	Dir     string   // the working directory, absolute
	Environ []string // KEY=VALUE; of a name given twice, the last wins
	// Stdout and Stderr get the script's output; they must be safe for
	// concurrent use (background jobs write at the same time). Nothing is
	// written to them once Run has returned.
	Stdout, Stderr io.Writer
	// Processes hears of every process the script starts; may be nil.
	Processes tasktype.Processes
}

// LimitError is a script stopped because it took more of runner than a
// script may: functions nested without end, a goroutine bomb, a command
// substitution without end.
type LimitError struct{ What string }

func (e *LimitError) Error() string { return "the script was stopped: " + e.What }

// errEnded stops what a script left running in the background when it ends.
var errEnded = errors.New("the script has ended")

// Run runs the script to its end and returns its exit status. err is
// non-nil when it did not end on its own: ctx's error once ctx is done, a
// *LimitError, or what kept it from starting. When Run returns, nothing
// the script started runs any more (but a process that left its session
// on purpose, a daemon).
func (s *Script) Run(ctx context.Context, o Options) (int, error) {
	if s.file == nil {
		return -1, errors.New("the script needs /bin/sh: " + s.System)
	}
	jobs, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	r := newRun(o, stop)
	sh, err := interp.New(
		interp.Env(expand.ListEnviron(o.Environ...)),
		interp.Dir(o.Dir),
		interp.StdIO(nil, r.stdout, r.stderr),
		interp.CallHandler(r.call),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc { return r.exec }),
		interp.OpenHandler(r.open),
	)
	if err != nil {
		return -1, fmt.Errorf("start the shell in %s: %w", o.Dir, err)
	}
	var runErr error
	// Every goroutine the script starts (background jobs, pipelines)
	// carries the label, so that they can be counted (see call).
	pprof.Do(jobs, pprof.Labels(goroutineLabel, r.key), func(jobs context.Context) {
		runErr = sh.Run(jobs, s.file)
	})
	cause := context.Cause(jobs) // nil when the script ended on its own
	stop(errEnded)               // what runs in the background ends with the script
	r.finish()
	var limit *LimitError
	switch {
	case errors.As(cause, &limit):
		return -1, limit
	case cause != nil && ctx.Err() != nil:
		return -1, ctx.Err()
	}
	var status interp.ExitStatus
	switch {
	case runErr == nil:
		return 0, nil
	case errors.As(runErr, &status):
		return int(status), nil
	}
	return -1, runErr
}

// gate passes writes on until it is closed, then drops them: a background
// job of a script that has ended must not write into a finished task's log.
type gate struct {
	mu     sync.RWMutex
	w      io.Writer
	closed bool
}

func (g *gate) Write(p []byte) (int, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return 0, errEnded
	}
	return g.w.Write(p)
}

func (g *gate) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
}
