// Package f32 provides the float32 kernels that kura's hot loops stand on:
// dot products, squared distances, AXPY and a general matrix multiply (GEMM).
//
// Every kernel has a portable Go implementation. On amd64 faster versions
// written in Go assembly are selected at start-up from the CPU's features:
// AVX-512 (F, DQ, BW, VL) first, then AVX2 with FMA, then the portable code.
// Results of the assembly paths agree with the portable ones to within
// float32 rounding (they use fused multiply-add and a different summation
// order), and each path is deterministic.
//
// Setting the environment variable KURA_F32_NOASM=1 before the program
// starts forces the portable path (useful to compare outputs or to rule the
// assembly out when chasing a bug). Building with the purego tag, or for any
// architecture other than amd64, compiles the portable code only.
//
// Gemm splits large problems over up to runtime.GOMAXPROCS goroutines. The
// split never changes the order of operations that produce an output
// element, so results are bit-identical whatever the number of goroutines.
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
	d := len(q)
	if d == 0 || len(x)%d != 0 {
		panic("f32: SqDists: len(x) is not a multiple of len(q)")
	}
	n := len(x) / d
	dst = dst[:n]
	i := 0
	if f4 := active.sqDist4; f4 != nil {
		for ; i+4 <= n; i += 4 {
			f4(&q[0], &x[i*d], d, d, &dst[i])
		}
	}
	f := active.sqDist
	for ; i < n; i++ {
		dst[i] = f(q, x[i*d:(i+1)*d:(i+1)*d])
	}
}

// Dots computes dst[i] = Dot(q, x[i*d:(i+1)*d]) for every row i of the
// row-major matrix x (len(x)/d rows of d columns, d = len(q)). It panics if
// d is zero, if len(x) is not a multiple of d or if dst is too short.
func Dots(dst, q, x []float32) {
	d := len(q)
	if d == 0 || len(x)%d != 0 {
		panic("f32: Dots: len(x) is not a multiple of len(q)")
	}
	n := len(x) / d
	dst = dst[:n]
	i := 0
	if f4 := active.dot4; f4 != nil {
		for ; i+4 <= n; i += 4 {
			f4(&q[0], &x[i*d], d, d, &dst[i])
		}
	}
	f := active.dot
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
	f, f4 := active.sqDist, active.sqDist4
	// Keep a tile of b (about 24 KiB) in L1 while the rows of a pass.
	tb := max(4, (24<<10)/(4*d)/4*4)
	for j0 := 0; j0 < nb; j0 += tb {
		j1 := min(nb, j0+tb)
		for i := 0; i < na; i++ {
			ai := a[i*d : (i+1)*d : (i+1)*d]
			row := dst[i*nb : (i+1)*nb]
			j := j0
			if f4 != nil {
				for ; j+4 <= j1; j += 4 {
					f4(&ai[0], &b[j*d], d, d, &row[j])
				}
			}
			for ; j < j1; j++ {
				row[j] = f(ai, b[j*d:(j+1)*d:(j+1)*d])
			}
		}
	}
}
