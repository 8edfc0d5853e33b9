package distrun

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options say what to run each step with.
type Options struct {
	// Runner is the runner binary every step starts.
	Runner string
	// Image are the folders copied into every step's folder, each under its
	// own base name (…/recipes → STEP/recipes): what the container image of
	// an exported workflow holds besides runner.
	Image []string
	// LinkImage makes each file of a step's image a hard link to the
	// image's instead of a copy: a container's shared read-only layers,
	// for benchmarks that measure runner rather than copying. A step that
	// writes into an image file changes it for every step: tests copy.
	LinkImage bool
	// Env is the whole environment of every process, with the env values
	// its container names: nothing else is inherited (credentials of the
	// store and of the recipe's targets, which Argo takes from a Secret,
	// go here).
	Env []string
	// RunID is the run's id: what {{workflow.name}} stands for.
	RunID string
	// Workers bounds the processes running at once (1 when less).
	Workers int
	// Dir is where each process's folder is made; it must exist. The
	// folders are left there for the caller to look into.
	Dir string
	// StderrLimit bounds what is kept of each process's stderr (its end);
	// 64 KiB when 0.
	StderrLimit int
	// Started, when set, is called once each process has started, in the
	// goroutine that waits for it; it may call p.Kill at once or keep p
	// to kill it later, while it runs.
	Started func(p *Process)
	// Retry, when set, is asked after a process failed (non-zero exit, or
	// killed) whether to run it again in a new folder, as an engine's
	// retry strategy would.
	Retry func(p *Process) bool
}

// Process is one runner exec a task started: one try of a task, or of
// one element of a fan-out.
type Process struct {
	Task *Task
	// Item is the fan-out's element as {{item}} gives it (a string as
	// itself, anything else as its JSON); "" for a task that runs once.
	Item    string
	Index   int // the element's place in the list; -1 for a task that runs once
	Attempt int // 1 for the first try
	Dir     string
	Args    []string // after the runner binary

	// Set once it ended:
	Code     int  // exit code; -1 when a signal ended it
	Killed   bool // Kill, or the template's deadline, ended it
	Start    time.Time
	Setup    time.Duration // making its folder and copying the image
	Duration time.Duration // from start to exit
	Stdout   string        // Argo's outputs.result: a plan's list
	Stderr   string        // its end, at most Options.StderrLimit bytes
	Err      error         // the harness could not run it

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   bool
	killed bool
}

// Name is the process's task, with the fan-out's element: "zip[3]".
func (p *Process) Name() string {
	if p.Index >= 0 {
		return fmt.Sprintf("%s[%s]", p.Task.Name, p.Item)
	}
	return p.Task.Name
}

// Kill ends the process and its process group with SIGKILL, as a node
// lost mid-task would. It does nothing once the process has ended.
func (p *Process) Kill() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done || p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	p.killed = true
	if err := killGroup(p.cmd.Process); err != nil {
		return fmt.Errorf("kill %s: %w", p.Name(), err)
	}
	return nil
}

// TaskResult is how one task of the DAG ended.
type TaskResult struct {
	Task    *Task
	Outcome Outcome
	// Items are, for a fan-out, the elements of the list it went over.
	Items []string
	// Processes are every try the task ran, in the order they started.
	Processes []*Process
	// Err says why the task Errored.
	Err error
}

// Result is how the whole workflow ran.
type Result struct {
	Tasks []*TaskResult // in the DAG's order
	// Wall is from the first process's start to the last one's end,
	// folders and copies included.
	Wall time.Duration
}

// Task returns the result of the task named name, or nil.
func (r *Result) Task(name string) *TaskResult {
	for _, t := range r.Tasks {
		if t.Task.Name == name {
			return t
		}
	}
	return nil
}

// Processes returns every process of the run, task by task.
func (r *Result) Processes() []*Process {
	var out []*Process
	for _, t := range r.Tasks {
		out = append(out, t.Processes...)
	}
	return out
}

// Failed lists the tasks that did not succeed and were not skipped, for
// a message.
func (r *Result) Failed() []string {
	var out []string
	for _, t := range r.Tasks {
		if t.Outcome != Succeeded && t.Outcome != Skipped {
			msg := t.Task.Name + " " + t.Outcome.String()
			if t.Err != nil {
				msg += ": " + t.Err.Error()
			}
			out = append(out, msg)
		}
	}
	return out
}

// maxStdout bounds a step's stdout: a plan's list of up to 10,000 indexes
// is far smaller (Argo keeps outputs.result under its 1 MB object too).
const maxStdout = 1 << 20

