package proc

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/novelfactory/runner/engine/procgroup"
	"github.com/novelfactory/runner/engine/tasktype"
)

// GracePeriod is how long a cancelled command gets between SIGTERM and
// SIGKILL, and leftovers of a finished one.
const GracePeriod = 5 * time.Second

// Configure makes cmd (built with exec.CommandContext) run in a session of
// its own that dies with runner: on cancellation everything of the
// session gets SIGTERM (and SIGKILL after the grace period), and the
// command gets SIGKILL from the kernel if runner itself is killed.
func Configure(cmd *exec.Cmd) {
	cmd.SysProcAttr = sysProcAttr()
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		procgroup.Signal(cmd.Process.Pid, syscall.SIGTERM)
		return nil
	}
	cmd.WaitDelay = GracePeriod // then Wait kills the command itself
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
	BecomeSubreaper()
	// The output goes through pipes of Run's own: Wait then returns when
	// the command exits, even while something it left holds them open.
	out, err := pipeOutput(cmd)
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		out.close()
		return err
	}
	out.started()
	sid := cmd.Process.Pid
	ended := func() {}
	running := func(pid int) bool { return pid == sid }
	if procs != nil {
		ended = procs.Started(sid, strings.Join(cmd.Args, " "))
		running = procs.Running
	}
	defer ended()
	// Orphans that end while the command runs are reaped as it goes: a
	// long task that starts thousands of short-lived children must not
	// leave thousands of zombies.
	reaping := make(chan struct{})
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-reaping:
				return
			case <-tick.C:
				procgroup.ReapOrphans(running)
			}
		}
	}()
	err = cmd.Wait()
	close(reaping)
	if ctx.Err() != nil {
		procgroup.Kill(sid)
	} else if procgroup.Leftovers(sid) {
		procgroup.Stop(sid, GracePeriod)
	}
	// Something still holding the output may be of the session yet out of
	// the cheap look's sight (its parent left the session): look at every
	// process, once.
	if !out.wait(100*time.Millisecond) && procgroup.Alive(sid) {
		procgroup.Stop(sid, GracePeriod)
	}
	procgroup.ReapOrphans(running)
	if !out.wait(GracePeriod) && out.stderr != nil {
		// A process that left the session (setsid: a daemon) still holds
		// the output open; the command itself is done.
		out.stop()
		fmt.Fprintf(out.stderr, "runner: a process the command started left its session and still holds its output open; stopped reading after %s\n", GracePeriod)
	}
	out.stop()
	return err
}

// output copies a command's output from pipes of Run's own to the writers
// the caller gave.
type output struct {
	writers []*os.File // the pipes' write ends, given to the command
	readers []*os.File
	copying sync.WaitGroup
	ended   chan struct{} // closed when every copy has ended
	stderr  io.Writer     // the caller's, for runner's own notes
}

// pipeOutput puts a pipe between cmd and each of its output writers that
// is not a file already.
func pipeOutput(cmd *exec.Cmd) (*output, error) {
	o := &output{stderr: cmd.Stderr, ended: make(chan struct{})}
	defer func() {
		go func() { o.copying.Wait(); close(o.ended) }()
	}()
	for _, w := range []*io.Writer{&cmd.Stdout, &cmd.Stderr} {
		if *w == nil {
			continue
		}
		if _, ok := (*w).(*os.File); ok {
			continue
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			o.close()
			return nil, err
		}
		dst := *w
		*w = pw
		o.writers, o.readers = append(o.writers, pw), append(o.readers, pr)
		o.copying.Add(1)
		go func() {
			defer o.copying.Done()
			io.Copy(dst, pr)
		}()
	}
	return o, nil
}

// started closes the parent's write ends: the command has its own.
func (o *output) started() {
	for _, w := range o.writers {
		w.Close()
	}
	o.writers = nil
}

// wait reports whether every output ends within limit (reading goes on).
func (o *output) wait(limit time.Duration) bool {
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-o.ended:
		return true
	case <-t.C:
		return false
	}
}

// stop stops reading and waits until the copies have ended.
func (o *output) stop() {
	o.close()
	<-o.ended
}

func (o *output) close() {
	for _, f := range append(o.writers, o.readers...) {
		f.Close()
	}
}
