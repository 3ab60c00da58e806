//go:build amd64 && !purego

package f32

import "golang.org/x/sys/cpu"

//go:generate go run ./asmgen

// Assembly kernels (vec_amd64.s, gemm_amd64.s, nn_amd64.s), all written by
// asmgen. The vector kernels need
// n >= 1 and len(b) >= n; the GEMM kernels are described by gemmKernel.kern.

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func sqDistAVX2(a, b *float32, n int) float32

//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func axpyAVX512(alpha float32, x, y *float32, n int)

//go:noescape
func dotAVX512(a, b *float32, n int) float32

//go:noescape
func sqDistAVX512(a, b *float32, n int) float32

//go:noescape
func dot4AVX512(a, b *float32, ldb, n int, out *float32)

//go:noescape
func sqDist4AVX512(a, b *float32, ldb, n int, out *float32)

//go:noescape
func dot2AVX2(a, b *float32, ldb, n int, out *float32)

//go:noescape
func sqDist2AVX2(a, b *float32, ldb, n int, out *float32)

//go:noescape
func gather4AVX(dst, src *float32, ld, kb, w int, alpha float32)

//go:noescape
func kernAVX2_6x16(k int, a, b, c *float32, ldc int, load int)

//go:noescape
func kernAVX512_12x32(k int, a, b, c *float32, ldc int, load int)

//go:noescape
func kernAVX512_12x32e(k int, a, b, c *float32, ldc int, load int, rows, cols int)

//go:noescape
func kernAVX512_12x16e(k int, a, b, c *float32, ldc int, load int, rows, cols int)

// kernAVX512Edge computes a partial 12×32 tile with masked stores, using
// only the vectors that hold wanted columns.
func kernAVX512Edge(k int, a, b, c *float32, ldc int, load int, rows, cols int) {
	if cols <= 16 {
		kernAVX512_12x16e(k, a, b, c, ldc, load, rows, cols)
	} else {
		kernAVX512_12x32e(k, a, b, c, ldc, load, rows, cols)
	}
}

var (
	hasAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL
)

// Blocking: the packed kc×nr B micro-panel stays in L1 (48 KiB on Zen 5,
// 32 KiB on most others) while mc×kc of packed A sits in L2 and kc×nc of
// packed B in L3. kc = 384 keeps MiniLM's k = 384 products in one k block
// (C written once); sweeps on an EPYC (Zen 5) put kc in 192..384 and mc in
// 72..288 within measurement noise of each other.
var implAVX2 = &impl{
	isa:        AVX2,
	dot:        func(a, b []float32) float32 { return dotAVX2(&a[0], &b[0], len(a)) },
	sqDist:     func(a, b []float32) float32 { return sqDistAVX2(&a[0], &b[0], len(a)) },
	axpy:       func(alpha float32, x, y []float32) { axpyAVX2(alpha, &x[0], &y[0], len(x)) },
	rows:       2,
	dotRows:    dot2AVX2,
	sqDistRows: sqDist2AVX2,
	gemm:       &gemmKernel{mr: 6, nr: 16, mc: 120, kc: 256, nc: 2048, kern: kernAVX2_6x16, gather4: gather4AVX},
	biasGELU:   biasGELUAVX2,
	softmax:    softmaxAVX2,
	layerNorm:  layerNormAVX2,
}

var implAVX512 = &impl{
	isa:        AVX512,
	dot:        func(a, b []float32) float32 { return dotAVX512(&a[0], &b[0], len(a)) },
	sqDist:     func(a, b []float32) float32 { return sqDistAVX512(&a[0], &b[0], len(a)) },
	axpy:       func(alpha float32, x, y []float32) { axpyAVX512(alpha, &x[0], &y[0], len(x)) },
	rows:       4,
	dotRows:    dot4AVX512,
	sqDistRows: sqDist4AVX512,
	gemm:       &gemmKernel{mr: 12, nr: 32, mc: 144, kc: 384, nc: 2048, kern: kernAVX512_12x32, kernEdge: kernAVX512Edge, gather4: gather4AVX},
	biasGELU:   biasGELUAVX2,
	softmax:    softmaxAVX2,
	layerNorm:  layerNormAVX2,
}

// archImpls lists the assembly implementations this CPU supports, best first.
var archImpls = func() []*impl {
	var l []*impl
	if hasAVX512 {
		l = append(l, implAVX512)
	}
	if hasAVX2 {
		l = append(l, implAVX2)
	}
	return l
}()
