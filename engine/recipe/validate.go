package recipe

import (
	"fmt"
	"strings"

	"github.com/novelfactory/runner/engine/dag"
	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/internal/quote"
)

// validate checks what needs the whole recipe: the graph, and what every
// expression refers to.
func (l *loader) validate(r *Recipe) {
	ids := make([]string, len(r.Tasks))
	for i, t := range r.Tasks {
		ids[i] = t.ID
	}
	needs := map[string][]string{}
	for _, t := range r.Tasks {
		for i, n := range t.Needs {
			p := t.Pos
			if i < len(t.NeedsPos) {
				p = t.NeedsPos[i]
			}
			switch {
			case n == t.ID:
				l.diags.Add(p.File, p.Line, p.Col, "task %q needs itself", t.ID)
			case r.Task(n) == nil:
				l.diags.Add(p.File, p.Line, p.Col, "task %q needs unknown task %q%s", t.ID, n, diag.DidYouMean(n, ids))
			default:
				needs[t.ID] = append(needs[t.ID], n)
			}
		}
	}
	g, err := dag.New(ids, needs)
	if err != nil {
		l.diags.Add(r.Path, 0, 0, "%v", err)
		return
	}
	for _, c := range g.Cycles() {
		t := r.Task(c[0])
		l.diags.Add(t.Pos.File, t.Pos.Line, t.Pos.Col, "cycle in needs: %s", strings.Join(c, " → "))
	}
	varNames := make([]string, len(r.Vars))
	for i, v := range r.Vars {
		varNames[i] = v.Name
	}
	checkVars := func(es []*eval.Expr) {
		for _, e := range es {
			for _, name := range e.Vars {
				if r.Var(name) == nil {
					p := l.exprPos[e]
					l.diags.Add(p.File, p.Line, p.Col, "vars.%s is not declared%s; declared vars: %s",
						name, diag.DidYouMean(name, varNames), diag.Names(varNames))
				}
			}
		}
	}
	for _, v := range r.Vars {
		checkVars(v.Value.Exprs())
	}
	for _, e := range r.Env {
		checkVars(e.Value.Exprs())
	}
	for _, s := range r.Secrets {
		if r.Var(s) == nil {
			p := l.secretPos[s]
			if p.File == "" {
				p.File = r.Path
			}
			l.diags.Add(p.File, p.Line, p.Col, "secrets: %s is not a declared var%s", quote.Text(s), diag.DidYouMean(s, varNames))
		}
	}
	for i, t := range r.Tasks {
		es := t.Exprs()
		checkVars(es)
		var ancestors map[int]bool // computed only for tasks that read others
		for _, e := range es {
			for _, ref := range e.Tasks {
				if ancestors == nil {
					ancestors = g.Ancestors(i)
				}
				l.checkRef(r, g, t, ancestors, e, ref, ids)
			}
		}
	}
}

// Exprs returns every expression of the task: in its with, its if and its
// for_each.
func (t *Task) Exprs() []*eval.Expr {
	var es []*eval.Expr
	if t.With != nil {
		es = append(es, t.With.Exprs()...)
	}
	if t.If != nil {
		es = append(es, t.If)
	}
	if t.ForEach != nil {
		es = append(es, t.ForEach.Exprs()...)
	}
	return es
}

func (l *loader) checkRef(r *Recipe, g *dag.Graph, t *Task, ancestors map[int]bool, e *eval.Expr, ref eval.Ref, ids []string) {
	p, ok := l.exprPos[e]
	if !ok {
		p = t.Pos
	}
	other := r.Task(ref.Task)
	switch {
	case other == nil:
		l.diags.Add(p.File, p.Line, p.Col, "task %q reads tasks.%s, but there is no such task%s", t.ID, ref.Task, diag.DidYouMean(ref.Task, ids))
		return
	case other == t:
		l.diags.Add(p.File, p.Line, p.Col, "task %q reads its own outputs", t.ID)
		return
	case !ancestors[g.Index(ref.Task)]:
		l.diags.Add(p.File, p.Line, p.Col, "task %q reads tasks.%s but does not need it: add %q to its needs", t.ID, ref.Task, ref.Task)
		return
	}
	switch ref.Field {
	case "", "outputs", "status":
	default:
		l.diags.Add(p.File, p.Line, p.Col, "tasks.%s.%s: a task has only outputs and status", ref.Task, ref.Field)
		return
	}
	if ref.Field != "outputs" || ref.Key == "" || other.Type == nil || other.ForEach != nil {
		return
	}
	var names []string
	for _, o := range other.Type.Outputs {
		if o.Name == ref.Key {
			return
		}
		names = append(names, o.Name)
	}
	l.diags.Add(p.File, p.Line, p.Col, "%s tasks have no output %q%s; outputs: %s",
		other.Uses, ref.Key, diag.DidYouMean(ref.Key, names), strings.Join(names, ", "))
}

// Graph builds the task graph of a validated recipe.
func (r *Recipe) Graph() *dag.Graph {
	ids := make([]string, len(r.Tasks))
	needs := map[string][]string{}
	for i, t := range r.Tasks {
		ids[i] = t.ID
		needs[t.ID] = t.Needs
	}
	g, err := dag.New(ids, needs)
	if err != nil {
		panic(fmt.Sprintf("graph of a validated recipe: %v", err)) // validated above
	}
	return g
}
