package f32

import (
	"math"
	"math/rand/v2"
	"testing"
)

// geluExact is the exact GELU in float64.
func geluExact(v float64) float64 { return 0.5 * v * (1 + math.Erf(v/math.Sqrt2)) }

// TestGeluErf checks the table GELU against math.Erf: abs error ≤
// 2e-7·max(1,|x|) (float32 rounding of the output is ~6e-8·|x|).
func TestGeluErf(t *testing.T) {
	var worst float64
	for x := -12.0; x <= 12.0; x += 0.0009765625 {
		v := []float32{float32(x)}
		geluErf(v)
		xf := float64(float32(x))
		worst = math.Max(worst, math.Abs(float64(v[0])-geluExact(xf))/math.Max(1, math.Abs(xf)))
	}
	if worst > 2e-7 {
		t.Errorf("GELU worst scaled error %g, want ≤ 2e-7", worst)
	}
}

// TestGeluPolyScalar checks the polynomial the vectorised GELU evaluates,
// one value at a time, with the same bound as TestGeluErf.
func TestGeluPolyScalar(t *testing.T) {
	poly := buildGeluPoly()
	var worst float64
	for x := -10.0; x <= 10; x += 0.0001 {
		v := float32(x)
		worst = math.Max(worst, math.Abs(float64(geluPolyScalar(&poly, v))-geluExact(float64(v)))/math.Max(1, math.Abs(float64(v))))
	}
	if worst > 2e-7 {
		t.Errorf("polynomial GELU worst scaled error %g, want ≤ 2e-7", worst)
	}
	t.Logf("polynomial GELU worst scaled error %.3g", worst)
}

// TestExpNeg checks expNeg against math.Exp: relative error ≤ 1.2e-7 (float32
// rounding), or absolute error ≤ 1.2e-38 where float32 results are subnormal.
func TestExpNeg(t *testing.T) {
	for x := float32(0); x > -100; x -= 0.001953125 {
		got := float64(expNeg(x))
		want := math.Exp(float64(x))
		if math.Abs(got-want) > math.Max(1.2e-7*want, 1.2e-38) {
			t.Fatalf("expNeg(%g) = %g, want %g", x, got, want)
		}
	}
}

// TestBiasGELU checks BiasGELU on every kernel set (vector blocks and scalar
// tails) against math.Erf in float64: abs error ≤ 2e-7·max(1, |x|).
func TestBiasGELU(t *testing.T) {
	withImpl(t, func(t *testing.T, im *impl) {
		for _, n := range []int{0, 1, 7, 8, 9, 61, 1536} {
			x := make([]float32, n)
			bias := make([]float32, n)
			for k := 0; k < 300; k++ {
				for i := range x {
					x[i] = float32(math.Sin(float64(k*n+i)*0.7)*10 + float64(k%7-3)*0.01)
					bias[i] = float32(math.Cos(float64(i)) * 0.5)
				}
				in := append([]float32(nil), x...)
				BiasGELU(x, bias)
				for i := range x {
					v := float64(in[i] + bias[i])
					if d := math.Abs(float64(x[i])-geluExact(v)) / math.Max(1, math.Abs(v)); d > 2e-7 {
						t.Fatalf("n=%d: GELU(%g) = %g, want %g (scaled error %g)", n, v, x[i], geluExact(v), d)
					}
				}
			}
		}
		// Table edges and special values.
		for _, v := range []float32{0, -0.75, 0.75, 5.25, 6, -6, 6.5, -40, 40, float32(math.Inf(1))} {
			x := []float32{v, v, v, v, v, v, v, v, v}
			BiasGELU(x, make([]float32, 9))
			want := geluExact(float64(v))
			for i := range x {
				if d := math.Abs(float64(x[i]) - want); !(d <= 2e-7*math.Max(1, math.Abs(float64(v)))) && !math.IsInf(want, 1) {
					t.Errorf("GELU(%g) = %g, want %g", v, x[i], want)
				}
			}
		}
	})
}

// TestScaledSoftmax checks ScaledSoftmax on every kernel set against a
// float64 softmax: abs error ≤ 1e-7 per weight (weights are in [0, 1]).
func TestScaledSoftmax(t *testing.T) {
	withImpl(t, func(t *testing.T, im *impl) {
		for _, n := range []int{1, 3, 8, 13, 37, 64, 256} {
			for k := 0; k < 20; k++ {
				row := make([]float32, n)
				for i := range row {
					row[i] = float32(math.Sin(float64(i*7+k))*float64(k) + float64(k%3))
				}
				if k == 19 {
					row[n/2] = -1e30 // a masked key
				}
				scale := float32(1 / math.Sqrt(32))
				want := softmax64(row, scale)
				ScaledSoftmax(row, scale)
				for i := range row {
					if d := math.Abs(float64(row[i]) - want[i]); d > 1e-7 {
						t.Fatalf("n=%d k=%d: weight %d = %g, want %g", n, k, i, row[i], want[i])
					}
				}
			}
		}
		ScaledSoftmax(nil, 1) // no panic on an empty row
	})
}

