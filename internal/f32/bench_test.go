package f32

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// benchImpls runs f for every kernel set, restoring the active one after.
func benchImpls(b *testing.B, f func(b *testing.B)) {
	for _, im := range impls {
		b.Run(im.isa.String(), func(b *testing.B) {
			saved := active
			active = im
			defer func() { active = saved }()
			f(b)
		})
	}
}

// BenchmarkGemm measures the MiniLM encoder's shapes (32 sentences × 40
// tokens = 1280 rows, hidden 384, intermediate 1536; NT is y = x·Wᵀ with W
// stored out×in, NN is y = x·W with W stored in×out, 1152 the fused Q/K/V
// projection) and attention-sized products (one head: 40 tokens, 64 dims),
// in GFLOP/s, on one goroutine and on all.
func BenchmarkGemm(b *testing.B) {
	shapes := []struct {
		name    string
		tA, tB  bool
		m, n, k int
	}{
		{"NT_1280x384x384", false, true, 1280, 384, 384},
		{"NT_1280x1536x384", false, true, 1280, 1536, 384},
		{"NT_1280x384x1536", false, true, 1280, 384, 1536},
		{"NN_1280x1152x384", false, false, 1280, 1152, 384},
		{"NN_1280x384x384", false, false, 1280, 384, 384},
		{"NN_1280x1536x384", false, false, 1280, 1536, 384},
		{"NN_1280x384x1536", false, false, 1280, 384, 1536},
		{"NT_40x40x64", false, true, 40, 40, 64},
		{"NN_40x64x40", false, false, 40, 64, 40},
	}
	r := rand.New(rand.NewPCG(1, 1))
	benchImpls(b, func(b *testing.B) {
		for _, s := range shapes {
			a := randVec(r, s.m*s.k)
			bm := randVec(r, s.k*s.n)
			c := make([]float32, s.m*s.n)
			lda, ldb := s.k, s.n
			if s.tA {
				lda = s.m
			}
			if s.tB {
				ldb = s.k
			}
			for _, w := range []int{1, runtime.GOMAXPROCS(0)} {
				if w == 1 && runtime.GOMAXPROCS(0) == 1 && s.m*s.n*s.k < minMACsPerWorker {
					continue
				}
				b.Run(fmt.Sprintf("%s/workers=%d", s.name, w), func(b *testing.B) {
					for b.Loop() {
						GemmWorkers(w, s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
					}
					b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	})
}

func BenchmarkDot(b *testing.B)    { benchVec(b, Dot) }
func BenchmarkSqDist(b *testing.B) { benchVec(b, SqDist) }

func benchVec(b *testing.B, f func(a, b []float32) float32) {
	r := rand.New(rand.NewPCG(2, 2))
	benchImpls(b, func(b *testing.B) {
		for _, d := range []int{384, 1536} {
			x, y := randVec(r, d), randVec(r, d)
			b.Run(fmt.Sprintf("d=%d", d), func(b *testing.B) {
				var s float32
				for b.Loop() {
					s += f(x, y)
				}
				sink = s
				b.ReportMetric(2*float64(d)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	})
}

// BenchmarkSqDistBlock is the HDBSCAN-style all-pairs block: 256×1024 rows
// of d = 384.
func BenchmarkSqDistBlock(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	const na, nb, d = 256, 1024, 384
	x, y := randVec(r, na*d), randVec(r, nb*d)
	dst := make([]float32, na*nb)
	benchImpls(b, func(b *testing.B) {
		for b.Loop() {
			SqDistBlock(dst, x, na, y, nb, d)
		}
		b.ReportMetric(3*float64(na*nb*d)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}

var sink float32

// BenchmarkKernel measures a micro-kernel alone on packed panels that stay
// in L1: the practical ceiling for Gemm on one core.
func BenchmarkKernel(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, im := range impls {
		g := im.gemm
		const k = 256
		pa, pb := randVec(r, k*g.mr), randVec(r, k*g.nr)
		c := make([]float32, g.mr*g.nr)
		b.Run(im.isa.String(), func(b *testing.B) {
			for b.Loop() {
				g.kern(k, &pa[0], &pb[0], &c[0], g.nr, 1)
			}
			b.ReportMetric(2*float64(k*g.mr*g.nr)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkGemmPacked compares Gemm with GemmPacked (B packed once) for a
// MiniLM feed-forward weight (1536×384, y = x·Wᵀ) at one sentence (40
// rows) and a full batch (1280 rows).
func BenchmarkGemmPacked(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	const n, k = 1536, 384
	w := randVec(r, n*k)
	benchImpls(b, func(b *testing.B) {
		pb := PackB(true, k, n, w, k)
		for _, m := range []int{40, 1280} {
			a := randVec(r, m*k)
			c := make([]float32, m*n)
			flops := 2 * float64(m*n*k)
			b.Run(fmt.Sprintf("m=%d/Gemm", m), func(b *testing.B) {
				for b.Loop() {
					Gemm(false, true, m, n, k, 1, a, k, w, k, 0, c, n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
			b.Run(fmt.Sprintf("m=%d/GemmPacked", m), func(b *testing.B) {
				for b.Loop() {
					GemmPacked(false, m, 1, a, k, pb, 0, c, n)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	})
}
