package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/procgroup"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/runstore"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/objstore"
	"github.com/novelfactory/runner/internal/quote"
)

// ExecOptions are the settings of `runner exec`: one step of a run whose
// tasks run on different machines, sharing a run store.
type ExecOptions struct {
	Recipe      string
	VarFiles    []string
	Sets        []string
	Workdir     string
	IncludeDirs []string

	RunID string // the run, named by whoever started it (the workflow)
	State string // the run store: s3://bucket/prefix or file://dir
	// StateOptions reach an S3 run store: region, endpoint, path style.
	StateOptions objstore.Options

	Init bool   // record the run (--init)
	Task string // the task to run, plan or run an instance of (--task)
	Plan bool   // decide a for_each task's instances (--plan)
	// MaxItems fails a --plan whose list is longer (--max-items: an
	// engine's limit); no limit but scheduler.MaxInstances when 0.
	MaxItems int
	Item     int // the instance of a for_each task to run (--item); -1 for none

	// Dir is the working folder: the files of outputs under it travel
	// through the store. The process's working folder when "".
	Dir string
	// Stdout receives the one line of --plan: the JSON array of indexes.
	Stdout io.Writer
	// Log receives runner's own notes (a task already done, files that
	// stay local); Sink the run's events. Both go to stderr in the CLI.
	Log  func(msg string)
	Sink scheduler.Sink
	// GitHubOutput is the file of GitHub Actions' job outputs
	// (GITHUB_OUTPUT); "" when not under Actions.
	GitHubOutput string

	Environ  []string
	Registry *tasktype.Registry
	Now      func() time.Time
	Masker   *secret.Masker
	// Kill, closed, kills the task's processes at once (a second
	// interrupt), as apply's does.
	Kill <-chan struct{}
}

// ExecResult is what one exec did.
type ExecResult struct {
	Status state.Status
	// Indexes are the instances a --plan decided: [] when the task does
	// not fan out.
	Indexes []int
	// Record is what was written to (or, for a step already done, read
	// from) the store.
	Record *runstore.Record
}

// ExecError is a step that did not succeed: its task (or instance)
// failed or was cancelled. Its record in the store says why.
type ExecError struct {
	Task        string
	Status      state.Status
	Interrupted bool
}

func (e *ExecError) Error() string {
	if e.Interrupted {
		return fmt.Sprintf("%s was interrupted", e.Task)
	}
	return fmt.Sprintf("%s %s", e.Task, e.Status)
}

// ExitCode is ExitInterrupted for an interrupted step, else ExitFailed.
func (e *ExecError) ExitCode() int {
	if e.Interrupted {
		return ExitInterrupted
	}
	return ExitFailed
}

// Exec runs one step of a run: --init, a plain task, a for_each task's
// plan, or one of its instances. The records of what it needs come from
// the store and the scheduler decides with them exactly as in a run of
// the whole recipe (see scheduler.Options.Settled).
func Exec(ctx context.Context, opt ExecOptions) (ExecResult, error) {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Masker == nil {
		opt.Masker = secret.New()
	}
	if opt.Log == nil {
		opt.Log = func(string) {}
	}
	if opt.Stdout == nil {
		opt.Stdout = io.Discard
	}
	opt.Masker.AddEnviron(opt.Environ)
	if err := checkExecMode(opt); err != nil {
		return ExecResult{}, &UsageError{err}
	}
	r, err := Load(Options{Recipe: opt.Recipe, VarFiles: opt.VarFiles, Sets: opt.Sets, Workdir: opt.Workdir, IncludeDirs: opt.IncludeDirs, Registry: opt.Registry})
	if err != nil {
		return ExecResult{}, err
	}
	abs, _ := filepath.Abs(opt.Recipe)
	dir := opt.Dir
	if dir == "" {
		if dir, err = os.Getwd(); err != nil {
			return ExecResult{}, &UsageError{fmt.Errorf("find the working folder: %w", err)}
		}
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return ExecResult{}, &UsageError{err}
	}
	so := opt.StateOptions
	so.Environ = opt.Environ
	store, err := runstore.Open(ctx, opt.State, so, opt.Masker)
	if err != nil {
		return ExecResult{}, &UsageError{fmt.Errorf("--state: %w", err)}
	}
	want := runstore.Run{ID: opt.RunID, Recipe: r.Name, RecipeDigest: r.Digest, VarsDigest: VarsDigest(r), Started: opt.Now().UTC()}
	if opt.Init {
		got, err := store.Init(ctx, want)
		if err != nil {
			return ExecResult{}, &UsageError{fmt.Errorf("--init: %w", err)}
		}
		opt.Log(fmt.Sprintf("run %s of %s recorded in %s (started %s)", got.ID, r.Name, store, got.Started.Format(time.RFC3339Nano)))
		if err := writeGitHubOutput(opt.GitHubOutput, "status", string(state.Succeeded)); err != nil {
			opt.Log(fmt.Sprintf("GITHUB_OUTPUT: %v", err))
		}
		return ExecResult{Status: state.Succeeded}, nil
	}
	run, err := store.Check(ctx, want)
	switch {
	case errors.Is(err, runstore.ErrNoRun):
		return ExecResult{}, &UsageError{fmt.Errorf("%w: run `runner exec %s --init --run %s --state %s` first", err, opt.Recipe, opt.RunID, opt.State)}
	case err != nil:
		return ExecResult{}, &UsageError{err}
	}
	t, err := execTask(r, opt)
	if err != nil {
		return ExecResult{}, &UsageError{err}
	}
	x := &stepRun{opt: opt, r: r, t: t, store: store, run: run, dir: dir, abs: abs}
	return x.exec(ctx)
}