func softmax64(row []float32, scale float32) []float64 {
	want := make([]float64, len(row))
	mx := math.Inf(-1)
	for i, v := range row {
		want[i] = float64(v) * float64(scale)
		mx = math.Max(mx, want[i])
	}
	var sum float64
	for i := range want {
		want[i] = math.Exp(want[i] - mx)
		sum += want[i]
	}
	for i := range want {
		want[i] /= sum
	}
	return want
}

// TestLayerNorm checks LayerNorm on every kernel set against a float64
// computation: abs error ≤ 1e-6 (outputs reach about ±4).
func TestLayerNorm(t *testing.T) {
	withImpl(t, func(t *testing.T, im *impl) {
		for _, n := range []int{5, 8, 32, 384} {
			for k := 0; k < 10; k++ {
				x, add, bias, g, b := layerNormInputs(n, k)
				for _, withAdd := range []bool{false, true} {
					want := layerNorm64(x, add, bias, g, b, withAdd, 1e-12)
					got := append([]float32(nil), x...)
					if withAdd {
						LayerNorm(got, add, bias, g, b, 1e-12)
					} else {
						LayerNorm(got, nil, nil, g, b, 1e-12)
					}
					for i := range got {
						if d := math.Abs(float64(got[i]) - want[i]); d > 1e-6 {
							t.Fatalf("n=%d k=%d add=%v: element %d = %g, want %g", n, k, withAdd, i, got[i], want[i])
						}
					}
				}
			}
		}
		LayerNorm(nil, nil, nil, nil, nil, 1e-12) // no panic on an empty row
	})
}

func layerNormInputs(n, k int) (x, add, bias, g, b []float32) {
	x, add, bias = make([]float32, n), make([]float32, n), make([]float32, n)
	g, b = make([]float32, n), make([]float32, n)
	for i := range x {
		x[i] = float32(math.Sin(float64(i*3+k))*5 + 10*float64(k%2)) // float32 sums: an offset of 10 costs ~1e-7
		add[i] = float32(math.Cos(float64(i + k)))
		bias[i] = 0.1
		g[i] = float32(1 + 0.01*float64(i%5))
		b[i] = float32(-0.02 * float64(i%3))
	}
	return x, add, bias, g, b
}

func layerNorm64(x, add, bias, g, b []float32, withAdd bool, eps float64) []float64 {
	n := len(x)
	want := make([]float64, n)
	var mean float64
	for i := range x {
		want[i] = float64(x[i])
		if withAdd {
			want[i] = float64((add[i] + bias[i]) + x[i])
		}
		mean += want[i]
	}
	mean /= float64(n)
	var v float64
	for _, w := range want {
		v += (w - mean) * (w - mean)
	}
	inv := 1 / math.Sqrt(v/float64(n)+eps)
	for i := range want {
		want[i] = (want[i]-mean)*inv*float64(g[i]) + float64(b[i])
	}
	return want
}