// Run runs workflow w as Argo would: every task, once each task its
// depends names has ended, when its depends is true — else it is Omitted;
// a fan-out once per element of the list its withParam names; every
// process a separate runner exec in its own folder under opt.Dir, at most
// opt.Workers at a time. It returns how each task ended; an error only
// when the harness itself could not do its part (a folder or a copy
// failed, the context ended), with the result so far.
func Run(ctx context.Context, w *Workflow, opt Options) (*Result, error) {
	if opt.Runner == "" || opt.RunID == "" || opt.Dir == "" {
		return nil, errors.New("distrun: Runner, RunID and Dir must be set")
	}
	if opt.StderrLimit <= 0 {
		opt.StderrLimit = 64 << 10
	}
	r := &runner{opt: opt, slots: make(chan struct{}, max(opt.Workers, 1)), byName: map[string]*taskRun{}}
	res := &Result{}
	for _, t := range w.Tasks {
		tr := &taskRun{res: &TaskResult{Task: t}, done: make(chan struct{})}
		res.Tasks = append(res.Tasks, tr.res)
		r.byName[t.Name] = tr
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.cancel = cancel
	start := time.Now()
	var wg sync.WaitGroup
	for _, t := range w.Tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := r.byName[t.Name]
			defer close(tr.done)
			r.task(ctx, t, tr.res)
		}()
	}
	wg.Wait()
	res.Wall = time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	return res, nil
}

type runner struct {
	opt    Options
	slots  chan struct{} // one per process allowed at once
	byName map[string]*taskRun
	cancel context.CancelCauseFunc
	seq    sync.Mutex
	n      int // processes started so far, for folder names
}

// taskRun is a task's result, readable once done is closed.
type taskRun struct {
	res  *TaskResult
	done chan struct{}
}

// task waits for every task t's depends names to end, evaluates it, and
// runs t, or leaves it Omitted.
func (r *runner) task(ctx context.Context, t *Task, tr *TaskResult) {
	if t.depends != nil {
		var names []string
		t.depends.tasks(func(n string) {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		})
		for _, n := range names {
			select {
			case <-r.byName[n].done:
			case <-ctx.Done():
				return
			}
		}
		if !t.depends.eval(func(n string) Outcome { return r.byName[n].res.Outcome }) {
			return // Omitted
		}
	}
	if t.FanOutOf == "" {
		ps := r.process(ctx, t, "", -1)
		tr.Processes = ps
		tr.Outcome = outcomeOf(ps[len(ps)-1])
		return
	}
	// Its depends waits for it, maybe through other tasks: wait for it
	// here too, for a run cancelled on the way.
	select {
	case <-r.byName[t.FanOutOf].done:
	case <-ctx.Done():
		return
	}
	planned := r.byName[t.FanOutOf].res
	var items []string
	var err error
	if planned.Outcome != Succeeded {
		err = fmt.Errorf("withParam: %s %s: it has no result", planned.Task.Name, planned.Outcome)
	} else {
		items, err = parseItems(planned.Processes[len(planned.Processes)-1].Stdout)
	}
	if err != nil {
		// Argo fails to expand the task: the task errs, nothing starts.
		tr.Outcome, tr.Err = Errored, fmt.Errorf("%s: %w", t.Name, err)
		return
	}
	tr.Items = items
	if len(items) == 0 {
		tr.Outcome = Skipped
		return
	}
	runs := make([][]*Process, len(items))
	var wg sync.WaitGroup
	for i, item := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = r.process(ctx, t, item, i)
		}()
	}
	wg.Wait()
	tr.Outcome = Succeeded
	for _, ps := range runs {
		tr.Processes = append(tr.Processes, ps...)
		// Argo's fan-out: Failed if any child failed, else Errored if any
		// erred.
		switch o := outcomeOf(ps[len(ps)-1]); {
		case o == Failed:
			tr.Outcome = Failed
		case o == Errored && tr.Outcome == Succeeded:
			tr.Outcome = Errored
		}
	}
}

// outcomeOf is the phase Argo gives a pod that ended as p did.
func outcomeOf(p *Process) Outcome {
	switch {
	case p.Err != nil:
		return Errored
	case p.Code == 0:
		return Succeeded
	default:
		return Failed
	}
}

// parseItems reads a result withParam names as Argo does: a JSON list,
// each element given to {{item}} as itself when a string, else as its
// JSON.
func parseItems(result string) ([]string, error) {
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(strings.TrimSpace(result)), &list); err != nil || list == nil {
		return nil, fmt.Errorf("withParam: the result %q is no JSON list", truncate(result, 200))
	}
	items := make([]string, len(list))
	for i, raw := range list {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			items[i] = s
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, raw); err != nil {
			return nil, fmt.Errorf("withParam: element %d: %w", i, err)
		}
		items[i] = compact.String()
	}
	return items, nil
}

