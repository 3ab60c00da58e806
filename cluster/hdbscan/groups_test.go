package hdbscan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
)

// TestKDMSTTiesAndGroups stresses the KD-tree path (completed-node sources,
// shrinking boxes, lazy entries) on data full of exact ties: blobs rounded
// to coarse grids, exact duplicates and uniform integer lattices, with the
// whole run on the KD path (kdFinishMin = 1). The edge sequence must equal
// bruteMST's exactly (same float32 distance kernel, so weights are equal
// bit for bit).
func TestKDMSTTiesAndGroups(t *testing.T) {
	type gen struct {
		name string
		n, d int
		make func(r *rand.Rand, n, d int) []float32
	}
	grid := func(step float32) func(r *rand.Rand, n, d int) []float32 {
		return func(r *rand.Rand, n, d int) []float32 {
			x, _ := blobs(r.Uint64(), n, d, 5)
			for i := range x {
				x[i] = float32(int(x[i]/step)) * step
			}
			return x
		}
	}
	dups := func(r *rand.Rand, n, d int) []float32 {
		// Few distinct points, each repeated many times, plus scattered
		// singletons.
		base, _ := blobs(r.Uint64(), n/8+1, d, 3)
		x := make([]float32, n*d)
		for i := 0; i < n; i++ {
			j := r.IntN(n/8 + 1)
			if r.IntN(10) == 0 {
				for k := 0; k < d; k++ {
					x[i*d+k] = float32(r.IntN(41) - 20)
				}
				continue
			}
			copy(x[i*d:(i+1)*d], base[j*d:(j+1)*d])
		}
		return x
	}
	lattice := func(r *rand.Rand, n, d int) []float32 {
		x := make([]float32, n*d)
		for i := range x {
			x[i] = float32(r.IntN(12))
		}
		return x
	}
	gens := []gen{
		{"grid0.25", 1500, 2, grid(0.25)},
		{"grid0.5", 1200, 3, grid(0.5)},
		{"grid1", 1000, 5, grid(1)},
		{"grid2", 800, 8, grid(2)},
		{"dups", 1000, 3, dups},
		{"lattice", 1200, 2, lattice},
		{"lattice5", 900, 5, lattice},
	}
	defer func(v int) { kdFinishMin = v }(kdFinishMin)
	r := rand.New(rand.NewPCG(7, 11))
	for _, g := range gens {
		for _, k := range []int{1, 5, 10} {
			for _, alpha := range []float64{1, 0.7, 1.6} {
				x := g.make(r, g.n, g.d)
				t.Run(fmt.Sprintf("%s/k=%d/alpha=%g", g.name, k, alpha), func(t *testing.T) {
					want := bruteMST(x, g.n, g.d, k, alpha, dist32)
					for _, run := range []struct{ workers, finish int }{{1, 1}, {2, 1}, {3, 100}} {
						kdFinishMin = run.finish
						got, err := kdMST(context.Background(), x, g.n, g.d, k, alpha, run.workers)
						if err != nil {
							t.Fatal(err)
						}
						if len(got) != len(want) {
							t.Fatalf("workers=%d: %d edges, want %d", run.workers, len(got), len(want))
						}
						for i := range got {
							if got[i] != want[i] {
								t.Fatalf("workers=%d finish=%d: edge %d = %v, want %v", run.workers, run.finish, i, got[i], want[i])
							}
						}
					}
				})
			}
		}
	}
}
