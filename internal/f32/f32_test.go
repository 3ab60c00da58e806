package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// eps is float32's unit roundoff.
const eps = 1.0 / (1 << 24)

// withImpl runs f once per kernel set this CPU supports, with that set active.
func withImpl(t *testing.T, f func(t *testing.T, im *impl)) {
	t.Helper()
	for _, im := range impls {
		t.Run(im.isa.String(), func(t *testing.T) {
			saved := active
			active = im
			defer func() { active = saved }()
			f(t, im)
		})
	}
}

func randVec(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

var vecLens = []int{1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 384, 385, 1536, 4099}

// TestVectorKernels checks Dot, SqDist and Axpy against float64 sums. A
// float32 sum of n products (FMA or not, any order) is within n·eps·Σ|terms|
// of the exact value; the tests allow 2(n+1)·eps·Σ|terms|.
func TestVectorKernels(t *testing.T) {
	withImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(1, 2))
		for _, n := range vecLens {
			// Offsets make the slices start unaligned.
			for _, off := range []int{0, 1, 3} {
				a := randVec(r, n+off)[off:]
				b := randVec(r, n+off)[off:]
				var dot, dotAbs, sq float64
				for i := range a {
					p := float64(a[i]) * float64(b[i])
					dot += p
					dotAbs += math.Abs(p)
					d := float64(a[i]) - float64(b[i])
					sq += d * d
				}
				tol := 2 * float64(n+1) * eps
				if got := Dot(a, b); math.Abs(float64(got)-dot) > tol*dotAbs {
					t.Errorf("Dot n=%d off=%d: got %v, want %v (±%g)", n, off, got, dot, tol*dotAbs)
				}
				if got := SqDist(a, b); math.Abs(float64(got)-sq) > tol*sq+1e-30 {
					t.Errorf("SqDist n=%d off=%d: got %v, want %v", n, off, got, sq)
				}
				y := randVec(r, n)
				y0 := append([]float32(nil), y...)
				alpha := float32(r.NormFloat64())
				Axpy(alpha, a, y)
				for i := range y {
					want := float64(y0[i]) + float64(alpha)*float64(a[i])
					bound := 2 * eps * (math.Abs(float64(y0[i])) + math.Abs(float64(alpha)*float64(a[i])))
					if math.Abs(float64(y[i])-want) > bound {
						t.Fatalf("Axpy n=%d i=%d: got %v, want %v", n, i, y[i], want)
					}
				}
			}
		}
		if Dot(nil, nil) != 0 || SqDist([]float32{}, []float32{1}) != 0 {
			t.Error("empty inputs must give 0")
		}
		// Dot and SqDist read exactly len(a) elements of b.
		a := []float32{1, 2, 3}
		b := []float32{4, 5, 6, 1e30}
		if got := Dot(a, b); got != 32 {
			t.Errorf("Dot with longer b = %v, want 32", got)
		}
		if got := SqDist(a, b); got != 27 {
			t.Errorf("SqDist with longer b = %v, want 27", got)
		}
	})
}

// TestPortableMatchesReference pins the portable Dot and SqDist to the exact
// summation order they have always had (four lanes, pairwise combined), so
// that forcing the portable path reproduces earlier results bit for bit.
func TestPortableMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range vecLens {
		a, b := randVec(r, n), randVec(r, n)
		var s [4]float32
		var q [4]float32
		i := 0
		for ; i+4 <= n; i += 4 {
			for l := range 4 {
				s[l] += a[i+l] * b[i+l]
				d := a[i+l] - b[i+l]
				q[l] += d * d
			}
		}
		for ; i < n; i++ {
			s[0] += a[i] * b[i]
			d := a[i] - b[i]
			q[0] += d * d
		}
		if got, want := dotGeneric(a, b), (s[0]+s[1])+(s[2]+s[3]); got != want {
			t.Errorf("dotGeneric n=%d = %v, want %v", n, got, want)
		}
		if got, want := sqDistGeneric(a, b), (q[0]+q[1])+(q[2]+q[3]); got != want {
			t.Errorf("sqDistGeneric n=%d = %v, want %v", n, got, want)
		}
	}
}

func TestBatchDistances(t *testing.T) {
	withImpl(t, func(t *testing.T, im *impl) {
		r := rand.New(rand.NewPCG(5, 6))
		for _, tc := range []struct{ na, nb, d int }{{1, 1, 1}, {3, 5, 7}, {17, 40, 384}, {5, 300, 64}, {4, 9, 100}, {3, 8, 1541}, {2, 3, 0}} {
			a, b := randVec(r, tc.na*tc.d), randVec(r, tc.nb*tc.d)
			dst := make([]float32, tc.na*tc.nb)
			SqDistBlock(dst, a, tc.na, b, tc.nb, tc.d)
			for i := range tc.na {
				for j := range tc.nb {
					want := SqDist(a[i*tc.d:(i+1)*tc.d], b[j*tc.d:(j+1)*tc.d])
					if dst[i*tc.nb+j] != want {
						t.Fatalf("SqDistBlock %v (%d,%d) = %v, want %v", tc, i, j, dst[i*tc.nb+j], want)
					}
				}
			}
			if tc.d == 0 {
				continue
			}
			q := a[:tc.d]
			sd, dd := make([]float32, tc.nb), make([]float32, tc.nb)
			SqDists(sd, q, b)
			Dots(dd, q, b)
			for j := range tc.nb {
				if sd[j] != SqDist(q, b[j*tc.d:(j+1)*tc.d]) || dd[j] != Dot(q, b[j*tc.d:(j+1)*tc.d]) {
					t.Fatalf("SqDists/Dots %v row %d differ from SqDist/Dot", tc, j)
				}
			}
		}
	})
}

func TestNoAsmEnv(t *testing.T) {
	t.Setenv(noAsmEnv, "1")
	if got := defaultImpl(); got != portable {
		t.Errorf("%s=1: default implementation %v, want portable", noAsmEnv, got.isa)
	}
	t.Setenv(noAsmEnv, "0")
	if got := defaultImpl(); got != impls[0] {
		t.Errorf("%s=0: default implementation %v, want %v", noAsmEnv, got.isa, impls[0].isa)
	}
	if impls[len(impls)-1] != portable {
		t.Error("portable must be the last implementation")
	}
	found := false
	for _, im := range impls {
		found = found || im.isa == Implementation()
	}
	if !found {
		t.Errorf("Implementation() = %v is not in the list", Implementation())
	}
	for _, c := range []struct {
		isa  ISA
		want string
	}{{Portable, "portable"}, {AVX2, "avx2"}, {AVX512, "avx512"}, {ISA(9), "ISA(9)"}} {
		if got := c.isa.String(); got != c.want {
			t.Errorf("ISA(%d).String() = %q, want %q", uint8(c.isa), got, c.want)
		}
	}
}