// process runs one task (or one element of a fan-out) until it succeeds
// or Retry says to stop, each try in a fresh folder; it returns every try.
func (r *runner) process(ctx context.Context, t *Task, item string, index int) []*Process {
	var tries []*Process
	for attempt := 1; ; attempt++ {
		p := &Process{Task: t, Item: item, Index: index, Attempt: attempt, Code: -1}
		tries = append(tries, p)
		args, err := t.command(r.opt.RunID, item)
		if err != nil {
			p.Err = fmt.Errorf("%s: %w", p.Name(), err)
			return tries
		}
		p.Args = args
		select {
		case r.slots <- struct{}{}:
		case <-ctx.Done():
			p.Err = context.Cause(ctx)
			return tries
		}
		r.run(ctx, p)
		<-r.slots
		if (p.Code == 0 && p.Err == nil) || r.opt.Retry == nil || ctx.Err() != nil || !r.opt.Retry(p) {
			return tries
		}
	}
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// run makes p's folder, copies the image into it and runs p there.
func (r *runner) run(ctx context.Context, p *Process) {
	r.seq.Lock()
	r.n++
	n := r.n
	r.seq.Unlock()
	p.Start = time.Now()
	name := fmt.Sprintf("%04d-%s", n, unsafeName.ReplaceAllString(p.Name(), "_"))
	if p.Attempt > 1 {
		name += fmt.Sprintf("-try%d", p.Attempt)
	}
	p.Dir = filepath.Join(r.opt.Dir, name)
	if err := os.Mkdir(p.Dir, 0o755); err != nil {
		r.fail(p, fmt.Errorf("make the folder of %s: %w", p.Name(), err))
		return
	}
	if err := copyImage(p.Dir, r.opt.Image, r.opt.LinkImage); err != nil {
		r.fail(p, fmt.Errorf("%s: %w", p.Name(), err))
		return
	}
	p.Setup = time.Since(p.Start)

	cmd := exec.Command(r.opt.Runner, p.Args...)
	// Nothing inherited, as Options.Env says; the container's own values
	// last, so they win.
	cmd.Dir, cmd.Env = p.Dir, append(slices.Clip(r.opt.Env), p.Task.Env...)
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	stdout := &capped{limit: maxStdout}
	stderr := &tail{limit: r.opt.StderrLimit}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	ownGroup(cmd)
	p.mu.Lock()
	p.cmd = cmd
	err := cmd.Start()
	p.mu.Unlock()
	if err != nil {
		r.fail(p, fmt.Errorf("start %s: %w", p.Name(), err))
		return
	}
	stop := context.AfterFunc(ctx, func() { p.Kill() })
	if p.Task.Deadline > 0 {
		// Argo's activeDeadlineSeconds: the pod is killed, and fails.
		deadline := time.AfterFunc(p.Task.Deadline, func() { p.Kill() })
		defer deadline.Stop()
	}
	if r.opt.Started != nil {
		r.opt.Started(p)
	}
	err = cmd.Wait()
	stop()
	p.mu.Lock()
	p.done = true
	p.Killed = p.killed
	p.mu.Unlock()
	p.Duration = time.Since(p.Start) - p.Setup
	p.Stdout, p.Stderr = stdout.String(), stderr.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
		p.Code = 0
	case errors.As(err, &ee):
		p.Code = ee.ExitCode() // -1 for a signal
	default:
		p.Err = fmt.Errorf("wait for %s: %w", p.Name(), err)
	}
	if stdout.over {
		p.Err = fmt.Errorf("%s printed more than %d bytes on stdout", p.Name(), maxStdout)
	}
}

// fail records that the harness could not run p, and ends the run: what
// follows would fail the same way.
func (r *runner) fail(p *Process, err error) {
	p.Err = err
	r.cancel(err)
}

// capped keeps the first limit bytes written to it.
type capped struct {
	limit int
	buf   bytes.Buffer
	over  bool
}

func (c *capped) Write(b []byte) (int, error) {
	if room := c.limit - c.buf.Len(); len(b) > room {
		c.over = true
		c.buf.Write(b[:max(room, 0)])
		return len(b), nil
	}
	return c.buf.Write(b)
}

func (c *capped) String() string { return c.buf.String() }

// tail keeps the last limit bytes written to it: an error is at the end.
type tail struct {
	limit int
	buf   []byte
	cut   bool
}

func (t *tail) Write(b []byte) (int, error) {
	t.buf = append(t.buf, b...)
	if len(t.buf) > 2*t.limit {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.limit:]...)
		t.cut = true
	}
	return len(b), nil
}

func (t *tail) String() string {
	b := t.buf
	if len(b) > t.limit {
		b, t.cut = b[len(b)-t.limit:], true
	}
	if t.cut {
		return "…" + string(b)
	}
	return string(b)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
