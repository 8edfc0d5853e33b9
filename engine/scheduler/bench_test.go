package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
)

type noopParams struct {
	Value string `yaml:"value" json:"value"`
}

// wideDAG writes a recipe of width×depth tasks of the given type: each task
// of a layer needs every task of the layer before.
func wideDAG(uses string, width, depth int) string {
	var b strings.Builder
	b.WriteString("version: 1\ntasks:\n")
	for d := 0; d < depth; d++ {
		for w := 0; w < width; w++ {
			fmt.Fprintf(&b, "  t%d_%d:\n    uses: %s\n    with: {value: \"%d\"}\n", d, w, uses, w)
			if d > 0 {
				needs := make([]string, width)
				for i := range needs {
					needs[i] = fmt.Sprintf("t%d_%d", d-1, i)
				}
				fmt.Fprintf(&b, "    needs: [%s]\n", strings.Join(needs, ", "))
			}
		}
	}
	return b.String()
}

// BenchmarkEngineOverhead runs 1,000 tasks of an in-process no-op type in a
// 10-wide DAG, so everything measured is the engine's own work: evaluating
// params, decoding, scheduling, events and (with state) keeping state.json.
func BenchmarkEngineOverhead(b *testing.B) {
	reg := tasktype.NewRegistry()
	tasktype.Add(reg, tasktype.Def[noopParams]{
		Name: "noop",
		Plan: func(context.Context, *tasktype.Env, *noopParams) (tasktype.Plan, error) { return tasktype.Plan{}, nil },
		Run: func(_ context.Context, _ *tasktype.Env, p *noopParams) (tasktype.Outputs, error) {
			return tasktype.Outputs{"value": p.Value}, nil
		},
	})
	path := filepath.Join(b.TempDir(), "dag.yaml")
	os.WriteFile(path, []byte(wideDAG("noop", 10, 100)), 0o644)
	r, err := recipe.Load(path, recipe.Options{Registry: reg})
	if err != nil {
		b.Fatal(err)
	}
	for _, withState := range []bool{false, true} {
		name := "no-state"
		if withState {
			name = "with-state"
		}
		b.Run(name, func(b *testing.B) {
			dir := b.TempDir()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				m := secret.New()
				run := state.Run{ID: state.NewRunID(time.Now()), Started: time.Now()}
				opt := scheduler.Options{Jobs: 2, Run: run, Masker: m, Scope: eval.NewScope(r.Dir, run.Started, map[string]string{})}
				if withState {
					opt.Store = &state.Store{Dir: dir, Masker: m}
				}
				if res, err := scheduler.Execute(context.Background(), r, opt); err != nil || res.Run.Status != state.Succeeded {
					b.Fatalf("%v %s", err, res.Run.Status)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(r.Tasks))/1000, "µs/task")
		})
	}
}
