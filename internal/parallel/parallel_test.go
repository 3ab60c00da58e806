package parallel

import (
	"context"
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
