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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/export"
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
	// Env is the whole environment of every process: nothing else is
	// inherited (credentials of the store and of the recipe's targets go
	// here).
	Env []string
	// RunID is the run's id, given to every step's --run.
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

// Outcome is how a step ended, as an engine sees it.
type Outcome int

// The outcomes of a step.
const (
	// Omitted: the step never started: a need ended in a way its Accept
	// does not take, or the run was cancelled first.
	Omitted Outcome = iota
	// Succeeded: its process exited 0 (an Instances step: every instance's).
	Succeeded
	// Failed: its process exited non-zero or was killed, or a Plan step
	// printed something other than a JSON list of indexes; an Instances
	// step with any instance failed.
	Failed
	// Empty: an Instances step whose plan listed no instance.
	Empty
)

func (o Outcome) String() string {
	switch o {
	case Succeeded:
		return "succeeded"
	case Failed:
		return "failed"
	case Empty:
		return "empty"
	default:
		return "omitted"
	}
}

// Process is one runner exec a step started: one try of a step, or of an
// instance of an Instances step.
type Process struct {
	Step    *export.Step
	Item    int // the instance's index; -1 for any other step
	Attempt int // 1 for the first try
	Dir     string
	Args    []string // after the runner binary

	// Set once it ended:
	Code     int  // exit code; -1 when a signal ended it
	Killed   bool // Kill ended it
	Start    time.Time
	Setup    time.Duration // making its folder and copying the image
	Duration time.Duration // from start to exit
	Stdout   string        // a Plan step's list; empty for others unless they print
	Stderr   string        // its end, at most Options.StderrLimit bytes
	Err      error         // it could not start, or a Plan step's line was no list

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   bool
	killed bool
}

