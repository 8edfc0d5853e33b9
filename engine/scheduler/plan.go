package scheduler

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/quote"
)

// Would-be outcomes of a task in a plan.
const (
	WouldRun   = "run"
	WouldSkip  = "skip"
	WouldReuse = "reuse"
	WouldFail  = "fail"
)

// PlannedTask is what a dry run says of one task or instance.
type PlannedTask struct {
	ID      string   `json:"id"`
	Uses    string   `json:"uses"`
	Needs   []string `json:"needs,omitempty"`
	Would   string   `json:"would"`            // run, skip, reuse or fail
	If      string   `json:"if,omitempty"`     // the condition and what it gave
	Params  any      `json:"params,omitempty"` // resolved params; unknowns as "(known after run)"
	Summary string   `json:"summary,omitempty"`
	Reason  string   `json:"reason,omitempty"` // why it would be skipped or fail
}

type plannedOutputs struct {
	outputs  map[string]any
	complete bool // every output of the task is known
	skipped  bool
}

// Plan computes what Execute would do, changing nothing: conditions and
// params are resolved as far as they can be before running, and each task
// type's Plan describes its action.
func Plan(ctx context.Context, r *recipe.Recipe, opt Options) ([]PlannedTask, error) {
	x := &execution{opt: opt, r: r, graph: r.Graph()}
	selected := x.selection()
	order, err := x.graph.Order()
	if err != nil {
		return nil, err
	}
	known := map[string]*plannedOutputs{}
	scope := *opt.Scope
	scope.Known = func(ref eval.Ref) bool {
		p, ok := known[ref.Task]
		if !ok || p.skipped || ref.Field != "outputs" {
			return false
		}
		if ref.Key == "" {
			return p.complete
		}
		_, ok = p.outputs[ref.Key]
		return ok
	}
	x.opt.Scope = &scope
	var plan []PlannedTask
	for _, id := range order {
		t := r.Task(id)
		base := PlannedTask{ID: id, Uses: t.Uses, Needs: t.Needs}
		po := &plannedOutputs{}
		known[id] = po
		skip := func(reason string) {
			base.Would, base.Reason = WouldSkip, reason
			po.skipped = true
			plan = append(plan, base)
		}
		if !selected[x.graph.Index(id)] {
			skip("not selected by --only")
			continue
		}
		if n := skippedNeed(t, known); n != "" && (t.If == nil || !t.If.UsesAlways) {
			skip(fmt.Sprintf("needs %s, which would be skipped", n))
			continue
		}
		if prev := x.previous(id); prev != nil && t.ForEach == nil {
			base.Would, base.Reason = WouldReuse, "succeeded in run "+opt.Previous.ID
			po.outputs, _ = prev.Outputs.(map[string]any)
			po.complete = true
			scope.Tasks[id] = eval.TaskView{Outputs: prev.Outputs, Status: string(prev.Status)}
			plan = append(plan, base)
			continue
		}
		if t.If != nil && !t.If.UsesItem {
			if planCondition(t.If, &scope, &base); base.Would == WouldSkip {
				skip(base.Reason)
				continue
			} else if base.Would == WouldFail {
				plan = append(plan, base)
				continue
			}
		}
		if t.ForEach == nil {
			p, outs := x.planUnit(ctx, t, base, &scope, nil, -1)
			plan = append(plan, p)
			po.outputs, po.complete = outs, outs != nil
			if p.Would == WouldSkip {
				po.skipped = true
			}
			scope.Tasks[id] = eval.TaskView{Outputs: outs}
			continue
		}
		v, err := t.ForEach.Eval(&scope)
		items, isList := asList(v)
		switch {
		case err != nil:
			base.Would, base.Reason = WouldFail, "for_each: "+err.Error()
			plan = append(plan, base)
			continue
		case isUnknown(v):
			u := base
			u.ID = id + "[*]"
			u.Reason = "for_each: the list is known after run"
			p, _ := x.planUnit(ctx, t, u, &scope, eval.Unknown{Source: "item"}, 0)
			plan = append(plan, p)
			continue
		case !isList:
			base.Would, base.Reason = WouldFail, fmt.Sprintf("for_each gave %s, not a list", quote.Cut(eval.Text(v)))
			plan = append(plan, base)
			continue
		case len(items) > MaxInstances:
			base.Would, base.Reason = WouldFail, tooMany(len(items)).Error()
			plan = append(plan, base)
			continue
		}
		var all []any
		complete := true
		for i, item := range items {
			u := base
			u.ID = fmt.Sprintf("%s[%d]", id, i)
			p, outs := x.planUnit(ctx, t, u, &scope, item, i)
			plan = append(plan, p)
			all = append(all, outs)
			complete = complete && outs != nil
		}
		po.complete = complete
		scope.Tasks[id] = eval.TaskView{Outputs: all}
	}
	return plan, nil
}

// planCondition evaluates a task's if for a plan: it records the result in
// p.If, and sets p.Would to skip (false) or fail (an error). A condition
// that reads outputs not known yet is shown as such and does not skip.
func planCondition(cond *eval.Expr, scope *eval.Scope, p *PlannedTask) {
	v, err := cond.Eval(scope)
	if err == nil && isUnknown(v) {
		p.If = cond.Source + " → known after run"
		return
	}
	ok := false
	if err == nil {
		ok, err = cond.Bool(scope)
	}
	if err != nil {
		p.Would, p.Reason = WouldFail, "if: "+err.Error()
		return
	}
	p.If = fmt.Sprintf("%s → %t", cond.Source, ok)
	if !ok {
		p.Would, p.Reason = WouldSkip, "if: "+cond.Source+" is false"
	}
}

func skippedNeed(t *recipe.Task, known map[string]*plannedOutputs) string {
	for _, n := range t.Needs {
		if known[n].skipped {
			return n
		}
	}
	return ""
}

func isUnknown(v any) bool { _, ok := v.(eval.Unknown); return ok }

// planUnit resolves one instance's params and asks its type what it would do.
func (x *execution) planUnit(ctx context.Context, t *recipe.Task, p PlannedTask, base *eval.Scope, item any, index int) (PlannedTask, map[string]any) {
	scope := *base
	scope.Item, scope.Index = item, index
	p.Would = WouldRun
	if t.If != nil && t.If.UsesItem {
		if planCondition(t.If, &scope, &p); p.Would != WouldRun {
			return p, nil
		}
	}
	var with any
	if t.With != nil {
		v, err := t.With.Eval(&scope)
		if err != nil {
			p.Would, p.Reason = WouldFail, "with: "+err.Error()
			return p, nil
		}
		with = v
	}
	p.Params = with
	if eval.HasUnknown(with) {
		p.Summary = "details known after run (params depend on outputs of earlier tasks)"
		return p, nil
	}
	params, err := t.Type.Decode(with, t.Dir)
	if err != nil {
		p.Would, p.Reason = WouldFail, err.Error()
		return p, nil
	}
	env := &tasktype.Env{
		RunID: x.opt.Scope.Run.ID, Recipe: x.r.Name,
		TaskID: p.ID, Dir: t.Dir, Environ: x.opt.Environ,
		Log: io.Discard, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Progress: nopProgress{}, Secrets: x.opt.Masker,
	}
	plan, err := t.Type.Plan(ctx, env, params)
	if err != nil {
		p.Would, p.Reason = WouldFail, err.Error()
		return p, nil
	}
	p.Summary = plan.Summary
	if plan.Outputs == nil {
		return p, nil
	}
	return p, plan.Outputs
}

type nopProgress struct{}

func (nopProgress) Progress(int64, int64) {}
