// Package parallel runs the numbered pieces of one job — the parts of an
// upload, the ranges of a download — on a bounded number of goroutines,
// stopping at the first failure.
package parallel

import (
	"context"
	"sync"
)

// Do calls fn(ctx, i) for i in [0, n) on at most workers goroutines. The
// first error cancels the context the other calls see, no new call starts,
// and that error is returned once every running call has returned. When
// ctx ends first, its error is returned.
func Do(ctx context.Context, n, workers int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		once     sync.Once
		firstErr error
		next     = make(chan int)
	)
	for range max(1, min(workers, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(ctx, i); err != nil {
					once.Do(func() {
						firstErr = err
						cancel()
					})
					return
				}
			}
		}()
	}
feed:
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}
