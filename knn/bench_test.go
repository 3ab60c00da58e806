package knn

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkBuild measures the approximate search (K = 15, default tuning)
// at 100,000 × 384 (the size issue 10 targets for HDBSCAN and UMAP) on
// seeded Gaussian blobs, and the exact search at 20,000 × 384 for scale.
// Run: go test -run '^$' -bench Build -benchtime 1x ./knn
func BenchmarkBuild(b *testing.B) {
	for _, bc := range []struct {
		n, d  int
		m     Metric
		exact bool
	}{
		{100_000, 384, Euclidean, false},
		{100_000, 384, Cosine, false},
		{20_000, 384, Euclidean, true},
	} {
		name := fmt.Sprintf("n=%d/d=%d/%v/exact=%v", bc.n, bc.d, bc.m, bc.exact)
		b.Run(name, func(b *testing.B) {
			x := blobs(bc.n, bc.d, 50, 1)
			b.ResetTimer()
			for b.Loop() {
				if _, err := Build(context.Background(), x, bc.n, bc.d, Params{K: 15, Metric: bc.m, Exact: bc.exact, Seed: 1}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
