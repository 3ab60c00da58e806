package f32

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// refGemm computes alpha·op(A)·op(B) + beta·C in float64, and the bound
// |alpha|·Σ|a·b| + |beta·c| used to scale the error tolerance.
func refGemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, mag []float64) {
	want = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, sa float64
			for p := range k {
				var av, bv float32
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				sa += math.Abs(float64(av) * float64(bv))
			}
			w := float64(alpha) * s
			g := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				w += float64(beta) * float64(c[i*ldc+j])
				g += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], mag[i*n+j] = w, g
		}
	}
	return want, mag
}

type gemmCase struct {
	tA, tB      bool
	m, n, k     int
	alpha, beta float32
	pad         int // extra elements per row (strided lda/ldb/ldc)
}

func (tc gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,pad=%d", tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.pad)
}

// operands builds random A, B, C for tc with NaN in the padding, so a kernel
// that reads or writes outside the matrices is caught.
func (tc gemmCase) operands(r *rand.Rand) (a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	mat := func(rows, cols int) ([]float32, int) {
		ld := cols + tc.pad
		if ld == 0 {
			ld = 1
		}
		x := make([]float32, max(0, (rows-1)*ld+cols))
		for i := range x {
			if i%ld < cols {
				x[i] = float32(r.NormFloat64())
			} else {
				x[i] = float32(math.NaN())
			}
		}
		return x, ld
	}
	if tc.tA {
		a, lda = mat(tc.k, tc.m)
	} else {
		a, lda = mat(tc.m, tc.k)
	}
	if tc.tB {
		b, ldb = mat(tc.n, tc.k)
	} else {
		b, ldb = mat(tc.k, tc.n)
	}
	c, ldc = mat(tc.m, tc.n)
	if tc.beta == 0 {
		// C must not be read when beta is zero.
		for i := range c {
			if i%ldc < tc.n {
				c[i] = float32(math.NaN())
			}
		}
	}
	return
}

func checkGemm(t *testing.T, workers int, tc gemmCase, r *rand.Rand) {
	t.Helper()
	a, lda, b, ldb, c, ldc := tc.operands(r)
	want, mag := refGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	c0 := append([]float32(nil), c...)
	GemmWorkers(workers, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	// Error bound: (k+2) roundings of partial sums, one for alpha, one for
	// beta·C and one for the final add, each at most eps relative to the
	// magnitude of the terms; doubled for margin.
	tol := 2 * float64(tc.k+4) * eps
	for i := range tc.m {
		for j := range tc.n {
			got := float64(c[i*ldc+j])
			w := want[i*tc.n+j]
			if math.IsNaN(got) || math.Abs(got-w) > tol*mag[i*tc.n+j]+1e-37 {
				t.Fatalf("%v: C[%d,%d] = %v, want %v (tolerance %g)", tc, i, j, got, w, tol*mag[i*tc.n+j])
			}
		}
	}
	for i := range c {
		if i%ldc >= tc.n && !math.IsNaN(float64(c[i])) {
			t.Fatalf("%v: padding element %d of C written (was %v, now %v)", tc, i, c0[i], c[i])
		}
	}
}

func TestGemmShapes(t *testing.T) {
	dims := []int{1, 2, 3, 5, 11, 12, 13, 17, 31, 33, 40, 64, 65}
	ks := []int{0, 1, 2, 7, 16, 64, 257, 600}
	scalars := [][2]float32{{1, 0}, {1, 1}, {-0.5, 0}, {2, 0.25}, {0, 0.5}, {0, 0}, {1.5, -1}}
	withImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(7, 8))
		count := 0
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for it := 0; it < 90; it++ {
					tc := gemmCase{tA: tA, tB: tB,
						m: dims[r.IntN(len(dims))], n: dims[r.IntN(len(dims))], k: ks[r.IntN(len(ks))],
						pad: []int{0, 0, 1, 5}[r.IntN(4)]}
					s := scalars[r.IntN(len(scalars))]
					tc.alpha, tc.beta = s[0], s[1]
					checkGemm(t, 1, tc, r)
					count++
				}
			}
		}
		if count == 0 {
			t.Fatal("no cases run")
		}
	})
}

