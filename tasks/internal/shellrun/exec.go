package shellrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"

	"github.com/novelfactory/runner/engine/procgroup"
	"github.com/novelfactory/runner/tasks/internal/proc"
)

// run is one script's run: the processes it started and its output.
type run struct {
	opts           Options
	stop           context.CancelCauseFunc
	stdout, stderr *gate
	key            string // the goroutine label's value
	limits         limits

	mu       sync.Mutex
	closed   bool           // the script has ended: no command starts any more
	active   int            // exec handlers running
	idle     *sync.Cond     // signalled when active drops to 0
	live     map[int]bool   // commands started and not yet waited for
	sessions map[int]func() // session → its record's end, while anything of it may run
	copies   []*copier      // output copies still going after their command ended
	reaping  chan struct{}  // closed when the script ends; nil until a command starts
}

func newRun(o Options, stop context.CancelCauseFunc) *run {
	r := &run{
		opts: o, stop: stop,
		stdout: &gate{w: o.Stdout}, stderr: &gate{w: o.Stderr},
		live: map[int]bool{}, sessions: map[int]func(){},
	}
	r.idle = sync.NewCond(&r.mu)
	r.key = fmt.Sprintf("%p", r)
	return r
}

// exec runs a command that is neither a builtin nor a function: in a
// session of its own, as tasks/internal/proc runs every task's commands.
func (r *run) exec(ctx context.Context, args []string) error {
	if !r.enter() {
		return errEnded
	}
	defer r.leave()
	hc := interp.HandlerCtx(ctx)
	path, status, msg := lookPath(hc, args[0])
	if msg != "" {
		fmt.Fprintf(hc.Stderr, "run:%d:%d: %s: %s\n", hc.Pos.Line(), hc.Pos.Col(), args[0], msg)
		return interp.ExitStatus(status)
	}
	// Orphans of the command come back to runner, not to init, so that
	// they can be found and stopped.
	proc.BecomeSubreaper()
	cmd, out, err := r.start(ctx, hc, path, args)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(hc.Stderr, "run:%d:%d: %s: %v\n", hc.Pos.Line(), hc.Pos.Col(), args[0], err)
		return interp.ExitStatus(126)
	}
	sid := cmd.Process.Pid
	r.started(sid, cmd.Args)
	err = cmd.Wait()
	r.waited(ctx, sid, out)
	for _, b := range out.bounds {
		if b.over {
			return r.limit(substLimit())
		}
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &exitErr):
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return interp.ExitStatus(128 + int(ws.Signal()))
		}
		return interp.ExitStatus(exitErr.ExitCode())
	case errors.Is(err, exec.ErrWaitDelay):
		// It exited, and something it left running held its output (into
		// a command substitution) past the grace period.
		return exitStatus(cmd.ProcessState.ExitCode())
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	fmt.Fprintf(hc.Stderr, "run:%d:%d: %s: %v\n", hc.Pos.Line(), hc.Pos.Col(), args[0], err)
	return interp.ExitStatus(126)
}

func exitStatus(code int) error {
	if code == 0 {
		return nil
	}
	return interp.ExitStatus(code)
}

// start starts path with the shell's current directory, environment and
// standard streams.
func (r *run) start(ctx context.Context, hc interp.HandlerContext, path string, args []string) (*exec.Cmd, *outputs, error) {
	build := func(path string, args []string) (*exec.Cmd, *outputs) {
		cmd := exec.CommandContext(ctx, path)
		cmd.Args = args
		cmd.Env = environ(hc.Env)
		cmd.Dir = hc.Dir
		if hc.Stdin != nil {
			cmd.Stdin = hc.Stdin
		}
		out := &outputs{}
		cmd.Stdout = r.output(hc.Stdout, out)
		cmd.Stderr = r.output(hc.Stderr, out)
		proc.Configure(cmd)
		return cmd, out
	}
	for attempt := 0; ; attempt++ {
		cmd, out := build(path, args)
		if err := out.err; err != nil {
			out.close()
			return nil, nil, err
		}
		err := cmd.Start()
		if err == nil {
			out.started()
			return cmd, out, nil
		}
		out.close()
		switch {
		case errors.Is(err, syscall.ETXTBSY) && attempt < 8:
			// A process forked elsewhere in runner may hold the file open
			// for writing for a moment (go.dev/issue/22315).
			time.Sleep(time.Millisecond << attempt)
		case errors.Is(err, syscall.ENOEXEC):
			// A script without #!: sh runs it, as every shell does.
			path, args = "/bin/sh", append([]string{"sh", path}, args[1:]...)
		default:
			return nil, nil, err
		}
	}
}