// checkExecMode checks that the flags name one step.
func checkExecMode(opt ExecOptions) error {
	switch {
	case opt.RunID == "":
		return errors.New("--run: give the run's id (the workflow's, e.g. its run id): every step of one run uses the same")
	case opt.State == "":
		return errors.New("--state: give the run store, s3://bucket/prefix or file://folder")
	case opt.Init && (opt.Task != "" || opt.Plan || opt.Item >= 0):
		return errors.New("--init records the run and runs no task: leave out --task, --plan and --item")
	case !opt.Init && opt.Task == "":
		return errors.New("give --init (record the run) or --task ID (run one of its tasks)")
	case opt.Plan && opt.Item >= 0:
		return errors.New("--plan decides a for_each task's instances and --item runs one: give one of them")
	}
	return nil
}

// execTask finds the task --task names, and checks that the flags fit it.
func execTask(r *recipe.Recipe, opt ExecOptions) (*recipe.Task, error) {
	t := r.Task(opt.Task)
	if t == nil {
		ids := make([]string, len(r.Tasks))
		for i, t := range r.Tasks {
			ids[i] = t.ID
		}
		return nil, fmt.Errorf("--task %s: no such task in %s%s", quote.Cut(opt.Task), opt.Recipe, diag.DidYouMean(opt.Task, ids))
	}
	switch {
	case t.ForEach != nil && !opt.Plan && opt.Item < 0:
		return nil, fmt.Errorf("--task %s is a for_each task: run it with --plan first (it prints the instances' indexes), then with --item N for each index", t.ID)
	case t.ForEach == nil && (opt.Plan || opt.Item >= 0):
		return nil, fmt.Errorf("--task %s has no for_each: --plan and --item are for for_each tasks; run it with --task alone", t.ID)
	}
	return t, nil
}

