package scheduler

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
)

// Would-be outcomes of a task in a plan.
const (
	WouldRun   = "run"
	WouldSkip  = "skip"
	WouldReuse = "reuse"
	WouldFail  = "fail"
	// WouldSucceed is a task that succeeds without running anything: its
	// for_each list is empty.
	WouldSucceed = "succeed"
)

// PlannedTask is what a dry run says of one task or instance.
type PlannedTask struct {
	ID      string   `json:"id"`
	Uses    string   `json:"uses"`
	Needs   []string `json:"needs,omitempty"`
	Would   string   `json:"would"`            // run, skip, reuse, fail or succeed
	If      string   `json:"if,omitempty"`     // the condition and what it gave
	Params  any      `json:"params,omitempty"` // resolved params; unknowns as "(known after run)"
	Summary string   `json:"summary,omitempty"`
	Reason  string   `json:"reason,omitempty"` // why it would be skipped, fail or succeed
}

// knowledge is what a dry run knows of a finished task, for the
// expressions of the tasks after it. A task that would run has a status
// known only after running (it may fail), and of its outputs only those
// its type predicted; a task that would not run is known whole.
type knowledge struct {
	status   bool           // its status is what it will be
	all      bool           // its outputs are what they will be
	complete bool           // its outputs may be read whole (all, or a prediction of each instance)
	outputs  map[string]any // outputs predicted by name
}

// known is a dry run's eval.Scope.Known: whether an expression may read
// ref now, or must give eval.Unknown.
func (x *execution) known(ref eval.Ref) bool {
	i := x.graph.Index(ref.Task)
	if i < 0 || !x.groups[i].done {
		return false
	}
	k := x.groups[i].known
	switch ref.Field {
	case "status":
		return k.status
	case "outputs":
		if ref.Key == "" {
			return k.complete
		}
		_, ok := k.outputs[ref.Key]
		return k.all || ok
	}
	return k.status && k.all
}

// learn says what a dry run knows of a finished task.
func (g *group) learn() knowledge {
	k := knowledge{status: true, all: true, complete: true}
	for _, u := range g.units {
		if u.ran {
			k.status, k.all = false, false
			if u.st.Outputs == nil {
				k.complete = false
			}
		}
	}
	if g.unknown {
		k.status, k.all, k.complete = false, false, false
	}
	if g.st.Status == state.Failed {
		k.status = true // an instance that would fail fails the task, whatever the others do
	}
	if !g.fanned && !k.all {
		k.outputs, _ = g.st.Outputs.(map[string]any)
	}
	return k
}

// condition evaluates an `if`. In a dry run, a condition that reads what
// is known only after running holds — the task may run, so the plan says
// it would — and note records for the plan what the condition gave.
func (x *execution) condition(cond *eval.Expr, scope *eval.Scope, note *string) (bool, error) {
	if !x.opt.DryRun {
		return cond.Bool(scope)
	}
	v, err := cond.Eval(scope)
	if err == nil && isUnknown(v) {
		*note = cond.Source + " → known after run"
		return true, nil
	}
	ok := false
	if err == nil {
		ok, err = cond.Bool(scope)
	}
	if err != nil {
		return false, err
	}
	*note = fmt.Sprintf("%s → %t", cond.Source, ok)
	return ok, nil
}

func isUnknown(v any) bool { _, ok := v.(eval.Unknown); return ok }

// fanOutUnknown queues the one instance a dry run can say anything of
// when a for_each list is known only after running: <id>[*], whose item
// is unknown.
func (x *execution) fanOutUnknown(g *group) {
	id := g.task.ID + "[*]"
	u := &unit{g: g, id: id, index: 0, item: eval.Unknown{Source: "item"}, st: &state.Task{ID: id, Status: state.Pending},
		note: "for_each: the list is known after run"}
	g.units, g.open, g.fanned, g.unknown = []*unit{u}, 1, true, true
	g.st.Status = state.Running
	heap.Push(&x.ready, u)
}

// planUnit asks an instance's type what it would do: the action of a dry
// run. An error from its Plan means the instance would fail.
func (x *execution) planUnit(ctx context.Context, u *unit, p prepared) result {
	t := u.g.task
	env := &tasktype.Env{
		RunID: x.run.ID, Recipe: x.r.Name,
		TaskID: u.id, Dir: t.Dir, Started: x.started(), Environ: x.opt.Environ,
		Log: io.Discard, Logger: slog.New(slog.DiscardHandler),
		Progress: nopProgress{}, Secrets: x.opt.Masker,
	}
	var plan tasktype.Plan
	err := x.attempt(ctx, t, func(ctx context.Context) (err error) {
		plan, err = p.typ.Plan(ctx, env, p.params)
		return err
	})
	switch {
	case err != nil && ctx.Err() != nil:
		return result{u: u, err: err, status: state.Cancelled}
	case err != nil && errors.Is(err, fs.ErrNotExist) && x.upstreamWouldRun(x.graph.Index(t.ID), map[int]bool{}):
		// A file it reads is not there yet; a task before it that would
		// run may well make it (a dump, a build, a clone): the plan cannot
		// look now, as Terraform's "known after apply", rather than fail.
		return result{u: u, status: state.Succeeded, summary: "cannot look now: " + err.Error() + " (an earlier task that would run may make it)"}
	case err != nil:
		return result{u: u, err: err, status: state.Failed}
	}
	return result{u: u, outputs: plan.Outputs, status: state.Succeeded, summary: plan.Summary}
}

// upstreamWouldRun reports whether a task that task i needs, directly or
// through others, would run in this dry run.
func (x *execution) upstreamWouldRun(i int, seen map[int]bool) bool {
	for _, n := range x.graph.Needs(i) {
		if seen[n] {
			continue
		}
		seen[n] = true
		for _, u := range x.groups[n].units {
			if u.ran {
				return true
			}
		}
		if x.upstreamWouldRun(n, seen) {
			return true
		}
	}
	return false
}

type nopProgress struct{}

func (nopProgress) Progress(int64, int64) {}

// plan lists what a dry run decided: each task in execution order, or
// its instances when it fans out.
func (x *execution) plan() []PlannedTask {
	order, err := x.graph.Order()
	if err != nil {
		order = x.graph.IDs() // a validated recipe has no cycle
	}
	plan := make([]PlannedTask, 0, len(order))
	for _, id := range order {
		g := x.groups[x.graph.Index(id)]
		if len(g.units) == 0 {
			plan = append(plan, x.planned(g, nil))
			continue
		}
		for _, u := range g.units {
			plan = append(plan, x.planned(g, u))
		}
	}
	return plan
}

// planned says what a dry run decided of a task, or of one of its units.
func (x *execution) planned(g *group, u *unit) PlannedTask {
	t := g.task
	p := PlannedTask{ID: t.ID, Uses: t.Uses, Needs: t.Needs, If: g.ifNote}
	st := g.st
	if u != nil {
		p.ID, st = u.id, u.st
		if u.ifNote != "" {
			p.If = u.ifNote
		}
		p.Params, p.Summary, p.Reason = u.params, u.summary, u.note
	}
	switch {
	case st.Error != "":
		p.Reason = st.Error
	case st.Reason != "":
		p.Reason = st.Reason
	}
	switch {
	case st.Status == state.Failed:
		p.Would = WouldFail
	case st.Status != state.Succeeded:
		p.Would = WouldSkip
		if p.Reason == "" {
			p.Reason = "the plan was interrupted"
		}
	case u != nil && u.reused:
		p.Would = WouldReuse
	case u != nil && u.ran:
		p.Would = WouldRun
	default:
		p.Would = WouldSucceed
	}
	return p
}