// lookPath finds a command as sh does, in the PATH of the shell's
// environment, and says why it cannot run when it cannot.
func lookPath(hc interp.HandlerContext, name string) (path string, status int, why string) {
	path, err := interp.LookPathDir(hc.Dir, hc.Env, name)
	if err == nil {
		return path, 0, ""
	}
	if !strings.Contains(name, "/") {
		return "", 127, "command not found"
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(hc.Dir, name)
	}
	info, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", 127, "no such file"
	case err != nil:
		return "", 126, err.Error()
	case info.IsDir():
		return "", 126, "is a directory"
	}
	return "", 126, "permission denied"
}

// environ is what a command gets of the shell's variables: the exported
// ones.
func environ(env expand.Environ) []string {
	list := make([]string, 0, 64)
	at := map[string]int{}
	for name, vr := range env.Each {
		if i, ok := at[name]; ok {
			list[i] = "" // an inner scope has it too: the inner one counts
			delete(at, name)
		}
		if vr.IsSet() && vr.Exported && vr.Kind == expand.String {
			at[name] = len(list)
			list = append(list, name+"="+vr.String())
		}
	}
	out := list[:0]
	for _, kv := range list {
		if kv != "" {
			out = append(out, kv)
		}
	}
	return out
}

// enter counts an exec handler in, unless the script has ended.
func (r *run) enter() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.active++
	if r.reaping == nil {
		r.reaping = make(chan struct{})
		go r.reap(r.reaping)
	}
	return true
}

func (r *run) leave() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.active--; r.active == 0 {
		r.idle.Broadcast()
	}
}

// started records the session sid of a command the script started.
func (r *run) started(sid int, args []string) {
	ended := func() {}
	if r.opts.Processes != nil {
		ended = r.opts.Processes.Started(sid, strings.Join(args, " "))
	}
	r.mu.Lock()
	r.live[sid] = true
	r.sessions[sid] = ended
	r.mu.Unlock()
}

// waited settles the session of a command that has exited. When the task
// is cancelled, all of it is killed; otherwise what it left running stays,
// as in sh, until the script ends.
func (r *run) waited(ctx context.Context, sid int, out *outputs) {
	r.mu.Lock()
	delete(r.live, sid)
	r.mu.Unlock()
	if ctx.Err() != nil {
		procgroup.Kill(sid)
	}
	if !out.wait(100 * time.Millisecond) {
		// Something the command left running holds its output: copying
		// goes on until the script ends.
		r.mu.Lock()
		r.copies = append(r.copies, out.copies...)
		r.mu.Unlock()
	}
	if ctx.Err() == nil && procgroup.Leftovers(sid) {
		return
	}
	r.endSession(sid)
}

func (r *run) endSession(sid int) {
	r.mu.Lock()
	ended := r.sessions[sid]
	delete(r.sessions, sid)
	r.mu.Unlock()
	if ended != nil {
		ended()
	}
}

// running reports whether pid is a command runner waits for: one that no
// one else may reap.
func (r *run) running(pid int) bool {
	r.mu.Lock()
	mine := r.live[pid]
	r.mu.Unlock()
	return mine || (r.opts.Processes != nil && r.opts.Processes.Running(pid))
}

// reap collects orphans as the script goes — a long script that starts
// thousands of short-lived children must not leave thousands of zombies —
// and forgets the sessions of which nothing runs any more.
func (r *run) reap(done chan struct{}) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			procgroup.ReapOrphans(r.running)
			r.mu.Lock()
			var gone []int
			for sid := range r.sessions {
				if !r.live[sid] && !procgroup.Leftovers(sid) {
					gone = append(gone, sid)
				}
			}
			r.mu.Unlock()
			for _, sid := range gone {
				r.endSession(sid)
			}
		}
	}
}

