package hdbscan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/kura-go/kura/internal/procstat"
)

// blobs returns n seeded points in d dimensions: k Gaussian blobs
// (standard deviation 1, centres uniform in [-10, 10]^d) plus 5% uniform
// background noise in [-12, 12]^d, shuffled, and the generating blob of
// each point (-1 for noise).
func blobs(seed uint64, n, d, k int) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 0x6b757261))
	centres := make([]float64, k*d)
	for i := range centres {
		centres[i] = (r.Float64()*2 - 1) * 10
	}
	x := make([]float32, n*d)
	truth := make([]int, n)
	nNoise := n / 20
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		if i < nNoise {
			truth[i] = -1
			for j := range row {
				row[j] = float32((r.Float64()*2 - 1) * 12)
			}
			continue
		}
		c := r.IntN(k)
		truth[i] = c
		for j := range row {
			row[j] = float32(centres[c*d+j] + r.NormFloat64())
		}
	}
	// Shuffle so noise is not at the front.
	r.Shuffle(n, func(a, b int) {
		truth[a], truth[b] = truth[b], truth[a]
		for j := 0; j < d; j++ {
			x[a*d+j], x[b*d+j] = x[b*d+j], x[a*d+j]
		}
	})
	return x, truth
}

// BenchmarkCluster measures the target sizes (seeded blobs, default
// parameters). peak-MB is the process's peak RSS (VmHWM, reset before each
// size where the kernel allows it), data and test binary included.
func BenchmarkCluster(b *testing.B) {
	// 100,000 × 384 runs the approximate path (auto, NN-descent);
	// 1,000,000 × 5 the graph path on the KD-tree's exact k-NN graph;
	// 1,000,000 × 32 (vectors projected to tens of dimensions) the
	// approximate path at a million points.
	for _, c := range []struct{ n, d int }{{2000, 384}, {10000, 384}, {20000, 5}, {100000, 5}, {100000, 384}, {1000000, 5}, {1000000, 32}} {
		b.Run(fmt.Sprintf("n=%d/d=%d", c.n, c.d), func(b *testing.B) {
			if testing.Short() && (c.n*c.d > 1_000_000 || c.n > 50_000) {
				b.Skip("large size skipped in -short mode")
			}
			x, _ := blobs(1, c.n, c.d, 10)
			p := DefaultParams()
			procstat.ResetPeak()
			b.ReportAllocs()
			b.ResetTimer()
			var res *Result
			for i := 0; i < b.N; i++ {
				var err error
				res, err = Cluster(context.Background(), x, c.n, c.d, p)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if s, err := procstat.Read(); err == nil {
				b.ReportMetric(float64(s.PeakRSS)/(1<<20), "peak-MB")
			}
			b.ReportMetric(float64(res.NumClusters), "clusters")
		})
	}
}
