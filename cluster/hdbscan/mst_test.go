package hdbscan

import (
	"context"
	"fmt"
	"testing"
)

// TestMSTMatchesLibraryPrim checks both fast paths against bruteMST, the
// transcription of the library's generic algorithm: the same edges, in the
// same order, with weights within float32 distance rounding (the brute
// force uses float64 distances).
func TestMSTMatchesLibraryPrim(t *testing.T) {
	cases := []struct {
		n, d, k int
		alpha   float64
	}{
		{300, 1, 5, 1}, {400, 2, 10, 1}, {500, 3, 1, 1}, {400, 5, 7, 1.5}, {300, 16, 10, 1},
		{300, 17, 10, 1}, {250, 64, 4, 1}, {200, 384, 10, 2},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("n=%d,d=%d,k=%d,alpha=%g", c.n, c.d, c.k, c.alpha), func(t *testing.T) {
			x, _ := blobs(uint64(c.n*c.d), c.n, c.d, 4)
			// Round to a grid so that many exact ties occur.
			for i := range x {
				x[i] = float32(int(x[i]*4)) / 4
			}
			want := bruteMST(x, c.n, c.d, c.k, c.alpha, dist32)
			defer func(v int) { kdFinishMin = v }(kdFinishMin)
			for _, run := range []struct{ workers, finish int }{{1, 256}, {2, 256}, {3, 256}, {1, 1}, {2, 50}} {
				workers := run.workers
				kdFinishMin = run.finish
				got, err := computeMST(context.Background(), x, c.n, c.d, c.k, c.alpha, workers)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != len(want) {
					t.Fatalf("workers=%d: %d edges, want %d", workers, len(got), len(want))
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("workers=%d: edge %d = %v, want %v", workers, i, got[i], want[i])
					}
				}
			}
		})
	}
}
