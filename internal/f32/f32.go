// Package f32 provides the float32 kernels that kura's hot loops stand on:
// dot products, squared distances (one pair, one query against many rows, or
// a block of rows against another), AXPY, a general matrix multiply (GEMM)
// with BLAS sgemm semantics for row-major matrices, and the element-wise
// kernels of a transformer encoder (BiasGELU, ScaledSoftmax, LayerNorm).
//
// # Implementations
//
// Every kernel has a portable Go implementation. On amd64 faster versions
// in Go assembly are selected at start-up from the CPU's features
// (golang.org/x/sys/cpu): AVX-512 (F, DQ, BW, VL) first, then AVX2 with FMA,
// then the portable code. Implementation reports the choice as an ISA. The
// assembly paths use fused multiply-add and their own summation order, so
// their results differ from the portable ones by float32 rounding (a sum of
// n products is within about n·2⁻²⁴·Σ|terms| of the exact value on every
// path; the transformer kernels state their bounds); each path is
// deterministic.
//
// All the assembly is written by the generator in ./asmgen (`go generate`);
// a test fails when a committed .s file differs from its output.
//
// Setting the environment variable KURA_F32_NOASM=1 before the program
// starts forces the portable path, to compare outputs or to rule the
// assembly out when chasing a bug. Building with the purego tag, or for any
// architecture other than amd64, compiles the portable code only; nothing
// here needs cgo.
//
// # GEMM
//
// Gemm packs panels of op(A) and op(B) into contiguous, cache-sized blocks
// (all four transpose combinations become the same packed layout) and runs a
// register-tiled micro-kernel over them: 12×32 for AVX-512, 6×16 for AVX2.
// Large products are split over up to runtime.GOMAXPROCS goroutines
// (GemmWorkers sets the bound); the split never changes the order of the
// operations that produce an output element, so results are bit-identical
// whatever the number of goroutines. Small products (under about 2¹⁹
// multiply-adds per goroutine) run on the calling goroutine.
//
// A matrix used as the right-hand operand many times, such as a layer's
// weights, can be packed once with PackB and multiplied with GemmPacked,
// which gives the same bits as Gemm without repacking.
package f32

// Dot returns the dot product of a and b. It panics if len(b) < len(a).
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	if len(a) == 0 {
		return 0
	}
	return active.dot(a, b)
}

// SqDist returns the squared Euclidean distance between a and b. It panics if
// len(b) < len(a).
func SqDist(a, b []float32) float32 {
	b = b[:len(a)]
	if len(a) == 0 {
		return 0
	}
	return active.sqDist(a, b)
}

// Axpy computes y += alpha·x over len(x) elements. It panics if
// len(y) < len(x).
func Axpy(alpha float32, x, y []float32) {
	y = y[:len(x)]
	if len(x) == 0 || alpha == 0 {
		return
	}
	active.axpy(alpha, x, y)
}

// Scale multiplies every element of x by alpha.
func Scale(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// SqDists computes dst[i] = SqDist(q, x[i*d:(i+1)*d]) for every row i of the
// row-major matrix x (len(x)/d rows of d columns, d = len(q)). It panics if
// d is zero, if len(x) is not a multiple of d or if dst is too short.
func SqDists(dst, q, x []float32) {
	eachRow("SqDists", dst, q, x, active.sqDistRows, active.rows, active.sqDist)
}

// Dots computes dst[i] = Dot(q, x[i*d:(i+1)*d]) for every row i of the
// row-major matrix x (len(x)/d rows of d columns, d = len(q)). It panics if
// d is zero, if len(x) is not a multiple of d or if dst is too short.
func Dots(dst, q, x []float32) {
	eachRow("Dots", dst, q, x, active.dotRows, active.rows, active.dot)
}

// eachRow sets dst[i] = f(q, row i of x), r rows at a time with fr where
// the kernel set has a multi-row kernel (same bits as f).
func eachRow(name string, dst, q, x []float32, fr func(a, b *float32, ldb, n int, out *float32), r int, f func(a, b []float32) float32) {
	d := len(q)
	if d == 0 || len(x)%d != 0 {
		panic("f32: " + name + ": len(x) is not a multiple of len(q)")
	}
	n := len(x) / d
	dst = dst[:n]
	i := 0
	if fr != nil {
		for ; i+r <= n; i += r {
			fr(&q[0], &x[i*d], d, d, &dst[i])
		}
	}
	for ; i < n; i++ {
		dst[i] = f(q, x[i*d:(i+1)*d:(i+1)*d])
	}
}

// SqDistBlock fills the na×nb row-major matrix dst with the squared distances
// between the rows of a (na×d, row-major, contiguous) and the rows of b
// (nb×d): dst[i*nb+j] = SqDist(a[i*d:(i+1)*d], b[j*d:(j+1)*d]). The values are
// exactly those SqDist returns (no |a|²+|b|²−2a·b shortcut, so no
// cancellation); the loops are tiled so that a block of b stays in cache
// while the rows of a stream past it.
func SqDistBlock(dst, a []float32, na int, b []float32, nb, d int) {
	if na < 0 || nb < 0 || d < 0 {
		panic("f32: SqDistBlock: negative dimension")
	}
	if len(a) < na*d || len(b) < nb*d || len(dst) < na*nb {
		panic("f32: SqDistBlock: slice too short")
	}
	if na == 0 || nb == 0 {
		return
	}
	if d == 0 {
		clear(dst[:na*nb])
		return
	}
	f, fr, nr := active.sqDist, active.sqDistRows, active.rows
	// Keep a tile of b (about 24 KiB) in L1 while the rows of a pass.
	tb := max(4, (24<<10)/(4*d)/4*4)
	for j0 := 0; j0 < nb; j0 += tb {
		j1 := min(nb, j0+tb)
		for i := 0; i < na; i++ {
			ai := a[i*d : (i+1)*d : (i+1)*d]
			row := dst[i*nb : (i+1)*nb]
			j := j0
			if fr != nil {
				for ; j+nr <= j1; j += nr {
					fr(&ai[0], &b[j*d], d, d, &row[j])
				}
			}
			for ; j < j1; j++ {
				row[j] = f(ai, b[j*d:(j+1)*d:(j+1)*d])
			}
		}
	}
}