// VarsDigest is a digest of a loaded recipe's vars — their values as the
// recipe, --vars and --set left them, before evaluation — so that every
// exec of a run can check it sees the same. A var the recipe lists under
// secrets: counts by its name only: run.json is read by whoever reads the
// store, and a digest of a value is a way to test guesses of it.
func VarsDigest(r *recipe.Recipe) string {
	h := sha256.New()
	for _, v := range r.Vars {
		fmt.Fprintf(h, "%q=", v.Name)
		if slices.Contains(r.Secrets, v.Name) {
			h.Write([]byte("<secret>"))
		} else if len(v.Value.Exprs()) == 0 {
			val, err := v.Value.Eval(&eval.Scope{})
			data, jerr := json.Marshal(val)
			if err == nil && jerr == nil {
				h.Write(data)
			}
		} else {
			for _, e := range v.Value.Exprs() {
				fmt.Fprintf(h, "${{%s}}", e.Source)
			}
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// stepRun is one exec of a task, a plan or an instance.
type stepRun struct {
	opt   ExecOptions
	r     *recipe.Recipe
	t     *recipe.Task
	store *runstore.Store
	run   runstore.Run
	dir   string
	abs   string
}

func (x *stepRun) exec(ctx context.Context) (ExecResult, error) {
	opt, t := x.opt, x.t
	id := t.ID
	var instance *scheduler.Instance
	if opt.Item >= 0 {
		plan, err := x.store.Get(ctx, x.run.ID, t.ID)
		if err != nil {
			return ExecResult{}, &UsageError{err} // the store cannot be read: exit 2
		}
		if plan == nil || !plan.IsPlan() {
			return ExecResult{}, &UsageError{fmt.Errorf("--task %s --item %d: the run has no plan of %s: run --task %s --plan first", t.ID, opt.Item, t.ID, t.ID)}
		}
		if opt.Item >= len(plan.Items) {
			return ExecResult{}, &UsageError{fmt.Errorf("--item %d: the plan of %s has %d instances (0 to %d)", opt.Item, t.ID, len(plan.Items), len(plan.Items)-1)}
		}
		id = fmt.Sprintf("%s[%d]", t.ID, opt.Item)
		instance = &scheduler.Instance{Task: t.ID, Index: opt.Item, Item: plan.Items[opt.Item]}
		if plan.Masked {
			return x.refuse(ctx, id, fmt.Sprintf("the for_each list of %s held a secret: the run store never keeps a secret (it holds ***), so no instance can read its item on another machine. Give the instances the secret through the environment instead (runner export --secret NAME), not through the list", t.ID))
		}
	}
	done, err := x.store.Get(ctx, x.run.ID, id)
	if err != nil {
		return ExecResult{}, &UsageError{err}
	}
	if opt.Plan && done != nil && done.IsPlan() && done.Status != state.Failed && done.Status != state.Cancelled {
		if opt.MaxItems > 0 && *done.Count > opt.MaxItems {
			return ExecResult{}, &UsageError{fmt.Errorf("--max-items %d: %s was planned already in run %s with %d instances", opt.MaxItems, t.ID, x.run.ID, *done.Count)}
		}
		// A retried plan says what the first one decided: the list is
		// never decided twice (a glob elsewhere may give another).
		opt.Log(fmt.Sprintf("%s was planned already in run %s: %d instances", t.ID, x.run.ID, *done.Count))
		return x.planned(done, nil)
	}
	if !opt.Plan && done != nil && done.Status == state.Succeeded && !done.Masked {
		opt.Log(fmt.Sprintf("%s succeeded already in run %s: not run again", id, x.run.ID))
		x.githubOutput("status", string(state.Succeeded))
		return ExecResult{Status: state.Succeeded, Record: done}, nil
	}
	settled, files, err := x.settled(ctx)
	if err != nil {
		return ExecResult{}, &UsageError{err}
	}
	if msg := maskedReads(t, settled); msg != "" {
		return x.refuse(ctx, id, msg)
	}
	if err := x.store.Download(ctx, x.run.ID, files, x.dir); err != nil {
		return ExecResult{}, &UsageError{fmt.Errorf("fetch the files of the tasks %s needs: %w", t.ID, err)}
	}
	scope, environ, err := prepareScope(x.r, Options{Environ: opt.Environ}, opt.Masker, x.run.ID, x.run.Started, x.abs)
	if err != nil {
		return ExecResult{}, &UsageError{err}
	}
	sched := scheduler.Options{
		Jobs: 1, Only: []string{t.ID}, Scope: scope, Environ: environ, Masker: opt.Masker, Now: opt.Now, Sink: opt.Sink,
		Run:     state.Run{ID: x.run.ID, Recipe: x.abs, Name: x.r.Name, Digest: x.r.Digest, Started: x.run.Started},
		Settled: settled, Instance: instance,
	}
	groups := &execProcesses{live: map[int]bool{}}
	sched.Processes = groups
	defer killOn(opt.Kill, groups.killAll)()
	if opt.Plan {
		sched.DecideOnly, sched.MaxItems = t.ID, opt.MaxItems
	}
	res, err := scheduler.Execute(ctx, x.r, sched)
	if err != nil {
		return ExecResult{}, err
	}
	// Whatever happens to this process now, the record is written.
	wctx := context.WithoutCancel(ctx)
	if opt.Plan {
		return x.planned(x.planRecord(res.Run), func(rec *runstore.Record) error { return x.store.Put(wctx, x.run.ID, rec) })
	}
	st := res.Run.Task(id)
	if st == nil {
		// An instance whose task was decided whole (never, after a plan
		// that fanned out; kept for a record that changed in between).
		st = res.Run.Task(t.ID)
	}
	rec := &runstore.Record{Task: *st}
	rec.ID = id
	if rec.Status == state.Succeeded {
		sh, err := x.store.Upload(wctx, x.run.ID, x.dir, rec.Outputs)
		if err != nil {
			rec.Status, rec.Error = state.Failed, opt.Masker.String(err.Error())
		} else {
			rec.Outputs, rec.Files = sh.Outputs, sh.Files
			if len(sh.Outside) > 0 {
				opt.Log(fmt.Sprintf("%s: %d output paths are outside the working folder %s (%s…); they stay on this machine and do not travel to other steps",
					id, len(sh.Outside), x.dir, sh.Outside[0]))
			}
		}
	}
	if err := x.store.Put(wctx, x.run.ID, rec); err != nil {
		return ExecResult{Status: rec.Status}, err
	}
	x.githubOutput("status", string(rec.Status))
	return ExecResult{Status: rec.Status, Record: rec}, x.outcome(ctx, id, rec.Status)
}

// maskedReads says why t cannot run here when it reads the outputs of a
// need whose record was masked: they held a secret, which the store never
// keeps, so on this machine they read "***". apply runs such a task again
// when it resumes; exec cannot, so the task fails saying how to pass the
// secret instead. "" when t reads no masked output.
func maskedReads(t *recipe.Task, settled map[string]scheduler.Settled) string {
	for _, e := range t.Exprs() {
		for _, ref := range e.Tasks {
			if ref.Field == "status" {
				continue
			}
			s, ok := settled[ref.Task]
			if !ok || !masked(s) {
				continue
			}
			return fmt.Sprintf("%s reads tasks.%s.outputs, which held a secret: the run store never keeps a secret (it holds ***), so no other machine can read them. Give %s the secret through the environment instead (runner export --secret NAME), not through %s's outputs", t.ID, ref.Task, t.ID, ref.Task)
		}
	}
	return ""
}

// masked reports whether a settled task's outputs, or an instance's, were
// masked.
func masked(s scheduler.Settled) bool {
	if s.Task != nil && s.Task.Masked {
		return true
	}
	for _, in := range s.Instances {
		if in != nil && in.Masked {
			return true
		}
	}
	return false
}

// refuse records the step's task (or plan) as failed for reason, without
// running it.
func (x *stepRun) refuse(ctx context.Context, id, reason string) (ExecResult, error) {
	now := x.opt.Now()
	rec := &runstore.Record{Task: state.Task{ID: id, Status: state.Failed, Error: x.opt.Masker.String(reason), Started: &now, Finished: &now}}
	x.opt.Log(id + ": " + rec.Error)
	wctx := context.WithoutCancel(ctx)
	if x.opt.Plan {
		zero := 0
		rec.Count = &zero
		return x.planned(rec, func(rec *runstore.Record) error { return x.store.Put(wctx, x.run.ID, rec) })
	}
	if err := x.store.Put(wctx, x.run.ID, rec); err != nil {
		return ExecResult{Status: rec.Status}, err
	}
	x.githubOutput("status", string(rec.Status))
	return ExecResult{Status: rec.Status, Record: rec}, x.outcome(ctx, id, rec.Status)
}

// outcome is the error of a step that ended with status: none for a
// success, a skip, or a failure under continue_on_error (a success to
// what needs it).
func (x *stepRun) outcome(ctx context.Context, id string, status state.Status) error {
	switch {
	case status == state.Succeeded, status == state.Skipped:
		return nil
	case status == state.Failed && x.t.ContinueOnError:
		return nil
	case status == state.Cancelled:
		return &ExecError{Task: id, Status: status, Interrupted: ctx.Err() != nil}
	}
	return &ExecError{Task: id, Status: status}
}

// settled reads the records of every task the step's task needs, directly
// or not, with the files they list.
func (x *stepRun) settled(ctx context.Context) (map[string]scheduler.Settled, []runstore.File, error) {
	g := x.r.Graph()
	out := map[string]scheduler.Settled{}
	var files []runstore.File
	for a := range g.Ancestors(g.Index(x.t.ID)) {
		id := g.IDs()[a]
		rec, err := x.store.Get(ctx, x.run.ID, id)
		if err != nil {
			return nil, nil, err
		}
		if rec == nil {
			out[id] = scheduler.Settled{}
			continue
		}
		files = append(files, rec.Files...)
		s := scheduler.Settled{Task: x.local(rec)}
		if rec.IsPlan() && rec.Status == state.Running {
			insts, err := x.store.Instances(ctx, x.run.ID, rec)
			if err != nil {
				return nil, nil, err
			}
			s.Items = rec.Items
			s.Instances = make([]*state.Task, len(insts))
			for i, in := range insts {
				if in != nil {
					files = append(files, in.Files...)
					s.Instances[i] = x.local(in)
				}
			}
		}
		out[id] = s
	}
	return out, files, nil
}

// local is a record as this machine's tasks see it: paths under its own
// working folder.
func (x *stepRun) local(rec *runstore.Record) *state.Task {
	t := rec.Task
	t.Outputs = runstore.Localize(t.Outputs, rec.Files, x.dir)
	return &t
}

// planRecord is the plan of the step's task from a walk with DecideOnly.
func (x *stepRun) planRecord(run *state.Run) *runstore.Record {
	st := run.Task(x.t.ID)
	rec := &runstore.Record{Task: *st}
	items := []any{}
	if st.Status == state.Running {
		rec.Outputs = nil // the instances' records hold them
		for i := 0; ; i++ {
			in := run.Task(fmt.Sprintf("%s[%d]", x.t.ID, i))
			if in == nil {
				break
			}
			items = append(items, in.Item)
		}
	}
	n := len(items)
	rec.Items, rec.Count = items, &n
	if n == 0 && st.Status == state.Running {
		rec.Status = state.Succeeded
	}
	return rec
}

// planned writes a plan record (when put is not nil), prints its indexes
// and reports its outcome.
func (x *stepRun) planned(rec *runstore.Record, put func(*runstore.Record) error) (ExecResult, error) {
	if put != nil {
		if err := put(rec); err != nil {
			return ExecResult{Status: rec.Status}, err
		}
	}
	indexes := []int{}
	if rec.Status == state.Running {
		for i := 0; i < *rec.Count; i++ {
			indexes = append(indexes, i)
		}
	}
	line, _ := json.Marshal(indexes)
	fmt.Fprintf(x.opt.Stdout, "%s\n", line)
	x.githubOutput("status", string(rec.Status), "items", string(line), "count", fmt.Sprint(len(indexes)))
	status := rec.Status
	if status == state.Running {
		status = state.Succeeded // decided: the instances run next
	}
	return ExecResult{Status: rec.Status, Indexes: indexes, Record: rec}, x.outcome(context.Background(), x.t.ID, status)
}

// githubOutput appends name=value lines to GitHub Actions' job outputs
// file, when there is one. A failure to write is noted, not the task's.
func (x *stepRun) githubOutput(kv ...string) {
	if err := writeGitHubOutput(x.opt.GitHubOutput, kv...); err != nil {
		x.opt.Log(fmt.Sprintf("GITHUB_OUTPUT: %v", err))
	}
}

// writeGitHubOutput appends name=value lines to GitHub Actions' job
// outputs file, when there is one.
func writeGitHubOutput(file string, kv ...string) error {
	if file == "" {
		return nil
	}
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, "%s=%s\n", kv[i], kv[i+1])
	}
	f, err := os.OpenFile(file, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// execProcesses knows the process groups an exec's task runs, so that a
// second interrupt kills them at once: apply's lock keeps that record for a
// run, and exec takes no lock (its steps may share a machine).
type execProcesses struct {
	mu     sync.Mutex
	live   map[int]bool
	killed bool // killAll was called: a group that starts later dies at once
}

// Started records a process group; the function returned forgets it.
func (p *execProcesses) Started(_ string, pgid int, _ string) func() {
	p.mu.Lock()
	p.live[pgid] = true
	killed := p.killed
	p.mu.Unlock()
	if killed {
		procgroup.Kill(pgid)
	}
	return func() {
		p.mu.Lock()
		delete(p.live, pgid)
		p.mu.Unlock()
	}
}

// Running reports whether pid leads a group of the task that has not ended.
func (p *execProcesses) Running(pid int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.live[pid]
}

func (p *execProcesses) killAll() {
	p.mu.Lock()
	p.killed = true
	ids := make([]int, 0, len(p.live))
	for id := range p.live {
		ids = append(ids, id)
	}
	p.mu.Unlock()
	for _, id := range ids {
		procgroup.Kill(id)
	}
}
