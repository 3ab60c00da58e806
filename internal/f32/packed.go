package f32

import (
	"fmt"
	"runtime"
)

// PackedB is the right-hand operand op(B) of a product, k×n, stored in the
// panel layout the GEMM kernels read. Packing costs about as much as reading
// B once; a layer's weight matrix packed once saves that on every product,
// which matters when the left operand has few rows.
//
// A PackedB is tied to the kernel set that was active when it was made and
// is safe for concurrent use by several GemmPacked calls.
type PackedB struct {
	im   *impl
	k, n int
	// data holds, for each k block p0 = 0, kc, 2kc, ..., the kb×n block as
	// panels of nr columns (the last zero-padded), at offset p0·npad.
	data []float32
	npad int
}

// PackB packs op(B) (B, or Bᵀ when transB; k×n; row stride ldb) for
// GemmPacked. It panics if the dimensions are negative or b is too short.
func PackB(transB bool, k, n int, b []float32, ldb int) *PackedB {
	if k < 0 || n < 0 {
		panic(fmt.Sprintf("f32: PackB: negative dimension k=%d n=%d", k, n))
	}
	if transB {
		checkMatrix("b", n, k, ldb, len(b))
	} else {
		checkMatrix("b", k, n, ldb, len(b))
	}
	im := active
	g := im.gemm
	npad := (n + g.nr - 1) / g.nr * g.nr
	p := &PackedB{im: im, k: k, n: n, npad: npad, data: alignedFloats(nil, npad*k)}
	for p0 := 0; p0 < k; p0 += g.kc {
		kb := min(g.kc, k-p0)
		dst := p.data[p0*npad : p0*npad+npad*kb]
		if transB {
			g.packGather(dst, b, ldb, 0, p0, n, kb, g.nr, 1)
		} else {
			packCopy(dst, b, ldb, p0, 0, n, kb, g.nr, 1)
		}
	}
	return p
}

// K returns the number of rows of op(B).
func (p *PackedB) K() int { return p.k }

// N returns the number of columns of op(B).
func (p *PackedB) N() int { return p.n }

// GemmPacked computes C = alpha·op(A)·B + beta·C with B packed by PackB:
// op(A) is m×k (A, or Aᵀ when transA), C is m×n, where k and n are B's. The
// result is bit-identical to Gemm's with the unpacked B under the same kernel
// set, and like Gemm it uses up to runtime.GOMAXPROCS goroutines.
func GemmPacked(transA bool, m int, alpha float32, a []float32, lda int, b *PackedB, beta float32, c []float32, ldc int) {
	GemmPackedWorkers(runtime.GOMAXPROCS(0), transA, m, alpha, a, lda, b, beta, c, ldc)
}

// GemmPackedWorkers is GemmPacked with an explicit upper bound on the number
// of goroutines, as GemmWorkers.
func GemmPackedWorkers(workers int, transA bool, m int, alpha float32, a []float32, lda int, b *PackedB, beta float32, c []float32, ldc int) {
	if m < 0 {
		panic(fmt.Sprintf("f32: GemmPacked: negative dimension m=%d", m))
	}
	g := b.im.gemm
	src := func(_ []float32, j0, p0, nb, kb int) []float32 {
		off := p0*b.npad + j0*kb
		return b.data[off : off+(nb+g.nr-1)/g.nr*g.nr*kb]
	}
	gemmWith(b.im, workers, transA, m, b.n, b.k, alpha, a, lda, src, true, beta, c, ldc)
}
