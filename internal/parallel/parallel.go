// Package parallel runs loops over index ranges on several goroutines: For
// for compute loops split into chunks, Each for calls that wait (API
// requests), bounded, the first error cancelling the rest.
package parallel

import (
	"context"
	"sync"
	"sync/atomic"
)

// For calls f(w, lo, hi) for consecutive chunks [lo, hi) of at most chunk
// indices that together cover [0, n), on up to workers goroutines. w, in
// [0, workers), identifies the goroutine, so that f can use per-worker
// scratch space. Chunks are claimed dynamically, so f must give the same
// result whichever worker runs a chunk. With one worker, or n <= chunk, f runs
// on the calling goroutine. Once ctx is done no new chunk starts, and For
// returns ctx.Err() after the running ones finish.
func For(ctx context.Context, n, chunk, workers int, f func(w, lo, hi int)) error {
	if chunk < 1 {
		chunk = 1
	}
	done := func() bool { return ctx.Err() != nil }
	chunks := (n + chunk - 1) / chunk
	workers = min(workers, chunks)
	if workers <= 1 {
		for lo := 0; lo < n && !done(); lo += chunk {
			f(0, lo, min(lo+chunk, n))
		}
		return ctx.Err()
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	work := func(w int) {
		for !done() {
			lo := int(next.Add(int64(chunk))) - chunk
			if lo >= n {
				return
			}
			f(w, lo, min(lo+chunk, n))
		}
	}
	// Worker 0 is the calling goroutine: one goroutine fewer to start.
	for w := 1; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			work(w)
		}()
	}
	work(0)
	wg.Wait()
	return ctx.Err()
}

// Each calls f(ctx, i) for every i in [0, n), at most workers at a time, in
// order of i as workers become free: for calls that wait (API requests)
// more than they compute. The first error cancels the ctx the other calls
// get, no new call starts, and Each returns that error once all running
// calls have returned; when the parent ctx ends it returns its cause.
func Each(ctx context.Context, n, workers int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	For(ctx, n, 1, workers, func(_, i, _ int) {
		if err := f(ctx, i); err != nil {
			cancel(err)
		}
	})
	return context.Cause(ctx)
}
