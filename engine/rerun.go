package engine

import (
	"fmt"
	"strings"

	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/quote"
)

// forget returns a copy of the run being resumed in which the tasks ids
// (and, with downstream, every task that needs one of them, directly or
// not) are no longer recorded as succeeded, so that the resumed run runs
// them again. The rest keep their records: a retry of one task reuses the
// outputs of all the others.
func forget(r *recipe.Recipe, previous *state.Run, ids []string, downstream bool) (*state.Run, error) {
	again := map[string]bool{}
	for _, id := range ids {
		if r.Task(id) == nil {
			names := make([]string, len(r.Tasks))
			for i, t := range r.Tasks {
				names[i] = t.ID
			}
			return nil, fmt.Errorf("--rerun %s: no such task in %s%s", quote.Cut(id), r.Path, diag.DidYouMean(id, names))
		}
		again[id] = true
	}
	if downstream {
		// Tasks are in file order, not graph order: repeat until nothing
		// is added (a graph has at most len(Tasks) levels).
		for changed := true; changed; {
			changed = false
			for _, t := range r.Tasks {
				if again[t.ID] {
					continue
				}
				for _, n := range t.Needs {
					if again[n] {
						again[t.ID], changed = true, true
						break
					}
				}
			}
		}
	}
	copied := *previous
	copied.Tasks = make([]*state.Task, 0, len(previous.Tasks))
	for _, t := range previous.Tasks {
		base, _, _ := strings.Cut(t.ID, "[")
		if again[base] {
			continue // no record: the task runs as if for the first time
		}
		copied.Tasks = append(copied.Tasks, t)
	}
	return &copied, nil
}
