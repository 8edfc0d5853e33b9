package engine

import (
	"errors"
	"fmt"

	"github.com/novelfactory/runner/engine/state"
)

// Exit codes of runner, as the design specifies.
const (
	ExitOK          = 0   // every task succeeded or was skipped
	ExitFailed      = 1   // a task failed
	ExitUsage       = 2   // usage or validation error
	ExitLocked      = 3   // another run of the recipe holds the lock
	ExitInterrupted = 130 // SIGINT or SIGTERM
)

// ExitCoder is an error that says with which code runner exits because of
// it. The CLI maps an error to its code in one place; an error without a
// code of its own (runner could not keep state, say) exits ExitFailed.
type ExitCoder interface {
	error
	ExitCode() int
}

// UsageError is an error of the recipe or the command line: nothing ran.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// ExitCode is ExitUsage.
func (e *UsageError) ExitCode() int { return ExitUsage }

// LockError is a recipe whose lock could not be taken: most often another
// run of it holds the lock, or a killed run's processes still run.
type LockError struct{ Err error }

func (e *LockError) Error() string { return e.Err.Error() }
func (e *LockError) Unwrap() error { return e.Err }

// ExitCode is ExitLocked when the lock is held, and ExitFailed when it
// could not be taken for another reason (an unwritable lock folder).
func (e *LockError) ExitCode() int {
	var le *state.LockedError
	var oe *state.OrphansError
	if errors.As(e.Err, &le) || errors.As(e.Err, &oe) {
		return ExitLocked
	}
	return ExitFailed
}

// InterruptedError is an interrupt that came before the run started.
type InterruptedError struct{}

func (e *InterruptedError) Error() string { return "interrupted before the run started" }

// ExitCode is ExitInterrupted.
func (e *InterruptedError) ExitCode() int { return ExitInterrupted }

// RunError is a run that did not succeed: a task failed, or the run was
// cancelled. The run's summary has said what happened.
type RunError struct {
	Run         *state.Run
	Interrupted bool // cancelled by SIGINT or SIGTERM
}

func (e *RunError) Error() string {
	if e.Interrupted {
		return fmt.Sprintf("run %s was interrupted", e.Run.ID)
	}
	return fmt.Sprintf("run %s %s", e.Run.ID, e.Run.Status)
}

// ExitCode is ExitInterrupted for an interrupted run, else ExitFailed.
func (e *RunError) ExitCode() int {
	if e.Interrupted {
		return ExitInterrupted
	}
	return ExitFailed
}

// PlanError is a plan in which tasks would fail. The plan has said which.
type PlanError struct{ Failing int }

func (e *PlanError) Error() string { return fmt.Sprintf("%d tasks would fail", e.Failing) }

// ExitCode is ExitFailed.
func (e *PlanError) ExitCode() int { return ExitFailed }
