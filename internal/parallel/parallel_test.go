package parallel_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/novelfactory/runner/internal/parallel"
)

func TestEveryPieceRunsOnceWithinTheLimit(t *testing.T) {
	var running, peak atomic.Int64
	seen := make([]atomic.Int32, 100)
	var mu sync.Mutex
	err := parallel.Do(context.Background(), 100, 3, func(_ context.Context, i int) error {
		now := running.Add(1)
		mu.Lock()
		peak.Store(max(peak.Load(), now))
		mu.Unlock()
		seen[i].Add(1)
		running.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range seen {
		if seen[i].Load() != 1 {
			t.Fatalf("piece %d ran %d times", i, seen[i].Load())
		}
	}
	if peak.Load() > 3 {
		t.Fatalf("%d pieces ran at once, limit 3", peak.Load())
	}
}

func TestTheFirstErrorStopsTheRest(t *testing.T) {
	boom := errors.New("boom")
	var started atomic.Int64
	err := parallel.Do(context.Background(), 1000, 2, func(ctx context.Context, i int) error {
		started.Add(1)
		switch {
		case i < 5:
			return nil
		case i == 5:
			return boom
		}
		<-ctx.Done() // later pieces wait until the failure cancels them
		return ctx.Err()
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want the first error", err)
	}
	if started.Load() > 10 {
		t.Fatalf("%d pieces started after the failure", started.Load())
	}
}

func TestACancelledContextIsReported(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := parallel.Do(ctx, 10, 2, func(context.Context, int) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}
