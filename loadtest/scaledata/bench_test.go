package scaledata

import (
	"context"
	"testing"
)

// BenchmarkBuild makes 2,000 distinct records from a 100-record
// baseline (20x), the parent's per-scale preparation work.
func BenchmarkBuild(b *testing.B) {
	base := Synthetic(4, 25)
	b.ReportAllocs()
	for b.Loop() {
		d, err := Build(context.Background(), base, 2000, 7)
		if err != nil || d.Len() != 2000 {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1900, "ns/generated")
}