// finish waits for the commands that are running (the script's end
// cancelled them), stops what they left running — SIGTERM, then SIGKILL
// after the grace period, as GitHub Actions does — and closes the output.
func (r *run) finish() {
	r.mu.Lock()
	r.closed = true
	for r.active > 0 {
		r.idle.Wait()
	}
	if r.reaping != nil {
		close(r.reaping)
	}
	sids := make([]int, 0, len(r.sessions))
	for sid := range r.sessions {
		sids = append(sids, sid)
	}
	copies := r.copies
	r.mu.Unlock()
	if len(sids) > 0 {
		stopSessions(sids)
		for _, sid := range sids {
			r.endSession(sid)
		}
	}
	if r.reaping != nil {
		procgroup.ReapOrphans(r.running)
	}
	// What still holds the output left its session (a daemon, on
	// purpose): runner stops reading once the grace period is over.
	deadline := time.Now().Add(proc.GracePeriod)
	held := false
	for _, c := range copies {
		if !c.wait(time.Until(deadline)) {
			held = true
		}
		c.stop()
	}
	if held {
		fmt.Fprintf(r.stderr, "runner: a process the script started left its session and still holds its output open; stopped reading after %s\n", proc.GracePeriod)
	}
	r.stdout.close()
	r.stderr.close()
}

// stopSessions ends every process of the sessions sids: SIGTERM, then
// SIGKILL for what has not ended after the grace period.
func stopSessions(sids []int) {
	var alive []int
	for _, sid := range sids {
		if procgroup.Leftovers(sid) || procgroup.Alive(sid) {
			alive = append(alive, sid)
			procgroup.Signal(sid, syscall.SIGTERM)
		}
	}
	for deadline := time.Now().Add(proc.GracePeriod); len(alive) > 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		still := alive[:0]
		for _, sid := range alive {
			if procgroup.Alive(sid) {
				still = append(still, sid)
			}
		}
		alive = still
	}
	for _, sid := range sids {
		procgroup.Kill(sid)
	}
}

// outputs are the pipes between one command and the shell's writers that
// are not files.
type outputs struct {
	writers []*os.File // given to the command
	copies  []*copier
	bounds  []*bounded
	pipes   map[io.Writer]*os.File // one pipe per writer: 2>&1 shares one
	err     error
}

// copier copies one pipe into a writer of the shell.
type copier struct {
	r    *os.File
	done chan struct{}
}

func (c *copier) wait(limit time.Duration) bool {
	if limit <= 0 {
		limit = time.Millisecond
	}
	t := time.NewTimer(limit)
	defer t.Stop()
	select {
	case <-c.done:
		return true
	case <-t.C:
		return false
	}
}

// stop stops reading and waits until the copy has ended.
func (c *copier) stop() {
	c.r.Close()
	<-c.done
}

// output is what a command gets for the shell's writer w: w itself when
// it is a file (a redirection, a pipeline's pipe), a pipe into it when it
// is the task's output, and w bounded when it collects a command
// substitution.
func (r *run) output(w io.Writer, out *outputs) io.Writer {
	switch v := w.(type) {
	case *os.File:
		return w
	case *gate:
		if pw, ok := out.pipes[w]; ok {
			return pw
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			out.err = err
			return w
		}
		if out.pipes == nil {
			out.pipes = map[io.Writer]*os.File{}
		}
		out.pipes[w] = pw
		out.writers = append(out.writers, pw)
		c := &copier{r: pr, done: make(chan struct{})}
		out.copies = append(out.copies, c)
		go func() {
			defer close(c.done)
			io.Copy(w, pr)
		}()
		return pw
	case interface{ Len() int }:
		b := &bounded{w: w, n: v.Len()}
		out.bounds = append(out.bounds, b)
		return b
	}
	return w
}

// started closes the parent's write ends: the command has its own.
func (o *outputs) started() {
	for _, w := range o.writers {
		w.Close()
	}
	o.writers = nil
}

// wait reports whether every copy ends within limit.
func (o *outputs) wait(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for _, c := range o.copies {
		if !c.wait(time.Until(deadline)) {
			return false
		}
	}
	return true
}

// close undoes a command that did not start.
func (o *outputs) close() {
	for _, w := range o.writers {
		w.Close()
	}
	for _, c := range o.copies {
		c.stop()
	}
}

// bounded stops a command substitution at maxSubst bytes: it collects in
// runner's memory.
type bounded struct {
	w    io.Writer
	n    int
	over bool
}

func (b *bounded) Write(p []byte) (int, error) {
	if b.n += len(p); b.n > maxSubst {
		b.over = true
		return 0, errEnded
	}
	return b.w.Write(p)
}