// TestSIMDMatchesPortable runs every kernel of each assembly kernel set
// beside the portable Go code on the same random inputs, at the lengths that
// exercise full vectors, partial vectors and scalar tails. Each path is held
// to its own bound against the exact value elsewhere; here the two must
// agree within the sum of the two bounds:
//   - Dot, SqDist: 4(n+1)·eps·Σ|terms| (each within 2(n+1)·eps·Σ|terms|);
//   - Axpy: 2·eps·(|y| + |alpha·x|) (FMA against multiply-then-add);
//   - BiasGELU: 4e-7·max(1, |x + bias|);
//   - ScaledSoftmax: 2e-7 per weight;
//   - LayerNorm: 2e-6 per output.
func TestSIMDMatchesPortable(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, im := range impls {
		if im == portable {
			continue
		}
		t.Run(im.isa.String(), func(t *testing.T) {
			for _, n := range vecLens {
				a, b := randVec(r, n), randVec(r, n)
				var abs, sqAbs float64
				for i := range a {
					abs += math.Abs(float64(a[i]) * float64(b[i]))
					d := float64(a[i]) - float64(b[i])
					sqAbs += d * d
				}
				tol := 4 * float64(n+1) * eps
				if s, p := im.dot(a, b), portable.dot(a, b); math.Abs(float64(s-p)) > tol*abs {
					t.Errorf("Dot n=%d: %v, portable %v", n, s, p)
				}
				if s, p := im.sqDist(a, b), portable.sqDist(a, b); math.Abs(float64(s-p)) > tol*sqAbs {
					t.Errorf("SqDist n=%d: %v, portable %v", n, s, p)
				}
				alpha := float32(r.NormFloat64())
				ys, yp := randVec(r, n), make([]float32, n)
				copy(yp, ys)
				y0 := append([]float32(nil), ys...)
				im.axpy(alpha, a, ys)
				portable.axpy(alpha, a, yp)
				for i := range ys {
					if d := math.Abs(float64(ys[i] - yp[i])); d > 2*eps*(math.Abs(float64(y0[i]))+math.Abs(float64(alpha*a[i]))) {
						t.Fatalf("Axpy n=%d i=%d: %v, portable %v", n, i, ys[i], yp[i])
					}
				}

				xs := make([]float32, n)
				for i := range xs {
					xs[i] = float32(r.NormFloat64() * 4)
				}
				xp := append([]float32(nil), xs...)
				in := append([]float32(nil), xs...)
				im.biasGELU(xs, b)
				portable.biasGELU(xp, b)
				for i := range xs {
					if d := math.Abs(float64(xs[i] - xp[i])); d > 4e-7*math.Max(1, math.Abs(float64(in[i]+b[i]))) {
						t.Fatalf("BiasGELU n=%d i=%d: %v, portable %v", n, i, xs[i], xp[i])
					}
				}

				copy(xs, in)
				copy(xp, in)
				im.softmax(xs, 0.125)
				portable.softmax(xp, 0.125)
				for i := range xs {
					if d := math.Abs(float64(xs[i] - xp[i])); d > 2e-7 {
						t.Fatalf("ScaledSoftmax n=%d i=%d: %v, portable %v", n, i, xs[i], xp[i])
					}
				}

				x, add, bias, g, be := layerNormInputs(n, n%2)
				ls, lp := append([]float32(nil), x...), append([]float32(nil), x...)
				im.layerNorm(ls, add, bias, g, be, 1e-12)
				portable.layerNorm(lp, add, bias, g, be, 1e-12)
				for i := range ls {
					if d := math.Abs(float64(ls[i] - lp[i])); d > 2e-6 {
						t.Fatalf("LayerNorm n=%d i=%d: %v, portable %v", n, i, ls[i], lp[i])
					}
				}
			}
		})
	}
}

// benchRows returns rows·n values in about [-3.5, 2.5].
func benchRows(rows, n int) []float32 {
	v := make([]float32, rows*n)
	for i := range v {
		v[i] = float32(math.Sin(float64(i))*3 - 0.5)
	}
	return v
}

// BenchmarkGeluBias: 64 rows of MiniLM's intermediate width, 1536.
func BenchmarkGeluBias(b *testing.B) {
	const rows, n = 64, 1536
	v, bias := benchRows(rows, n), make([]float32, n)
	benchImpls(b, func(b *testing.B) {
		b.SetBytes(4 * rows * n)
		for b.Loop() {
			for r := 0; r < rows; r++ {
				BiasGELU(v[r*n:(r+1)*n], bias)
			}
		}
	})
}

// BenchmarkLayerNorm: 1280 rows of 384 (a batch of MiniLM's hidden states)
// with a residual add.
func BenchmarkLayerNorm(b *testing.B) {
	const rows, n = 1280, 384
	x, add := benchRows(rows, n), benchRows(rows, n)
	bias, g, be := benchRows(1, n), benchRows(1, n), benchRows(1, n)
	benchImpls(b, func(b *testing.B) {
		b.SetBytes(4 * rows * n)
		for b.Loop() {
			for r := 0; r < rows; r++ {
				LayerNorm(x[r*n:(r+1)*n], add[r*n:(r+1)*n], bias, g, be, 1e-12)
			}
		}
	})
}

// BenchmarkSoftmax: 12 heads × 40 rows of 40 scores (one sentence's
// attention in MiniLM).
func BenchmarkSoftmax(b *testing.B) {
	const rows, n = 480, 40
	src := benchRows(rows, n)
	x := make([]float32, len(src))
	benchImpls(b, func(b *testing.B) {
		b.SetBytes(4 * rows * n)
		for b.Loop() {
			copy(x, src)
			for r := 0; r < rows; r++ {
				ScaledSoftmax(x[r*n:(r+1)*n], 0.125)
			}
		}
	})
}
