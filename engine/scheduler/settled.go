package scheduler

import (
	"container/heap"
	"context"
	"fmt"

	"github.com/novelfactory/runner/engine/state"
)

// Settled is the record of a task decided elsewhere: a plain task's, or a
// for_each task's plan with the records of its instances.
type Settled struct {
	// Task is the task's record. A for_each task that fanned out is
	// Running, with its instances in Instances; one that did not (skipped,
	// failed, an empty list) is recorded as it ended.
	Task *state.Task
	// Instances are a fanned-out task's instances, by index; a nil one
	// did not run (it counts as skipped, as a task with no record does).
	Instances []*state.Task
	// Items are a fanned-out task's items, by index, as its plan decided.
	Items []any
}

// Instance is one instance of a for_each task to run on its own.
type Instance struct {
	Task  string // the for_each task's id
	Index int
	Item  any // as the task's plan recorded it
}

// NotRun is the reason of a task or instance that has no record: it did
// not run, and counts as skipped.
const NotRun = "did not run (no record of it in the run's store)"

// settle finishes a task decided elsewhere with its record, as if this
// walk had run it: a fanned-out task through its instances, so that its
// status and outputs are aggregated by the same rules.
func (x *execution) settle(ctx context.Context, g *group, s Settled) {
	rec := s.Task
	if rec == nil {
		rec = &state.Task{Status: state.Skipped, Reason: NotRun}
	}
	if rec.Status != state.Running || g.task.ForEach == nil {
		x.mu.Lock()
		*g.st = *rec
		g.st.ID = g.task.ID
		x.mu.Unlock()
		status := rec.Status
		if !status.Terminal() {
			// Running or pending with no instances: it never finished.
			status = state.Cancelled
		}
		u := &unit{g: g, id: g.task.ID, index: -1, st: g.st, settled: true}
		g.units, g.open = []*unit{u}, 1
		x.finishUnit(ctx, u, nil, status, nil, rec.Reason) // its outputs are in g.st
		return
	}
	x.mu.Lock()
	*g.st = *rec
	g.st.ID = g.task.ID
	g.units = nil
	for i, item := range s.Items {
		id := fmt.Sprintf("%s[%d]", g.task.ID, i)
		st := x.record(id)
		*st = state.Task{ID: id, Status: state.Skipped, Reason: NotRun, Item: item}
		if i < len(s.Instances) && s.Instances[i] != nil {
			*st = *s.Instances[i]
			st.ID = id
		}
		g.units = append(g.units, &unit{g: g, id: id, index: i, item: item, st: st, settled: true})
	}
	g.open, g.fanned = len(g.units), true
	x.mu.Unlock()
	if len(g.units) == 0 {
		// A plan that fanned out to nothing is an empty list: succeeded.
		x.mu.Lock()
		g.st.Outputs = []any{}
		x.mu.Unlock()
		u := &unit{g: g, id: g.task.ID, index: -1, st: g.st, settled: true}
		g.units, g.open, g.fanned = []*unit{u}, 1, false
		x.finishUnit(ctx, u, nil, state.Succeeded, nil, "for_each gave an empty list")
		return
	}
	for _, u := range g.units {
		x.mu.Lock()
		status, reason := u.st.Status, u.st.Reason
		x.mu.Unlock()
		if !status.Terminal() {
			status, reason = state.Cancelled, "it never finished (its record says "+string(status)+")"
		}
		x.finishUnit(ctx, u, nil, status, nil, reason)
	}
}

// runInstance queues the one instance of a for_each task that
// Options.Instance names, with its planned item.
func (x *execution) runInstance(g *group, in *Instance) {
	id := fmt.Sprintf("%s[%d]", g.task.ID, in.Index)
	x.mu.Lock()
	g.st.Status = state.Running
	st := x.record(id)
	*st = state.Task{ID: id, Status: state.Pending, Item: in.Item}
	u := &unit{g: g, id: id, index: in.Index, item: in.Item, st: st}
	g.units, g.open, g.fanned = []*unit{u}, 1, true
	x.mu.Unlock()
	heap.Push(&x.ready, u)
}
