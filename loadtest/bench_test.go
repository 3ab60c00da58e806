package loadtest

import (
	"context"
	"math"
	"testing"
)

// BenchmarkBuildDataset makes 2,000 distinct records from a 100-record
// baseline (20x), the parent's per-scale preparation work.
func BenchmarkBuildDataset(b *testing.B) {
	base := testBaseline(4, 25)
	b.ReportAllocs()
	for b.Loop() {
		d, err := BuildDataset(context.Background(), base, 2000, 7)
		if err != nil || d.Len() != 2000 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1900, "ns/generated")
}

// BenchmarkFitScaling fits the three models to five scales, as Analyze does
// for each of its metrics.
func BenchmarkFitScaling(b *testing.B) {
	ns := []float64{100, 250, 500, 1000, 2000}
	ys := make([]float64, len(ns))
	for i, n := range ns {
		ys[i] = 0.05 + 2e-7*math.Pow(n, 2)
	}
	for b.Loop() {
		if _, err := FitScaling("t", "s", ns, ys); err != nil {
			b.Fatal(err)
		}
	}
}
