package knn

import (
	"context"
	"fmt"
	"testing"

	"github.com/kura-go/kura/internal/procstat"
)

// BenchmarkBuild measures the approximate search (default tuning) at
// 100,000 × 384 (the size issue 10 targets for HDBSCAN and UMAP) on seeded
// Gaussian blobs, with K = 15 (UMAP) and K = 30 (HDBSCAN's graph), and the
// exact search at 20,000 × 384 for scale. peak-MB is the process's peak RSS
// (VmHWM, reset before each case where the kernel allows it), data
// included.
// Run: go test -run '^$' -bench Build -benchtime 1x ./knn
func BenchmarkBuild(b *testing.B) {
	for _, bc := range []struct {
		n, d  int
		m     Metric
		k     int
		exact bool
	}{
		{100_000, 384, Euclidean, 15, false},
		{100_000, 384, Cosine, 15, false},
		{100_000, 384, Euclidean, 30, false},
		{20_000, 384, Euclidean, 15, true},
	} {
		name := fmt.Sprintf("n=%d/d=%d/%v/k=%d/exact=%v", bc.n, bc.d, bc.m, bc.k, bc.exact)
		b.Run(name, func(b *testing.B) {
			x := blobs(bc.n, bc.d, 50, 1)
			procstat.ResetPeak()
			b.ResetTimer()
			for b.Loop() {
				if _, err := Build(context.Background(), x, bc.n, bc.d, Params{K: bc.k, Metric: bc.m, Exact: bc.exact, Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if s, err := procstat.Read(); err == nil {
				b.ReportMetric(float64(s.PeakRSS)/(1<<20), "peak-MB")
			}
		})
	}
}
