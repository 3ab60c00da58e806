//go:build amd64 && !purego

package f32

import "testing"

//go:noescape
func fmaPeakAVX512(n int)

//go:noescape
func fmaPeakAVX2(n int)

// BenchmarkPeak measures the FMA throughput of one goroutine and of all
// (RunParallel), the ceiling to read the Gemm figures against.
func BenchmarkPeak(b *testing.B) {
	for _, p := range []struct {
		name  string
		ok    bool
		f     func(int)
		lanes int
	}{{"avx512", hasAVX512, fmaPeakAVX512, 16}, {"avx2", hasAVX2, fmaPeakAVX2, 8}} {
		if !p.ok {
			continue
		}
		const iters = 1000
		flops := float64(12 * 2 * p.lanes * iters)
		b.Run(p.name+"/workers=1", func(b *testing.B) {
			for b.Loop() {
				p.f(iters)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(p.name+"/workers=all", func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					p.f(iters)
				}
			})
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
