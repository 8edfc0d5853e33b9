package proc

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/novelfactory/runner/engine/procgroup"
	"github.com/novelfactory/runner/engine/tasktype"
)

// gracePeriod is how long a cancelled command gets between SIGTERM and
// SIGKILL, and leftovers of a finished one.
const gracePeriod = 5 * time.Second

// Configure makes cmd (built with exec.CommandContext) run in a session of
// its own that dies with runner: on cancellation everything of the
// session gets SIGTERM (Run sends SIGKILL after the grace period), and the
// command gets SIGKILL from the kernel if runner itself is killed.
func Configure(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		procgroup.Signal(cmd.Process.Pid, syscall.SIGTERM)
		return nil
	}
	// After the grace period Wait kills the command and stops waiting for
	// pipes that a process which left the session keeps open.
	cmd.WaitDelay = gracePeriod
}

// Run starts cmd (set up by Configure), records its session with procs
// (which may be nil) for as long as it runs, and waits for it. Nothing a
// task starts outlives it: when the command ends, what it left running in
// its session is stopped at once — SIGTERM, then SIGKILL after the grace
// period (as GitHub Actions does) — and on cancellation, once the grace
// period has passed, everything of it gets SIGKILL.
func Run(ctx context.Context, cmd *exec.Cmd, procs tasktype.Processes) error {
	// Orphans of the command come back to runner, not to init, so that
	// they can be found and stopped (see procgroup.Leftovers).
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	if err := cmd.Start(); err != nil {
		return err
	}
	sid := cmd.Process.Pid
	ended := func() {}
	if procs != nil {
		ended = procs.Started(sid, strings.Join(cmd.Args, " "))
	}
	defer ended()
	// Stop the leftovers as soon as the command itself exits: they would
	// otherwise keep its output pipes open, and the task from ending.
	stopped := make(chan struct{})
	exited, err := exitNotice(sid)
	if err != nil {
		close(stopped)
	} else {
		go func() {
			defer close(stopped)
			exited()
			if ctx.Err() == nil && procgroup.Leftovers(sid) {
				procgroup.Stop(sid, gracePeriod)
			}
		}()
	}
	err = cmd.Wait()
	<-stopped
	if ctx.Err() != nil {
		procgroup.Kill(sid)
	} else if procgroup.Leftovers(sid) {
		procgroup.Stop(sid, gracePeriod)
	}
	procgroup.Reap(sid)
	if errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		// A process that left the session (setsid: a daemon) still holds
		// the output open; the command itself succeeded.
		if cmd.Stderr != nil {
			fmt.Fprintf(cmd.Stderr, "runner: a process the command started left its session and still holds its output open; stopped reading after %s\n", gracePeriod)
		}
		return nil
	}
	return err
}

// exitNotice returns a function that blocks until process pid has exited,
// without reaping it (cmd.Wait does that): a pidfd becomes readable then.
func exitNotice(pid int) (func(), error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return nil, err
	}
	return func() {
		defer unix.Close(fd)
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		for {
			if _, err := unix.Poll(fds, -1); !errors.Is(err, unix.EINTR) {
				return
			}
		}
	}, nil
}
