package proc

import (
	"context"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/novelfactory/runner/engine/procgroup"
	"github.com/novelfactory/runner/engine/tasktype"
)

// gracePeriod is how long a cancelled command gets between SIGTERM and
// SIGKILL, and leftovers of a finished one.
const gracePeriod = 5 * time.Second

// Configure makes cmd (built with exec.CommandContext) run in its own
// process group that dies with runner: on cancellation the whole group
// gets SIGTERM (Run sends SIGKILL after the grace period), and the
// command gets SIGKILL from the kernel if runner itself is killed.
func Configure(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		// A negative pid signals the process group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	// After the grace period Wait kills the command and stops waiting for
	// pipes that a leftover child keeps open.
	cmd.WaitDelay = gracePeriod
}

// Run starts cmd (set up by Configure), records its process group with
// procs (which may be nil) for as long as it runs, waits for it, and then
// stops what is left of the group: on cancellation at once with SIGKILL
// (the grace period has passed), else — processes the command left
// running in the background — with SIGTERM, then SIGKILL after the grace
// period. Nothing a task starts outlives it.
func Run(ctx context.Context, cmd *exec.Cmd, procs tasktype.Processes) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	pgid := cmd.Process.Pid
	ended := func() {}
	if procs != nil {
		ended = procs.Started(pgid, strings.Join(cmd.Args, " "))
	}
	defer ended()
	err := cmd.Wait()
	if ctx.Err() != nil {
		syscall.Kill(-pgid, syscall.SIGKILL)
	} else {
		procgroup.Stop(pgid, gracePeriod)
	}
	return err
}
