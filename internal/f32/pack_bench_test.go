package f32

import (
	"fmt"
	"testing"
)

func BenchmarkPack(b *testing.B) {
	src := make([]float32, 640*384)
	for _, w := range []int{12, 32} {
		g := impls[0].gemm
		dst := make([]float32, 640*384+w*384)
		b.Run(fmt.Sprintf("gather/w=%d", w), func(b *testing.B) {
			for b.Loop() {
				g.packGather(dst, src, 384, 0, 0, 640, 256, w, 1)
			}
			b.ReportMetric(float64(640*256)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
		b.Run(fmt.Sprintf("copy/w=%d", w), func(b *testing.B) {
			for b.Loop() {
				packCopy(dst, src, 384, 0, 0, 384, 256, w, 1)
			}
			b.ReportMetric(float64(384*256)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
