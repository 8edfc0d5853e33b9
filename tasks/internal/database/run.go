package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/proc"
)

// run runs argv with environ, streaming its output to log, and returns its
// combined output's last lines with the error.
func run(ctx context.Context, argv []string, environ []string, log io.Writer, procs tasktype.Processes) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	proc.Configure(cmd)
	cmd.Env = environ
	tail := proc.NewTail(30)
	cmd.Stdout = io.MultiWriter(log, tail)
	cmd.Stderr = io.MultiWriter(log, tail)
	err := proc.Run(ctx, cmd, procs)
	if err != nil && ctx.Err() != nil {
		return tail.String(), ctx.Err()
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		return tail.String(), &ExitError{Command: argv[0], Code: exitErr.ExitCode(), Output: tail.String()}
	}
	if err != nil {
		return tail.String(), fmt.Errorf("run %s: %w", argv[0], err)
	}
	return tail.String(), nil
}

// ExitError is a tool that exited non-zero.
type ExitError struct {
	Command string
	Code    int
	Output  string // its last lines
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("%s exited with status %d", e.Command, e.Code)
	if out := strings.TrimSpace(e.Output); out != "" {
		msg += ":\n" + out
	}
	return msg
}
