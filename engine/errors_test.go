package engine_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/state"
)

func TestErrorsCarryTheirExitCodes(t *testing.T) {
	run := &state.Run{ID: "r1", Status: state.Failed}
	cases := []struct {
		name string
		err  error
		code int
	}{
		{"a usage error", &engine.UsageError{Err: errors.New("bad flag")}, engine.ExitUsage},
		{"a held lock", &engine.LockError{Err: &state.LockedError{}}, engine.ExitLocked},
		{"a lock that could not be taken", &engine.LockError{Err: errors.New("permission denied")}, engine.ExitFailed},
		{"an interrupt before the run", &engine.InterruptedError{}, engine.ExitInterrupted},
		{"a failed run", &engine.RunError{Run: run}, engine.ExitFailed},
		{"an interrupted run", &engine.RunError{Run: run, Interrupted: true}, engine.ExitInterrupted},
		{"a plan with failing tasks", &engine.PlanError{Failing: 2}, engine.ExitFailed},
		{"a wrapped usage error", fmt.Errorf("load: %w", &engine.UsageError{Err: errors.New("x")}), engine.ExitUsage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ec engine.ExitCoder
			if !errors.As(c.err, &ec) {
				t.Fatalf("%T carries no exit code", c.err)
			}
			if got := ec.ExitCode(); got != c.code {
				t.Errorf("exit code %d, want %d", got, c.code)
			}
		})
	}
}