// TestGemmBlocking covers shapes that cross the cache-block boundaries (k >
// kc, m > mc, n > nc) for every kernel, and the multi-goroutine split.
func TestGemmBlocking(t *testing.T) {
	withImpl(t, func(t *testing.T, im *impl) {
		g := im.gemm
		r := rand.New(rand.NewPCG(9, 10))
		cases := []gemmCase{
			{m: g.mc + 3, n: 37, k: g.kc + 5, alpha: 1, beta: 0},
			{m: 29, n: g.nc + g.nr + 1, k: 2*g.kc + 1, alpha: 0.5, beta: 1, tB: true},
			{m: 2*g.mc + 1, n: 70, k: 90, alpha: 1, beta: 2, tA: true, pad: 3},
			{m: 130, n: 150, k: 100, alpha: 1, beta: 0, tB: true},
			{m: 7, n: 900, k: 300, alpha: -1, beta: 1, tA: true, tB: true},
		}
		if testing.Short() {
			cases = cases[3:]
		}
		for _, tc := range cases {
			for _, w := range []int{1, 3} {
				checkGemm(t, w, tc, r)
			}
		}
	})
}

// TestGemmDeterministic checks that the result does not depend on the number
// of goroutines, bit for bit, for splits over M and over N.
func TestGemmDeterministic(t *testing.T) {
	withImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(11, 12))
		for _, tc := range []gemmCase{
			{m: 300, n: 200, k: 300, alpha: 1, beta: 0, tB: true},
			{m: 13, n: 1000, k: 300, alpha: 0.75, beta: 1},
			{m: 257, n: 129, k: 513, alpha: 1, beta: 0.5, tA: true, pad: 2},
		} {
			a, lda, b, ldb, c, ldc := tc.operands(r)
			var ref []float32
			for _, w := range []int{1, 2, 3, 4, 7} {
				cw := append([]float32(nil), c...)
				GemmWorkers(w, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, cw, ldc)
				if ref == nil {
					ref = cw
					continue
				}
				for i := range cw {
					if math.Float32bits(cw[i]) != math.Float32bits(ref[i]) && !(math.IsNaN(float64(cw[i])) && math.IsNaN(float64(ref[i]))) {
						t.Fatalf("%v: %d workers: element %d = %v, 1 worker gave %v", tc, w, i, cw[i], ref[i])
					}
				}
			}
		}
	})
}

func TestGemmPanics(t *testing.T) {
	a := make([]float32, 6)
	for _, tc := range []struct {
		name string
		f    func()
		msg  string
	}{
		{"short c", func() { Gemm(false, false, 2, 3, 2, 1, a, 2, a, 3, 0, a[:5], 3) }, "len(c)"},
		{"short a", func() { Gemm(false, false, 2, 3, 2, 1, a[:3], 2, a, 3, 0, a, 3) }, "len(a)"},
		{"short bT", func() { Gemm(false, true, 2, 3, 2, 1, a, 2, a[:5], 2, 0, a, 3) }, "len(b)"},
		{"small ldc", func() { Gemm(false, false, 2, 3, 2, 1, a, 2, a, 3, 0, a, 2) }, "ldc"},
		{"negative", func() { Gemm(false, false, -1, 3, 2, 1, a, 2, a, 3, 0, a, 3) }, "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				v := recover()
				if s, _ := v.(string); !strings.Contains(s, tc.msg) {
					t.Fatalf("panic = %v, want a message containing %q", v, tc.msg)
				}
			}()
			tc.f()
		})
	}
}

// TestGemmPacked checks that a pre-packed B gives Gemm's result bit for bit,
// over shapes crossing the block boundaries and both splits.
func TestGemmPacked(t *testing.T) {
	withImpl(t, func(t *testing.T, im *impl) {
		g := im.gemm
		r := rand.New(rand.NewPCG(13, 14))
		for _, tc := range []gemmCase{
			{m: 1, n: 1, k: 1, alpha: 1},
			{m: 7, n: 45, k: 33, alpha: 1, beta: 0.5, tB: true},
			{m: 40, n: 40, k: 64, alpha: 0.125, tB: true},
			{m: 300, n: 200, k: g.kc + 7, alpha: 1, beta: 1, tA: true},
			{m: 13, n: g.nc + 3*g.nr + 5, k: 2*g.kc + 1, alpha: -1, tB: true, pad: 2},
			{m: 5, n: 3, k: 0, alpha: 1, beta: 2},
		} {
			a, lda, b, ldb, c, ldc := tc.operands(r)
			pb := PackB(tc.tB, tc.k, tc.n, b, ldb)
			if pb.K() != tc.k || pb.N() != tc.n {
				t.Fatalf("%v: PackB dims %d×%d", tc, pb.K(), pb.N())
			}
			for _, w := range []int{1, 2, 3} {
				want := append([]float32(nil), c...)
				got := append([]float32(nil), c...)
				GemmWorkers(w, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
				GemmPackedWorkers(w, tc.tA, tc.m, tc.alpha, a, lda, pb, tc.beta, got, ldc)
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%v workers=%d: element %d: packed %v, Gemm %v", tc, w, i, got[i], want[i])
					}
				}
			}
		}
	})
}
