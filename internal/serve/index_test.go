package serve

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/serve/api"
)

// writeHistory writes n finished runs of the recipe at path into its
// state folder, one an hour, like bench/genruns.
func writeHistory(tb testing.TB, path string, n int) {
	tb.Helper()
	abs, _ := filepath.Abs(path)
	store := &state.Store{Dir: filepath.Join(filepath.Dir(abs), ".runner")}
	start := t0.Add(-time.Duration(n) * time.Hour)
	for i := 0; i < n; i++ {
		started := start.Add(time.Duration(i) * time.Hour)
		run := &state.Run{ID: state.NewRunID(started), Recipe: abs, Name: "history", Started: started, Status: state.Succeeded}
		if i%50 == 7 {
			run.Status = state.Failed
		}
		at := started
		for t := 0; t < 5; t++ {
			begin, end := at, at.Add(time.Second)
			at = end
			run.Tasks = append(run.Tasks, &state.Task{ID: fmt.Sprintf("step-%d", t), Status: state.Succeeded, Attempts: 1, Started: &begin, Finished: &end,
				Outputs: map[string]any{"stdout": fmt.Sprintf("step %d of run %d done", t, i)}, Log: state.LogPath(fmt.Sprintf("step-%d", t))})
		}
		run.Finished = &at
		if err := store.Create(run); err != nil {
			tb.Fatal(err)
		}
	}
}

func TestTheIndexListsFiltersAndPagesNewestFirst(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"h.yaml": counting("history")})
	writeHistory(t, filepath.Join(f.dir, "h.yaml"), 120)
	f.restart()
	ctx := context.Background()
	page, err := f.core.Runs(ctx, api.RunQuery{Page: 2, PerPage: 50})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 120 || len(page.Runs) != 50 || !page.Runs[0].Started.After(page.Runs[1].Started) || page.Runs[0].Recipe != "h" {
		t.Fatalf("page 2: total %d, %d runs, first %+v", page.Total, len(page.Runs), page.Runs[0])
	}
	failed, _ := f.core.Runs(ctx, api.RunQuery{Status: "failed", Recipe: "h"})
	if failed.Total != 3 { // i = 7, 57, 107
		t.Errorf("failed runs: %d, want 3", failed.Total)
	}
	day, _ := f.core.Runs(ctx, api.RunQuery{From: t0.Add(-24 * time.Hour), To: t0})
	if day.Total != 24 {
		t.Errorf("runs of the last day: %d, want 24", day.Total)
	}
	// A new run folder is taken in by the next tick.
	writeHistory(t, filepath.Join(f.dir, "h.yaml"), 1)
	f.core.Step()
	if all, _ := f.core.Runs(ctx, api.RunQuery{}); all.Total != 121 {
		t.Errorf("after one more run: %d runs, want 121", all.Total)
	}
	r, _ := f.core.Recipe(ctx, "h")
	if len(r.Recent) != recentRuns || r.LastRun == nil {
		t.Errorf("recipe h: %d recent runs, last %v", len(r.Recent), r.LastRun)
	}
}

// BenchmarkStartWith10000Runs measures New — loading the recipes and the
// index of 10,000 runs — and the first overview and runs page after it:
// the first byte of the overview after a start.
func BenchmarkStartWith10000Runs(b *testing.B) {
	dir := b.TempDir()
	b.Setenv("XDG_RUNTIME_DIR", b.TempDir())
	path := filepath.Join(dir, "h.yaml")
	writeFile(b, path, counting("history"))
	writeHistory(b, path, 10000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, err := New(Config{Dirs: []string{dir}, Now: func() time.Time { return t0 }, Grace: -1})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Recipes(ctx); err != nil {
			b.Fatal(err)
		}
		page, err := c.Runs(ctx, api.RunQuery{})
		if err != nil || page.Total != 10000 {
			b.Fatalf("%d runs, %v", page.Total, err)
		}
	}
}

// BenchmarkRunsPageOf10000 measures one runs-list request with a filter.
func BenchmarkRunsPageOf10000(b *testing.B) {
	dir := b.TempDir()
	b.Setenv("XDG_RUNTIME_DIR", b.TempDir())
	path := filepath.Join(dir, "h.yaml")
	writeFile(b, path, counting("history"))
	writeHistory(b, path, 10000)
	c, err := New(Config{Dirs: []string{dir}, Now: func() time.Time { return t0 }, Grace: -1})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Runs(ctx, api.RunQuery{Recipe: "h", Status: "failed", Page: 2, PerPage: 50}); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Recipes(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
