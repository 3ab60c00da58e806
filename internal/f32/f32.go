// Package f32 provides the float32 kernels that kura's hot loops stand on:
// dot products, squared distances and a general matrix multiply (GEMM). Each
// has a portable Go implementation; faster CPU-specific versions may be
// selected at run time.
package f32

// Dot returns the dot product of a and b, which must have the same length.
func Dot(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// SqDist returns the squared Euclidean distance between a and b.
func SqDist(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		d0, d1, d2, d3 := a[i]-b[i], a[i+1]-b[i+1], a[i+2]-b[i+2], a[i+3]-b[i+3]
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(a); i++ {
		d := a[i] - b[i]
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, as
// BLAS sgemm does: op(A) is m×k (A, or Aᵀ when transA), op(B) is k×n (B, or
// Bᵀ when transB), C is m×n. lda, ldb and ldc are the row strides.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		ci := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(ci)
		} else if beta != 1 {
			for j := range ci {
				ci[j] *= beta
			}
		}
	}
	if alpha == 0 || k == 0 {
		return
	}
	switch {
	case !transA && transB:
		// Rows of A against rows of B: contiguous dot products.
		for i := 0; i < m; i++ {
			ai := a[i*lda : i*lda+k]
			ci := c[i*ldc : i*ldc+n]
			for j := 0; j < n; j++ {
				ci[j] += alpha * Dot(ai, b[j*ldb:j*ldb+k])
			}
		}
	case !transA && !transB:
		for i := 0; i < m; i++ {
			ci := c[i*ldc : i*ldc+n]
			for p := 0; p < k; p++ {
				s := alpha * a[i*lda+p]
				if s == 0 {
					continue
				}
				bp := b[p*ldb : p*ldb+n]
				for j, v := range bp {
					ci[j] += s * v
				}
			}
		}
	default:
		for i := 0; i < m; i++ {
			ci := c[i*ldc : i*ldc+n]
			for j := 0; j < n; j++ {
				var s float32
				for p := 0; p < k; p++ {
					var av, bv float32
					if transA {
						av = a[p*lda+i]
					} else {
						av = a[i*lda+p]
					}
					if transB {
						bv = b[j*ldb+p]
					} else {
						bv = b[p*ldb+j]
					}
					s += av * bv
				}
				ci[j] += alpha * s
			}
		}
	}
}