// Name is the process's step, with the instance's index: "zip[3]".
func (p *Process) Name() string {
	if p.Item >= 0 {
		return fmt.Sprintf("%s[%d]", p.Step.Name, p.Item)
	}
	return p.Step.Name
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

// StepResult is how one step of the workflow ended.
type StepResult struct {
	Step    *export.Step
	Outcome Outcome
	// Items are, for a Plan step and its Instances step, the indexes the
	// plan printed.
	Items []int
	// Processes are every try the step ran, in the order they started.
	Processes []*Process
}

// Result is how the whole workflow ran.
type Result struct {
	Steps []*StepResult // in the workflow's order
	// Wall is from the first process's start to the last one's end,
	// folders and copies included.
	Wall time.Duration
}

// Step returns the result of the step named name, or nil.
func (r *Result) Step(name string) *StepResult {
	for _, s := range r.Steps {
		if s.Step.Name == name {
			return s
		}
	}
	return nil
}

// Processes returns every process of the run, step by step.
func (r *Result) Processes() []*Process {
	var out []*Process
	for _, s := range r.Steps {
		out = append(out, s.Processes...)
	}
	return out
}

// Failed lists the steps that failed or were omitted, for a message.
func (r *Result) Failed() []string {
	var out []string
	for _, s := range r.Steps {
		if s.Outcome == Failed || s.Outcome == Omitted {
			out = append(out, s.Step.Name+" "+s.Outcome.String())
		}
	}
	return out
}

// maxStdout bounds a step's stdout: a plan's list of up to 10,000 indexes
// is far smaller (Argo keeps outputs.result under its 1 MB object too).
const maxStdout = 1 << 20

// Run runs workflow w: every step as a separate runner exec process in its
// own folder under opt.Dir, in dependency order, at most opt.Workers at a
// time. It returns how each step ended; an error only when the harness
// itself could not do its part (a folder or a copy failed, the context
// ended), with the result so far.
func Run(ctx context.Context, w *export.Workflow, opt Options) (*Result, error) {
	if opt.Runner == "" || opt.RunID == "" || opt.Dir == "" {
		return nil, errors.New("distrun: Runner, RunID and Dir must be set")
	}
	if opt.StderrLimit <= 0 {
		opt.StderrLimit = 64 << 10
	}
	r := &runner{w: w, opt: opt, slots: make(chan struct{}, max(opt.Workers, 1)), done: map[*export.Step]chan struct{}{}}
	res := &Result{}
	for _, s := range w.Steps {
		sr := &StepResult{Step: s}
		res.Steps = append(res.Steps, sr)
		r.results = append(r.results, sr)
		r.done[s] = make(chan struct{})
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r.cancel = cancel
	start := time.Now()
	var wg sync.WaitGroup
	for i, s := range w.Steps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(r.done[s])
			r.step(ctx, s, res.Steps[i])
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
	w       *export.Workflow
	opt     Options
	slots   chan struct{} // one per process allowed at once
	done    map[*export.Step]chan struct{}
	results []*StepResult
	cancel  context.CancelCauseFunc
	seq     sync.Mutex
	n       int // processes started so far, for folder names
}

func (r *runner) resultOf(s *export.Step) *StepResult {
	for _, sr := range r.results {
		if sr.Step == s {
			return sr
		}
	}
	return nil
}

// step waits for s's needs and runs it, or leaves it omitted.
func (r *runner) step(ctx context.Context, s *export.Step, sr *StepResult) {
	for _, n := range s.Needs {
		select {
		case <-r.done[n.Step]:
		case <-ctx.Done():
			return
		}
		if !accepts(n.Accept, r.resultOf(n.Step).Outcome) {
			return // omitted
		}
	}
	if s.Kind != export.Instances {
		p := r.process(ctx, s, -1)
		sr.Processes = p
		last := p[len(p)-1]
		sr.Outcome = Failed
		if last.Code == 0 && last.Err == nil {
			sr.Outcome = Succeeded
		}
		if s.Kind == export.Plan && sr.Outcome == Succeeded {
			items, err := parseItems(last.Stdout)
			if err != nil {
				// It exited 0 but printed no list: runner broke its contract.
				last.Err = fmt.Errorf("%s printed %q on stdout: %w", last.Name(), truncate(last.Stdout, 200), err)
				sr.Outcome = Failed
			}
			sr.Items = items
		}
		return
	}
	items := r.resultOf(s.Plan).Items
	sr.Items = items
	if len(items) == 0 {
		sr.Outcome = Empty
		return
	}
	runs := make([][]*Process, len(items))
	var wg sync.WaitGroup
	for i, item := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runs[i] = r.process(ctx, s, item)
		}()
	}
	wg.Wait()
	sr.Outcome = Succeeded
	for _, ps := range runs {
		sr.Processes = append(sr.Processes, ps...)
		if last := ps[len(ps)-1]; last.Code != 0 || last.Err != nil {
			sr.Outcome = Failed
		}
	}
}

// accepts says whether a need that ended with o lets its step start.
func accepts(a export.Accept, o Outcome) bool {
	switch a {
	case export.Succeeded:
		return o == Succeeded
	case export.SucceededOrEmpty:
		return o == Succeeded || o == Empty
	default: // Finished: any ending, an omitted step's included
		return true
	}
}

// parseItems reads a plan's stdout: exactly one line, a JSON array of
// instance indexes.
func parseItems(stdout string) ([]int, error) {
	line := strings.TrimSuffix(stdout, "\n")
	if line == "" || strings.Contains(line, "\n") {
		return nil, errors.New("want exactly one line, a JSON array of instance indexes")
	}
	var items []int
	if err := json.Unmarshal([]byte(line), &items); err != nil || items == nil {
		return nil, errors.New("want a JSON array of instance indexes")
	}
	return items, nil
}

// process runs one step (or instance) until it succeeds or Retry says to
// stop, each try in a fresh folder; it returns every try.
func (r *runner) process(ctx context.Context, s *export.Step, item int) []*Process {
	var tries []*Process
	for attempt := 1; ; attempt++ {
		p := &Process{Step: s, Item: item, Attempt: attempt, Code: -1}
		p.Args = s.Command(r.w, r.opt.RunID, strconv.Itoa(item))
		tries = append(tries, p)
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
	cmd.Dir, cmd.Env = p.Dir, r.opt.Env
	if cmd.Env == nil {
		cmd.Env = []string{} // nothing inherited, as Options.Env says
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
