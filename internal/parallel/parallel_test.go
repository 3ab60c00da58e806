package parallel

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
)

func TestForCoversEveryIndexOnce(t *testing.T) {
	for _, tt := range []struct{ n, chunk, workers int }{
		{0, 4, 2}, {1, 4, 2}, {10, 3, 1}, {10, 3, 4}, {1000, 7, 3}, {1000, 1000, 8}, {5, 0, 2},
	} {
		hits := make([]atomic.Int32, tt.n)
		var maxW atomic.Int32
		err := For(context.Background(), tt.n, tt.chunk, tt.workers, func(w, lo, hi int) {
			if hi-lo > max(tt.chunk, 1) || lo >= hi {
				t.Errorf("n=%d chunk=%d: bad chunk [%d, %d)", tt.n, tt.chunk, lo, hi)
			}
			if int32(w) > maxW.Load() {
				maxW.Store(int32(w))
			}
			for i := lo; i < hi; i++ {
				hits[i].Add(1)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range hits {
			if hits[i].Load() != 1 {
				t.Fatalf("n=%d chunk=%d workers=%d: index %d run %d times", tt.n, tt.chunk, tt.workers, i, hits[i].Load())
			}
		}
		if int(maxW.Load()) >= max(tt.workers, 1) {
			t.Errorf("worker index %d out of range for %d workers", maxW.Load(), tt.workers)
		}
	}
}

func TestForCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	if err := For(ctx, 100, 10, 2, func(w, lo, hi int) { ran = true }); err == nil || ran {
		t.Errorf("cancelled: err %v, ran %v; want an error and no work", err, ran)
	}
}

func TestEach(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct {
		name       string
		n, workers int
		failAt     int // -1: none
		cancelled  bool
		wantErr    error
	}{
		{name: "all", n: 50, workers: 4, failAt: -1},
		{name: "none", n: 0, workers: 4, failAt: -1},
		{name: "one worker", n: 7, workers: 1, failAt: -1},
		{name: "first error stops the rest", n: 1000, workers: 3, failAt: 5, wantErr: boom},
		{name: "parent cancelled", n: 10, workers: 2, failAt: -1, cancelled: true, wantErr: context.Canceled},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			if tt.cancelled {
				cancel()
			}
			defer cancel()
			var inFlight, most, calls atomic.Int32
			done := make([]atomic.Bool, tt.n)
			err := Each(ctx, tt.n, tt.workers, func(ctx context.Context, i int) error {
				calls.Add(1)
				now := inFlight.Add(1)
				defer inFlight.Add(-1)
				for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
				}
				if i == tt.failAt {
					return boom
				}
				if tt.failAt >= 0 && i > tt.failAt {
					<-ctx.Done() // the others see the cancellation
					return ctx.Err()
				}
				done[i].Store(true)
				return nil
			})
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Each = %v, want %v", err, tt.wantErr)
			}
			if int(most.Load()) > max(tt.workers, 1) {
				t.Errorf("%d calls at once, want at most %d", most.Load(), tt.workers)
			}
			if tt.wantErr == nil {
				for i := range done {
					if !done[i].Load() {
						t.Fatalf("call %d not made", i)
					}
				}
			}
			if tt.failAt >= 0 && int(calls.Load()) > tt.failAt+1+tt.workers {
				t.Errorf("%d calls made after the error at %d with %d workers", calls.Load(), tt.failAt, tt.workers)
			}
		})
	}
}
