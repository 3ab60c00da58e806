package bert

import (
	"math"
	"testing"
)

// TestGELU checks the polynomial GELU against math.Erf: abs error ≤ 2e-7·max(1,|x|)
// (float32 rounding of the output is ~6e-8·|x|).
func TestGELU(t *testing.T) {
	var worst float64
	for x := -12.0; x <= 12.0; x += 0.0009765625 {
		v := []float32{float32(x)}
		geluErf(v)
		xf := float64(float32(x))
		want := 0.5 * xf * (1 + math.Erf(xf/math.Sqrt2))
		d := math.Abs(float64(v[0])-want) / math.Max(1, math.Abs(xf))
		worst = math.Max(worst, d)
	}
	if worst > 2e-7 {
		t.Errorf("GELU worst scaled error %g, want ≤ 2e-7", worst)
	}
}

// TestExpNeg checks expNeg against math.Exp: relative error ≤ 1.2e-7 (float32
// rounding), or absolute error ≤ 1.2e-38 where float32 results are subnormal.
func TestExpNeg(t *testing.T) {
	for x := float32(0); x > -100; x -= 0.001953125 {
		got := float64(expNeg(x))
		want := math.Exp(float64(x))
		// Below float32's smallest normal number the absolute error counts.
		if math.Abs(got-want) > math.Max(1.2e-7*want, 1.2e-38) {
			t.Fatalf("expNeg(%g) = %g, want %g", x, got, want)
		}
	}
}

func BenchmarkGELU(b *testing.B) {
	v := make([]float32, 1536*64)
	src := make([]float32, len(v))
	for i := range src {
		src[i] = float32(math.Sin(float64(i))*3 - 0.5)
	}
	b.SetBytes(int64(4 * len(v)))
	for b.Loop() {
		copy(v, src)
		geluErf(v)
	}
}

// TestGeluBias checks the activation used by the forward pass (the AVX2
// assembly when available, with scalar tails) against math.Erf in float64:
// abs error ≤ 2e-7·max(1, |x|).
func TestGeluBias(t *testing.T) {
	t.Logf("AVX2 GELU: %v", useAVX2)
	for _, n := range []int{1, 7, 8, 9, 61, 1536} {
		x := make([]float32, n)
		bias := make([]float32, n)
		for k := 0; k < 300; k++ {
			for i := range x {
				x[i] = float32(math.Sin(float64(k*n+i)*0.7)*10 + float64(k%7-3)*0.01)
				bias[i] = float32(math.Cos(float64(i)) * 0.5)
			}
			in := append([]float32(nil), x...)
			geluBias(x, bias)
			for i := range x {
				v := float64(in[i] + bias[i])
				want := 0.5 * v * (1 + math.Erf(v/math.Sqrt2))
				if d := math.Abs(float64(x[i])-want) / math.Max(1, math.Abs(v)); d > 2e-7 {
					t.Fatalf("n=%d: GELU(%g) = %g, want %g (scaled error %g)", n, v, x[i], want, d)
				}
			}
		}
	}
	// Table edges and special values.
	for _, v := range []float32{0, -0.75, 0.75, 5.25, 6, -6, 6.5, -40, 40, float32(math.Inf(1))} {
		x := []float32{v, v, v, v, v, v, v, v, v}
		geluBias(x, make([]float32, 9))
		want := 0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2))
		for i := range x {
			if d := math.Abs(float64(x[i]) - want); !(d <= 2e-7*math.Max(1, math.Abs(float64(v)))) && !math.IsInf(want, 1) {
				t.Errorf("GELU(%g) = %g, want %g", v, x[i], want)
			}
		}
	}
}

func TestGeluPolyScalar(t *testing.T) {
	var worst float64
	for x := -10.0; x <= 10; x += 0.0001 {
		v := float32(x)
		want := 0.5 * float64(v) * (1 + math.Erf(float64(v)/math.Sqrt2))
		worst = math.Max(worst, math.Abs(float64(geluPolyScalar(&geluPoly, v))-want)/math.Max(1, math.Abs(float64(v))))
	}
	if worst > 2e-7 {
		t.Errorf("polynomial GELU worst scaled error %g, want ≤ 2e-7", worst)
	}
	t.Logf("polynomial GELU worst scaled error %.3g", worst)
}

func BenchmarkGeluBias(b *testing.B) {
	v := make([]float32, 1536*64)
	bias := make([]float32, 1536)
	for i := range v {
		v[i] = float32(math.Sin(float64(i))*3 - 0.5)
	}
	b.SetBytes(int64(4 * len(v)))
	for b.Loop() {
		for r := 0; r < 64; r++ {
			geluBias(v[r*1536:(r+1)*1536], bias)
		}
	}
}

// TestSoftmax checks softmaxScaled (vectorised where available) against a
// float64 softmax: abs error ≤ 1e-7 per weight (weights are in [0, 1]).
func TestSoftmax(t *testing.T) {
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
			want := make([]float64, n)
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
			softmaxScaled(row, scale)
			for i := range row {
				if d := math.Abs(float64(row[i]) - want[i]/sum); d > 1e-7 {
					t.Fatalf("n=%d k=%d: weight %d = %g, want %g", n, k, i, row[i], want[i]/sum)
				}
			}
		}
	}
}

// TestLayerNorm checks layerNorm (vectorised where available) against a
// float64 computation: abs error ≤ 1e-6 (outputs reach about ±4).
func TestLayerNorm(t *testing.T) {
	for _, n := range []int{5, 8, 32, 384} {
		for k := 0; k < 10; k++ {
			x := make([]float32, n)
			add := make([]float32, n)
			bias := make([]float32, n)
			g := make([]float32, n)
			b := make([]float32, n)
			for i := range x {
				x[i] = float32(math.Sin(float64(i*3+k))*5 + 10*float64(k%2)) // float32 sums: an offset of 10 costs ~1e-7
				add[i] = float32(math.Cos(float64(i + k)))
				bias[i] = 0.1
				g[i] = float32(1 + 0.01*float64(i%5))
				b[i] = float32(-0.02 * float64(i%3))
			}
			for _, withAdd := range []bool{false, true} {
				in := append([]float32(nil), x...)
				want := make([]float64, n)
				var mean float64
				for i := range in {
					want[i] = float64(in[i])
					if withAdd {
						want[i] = float64((add[i] + bias[i]) + in[i])
					}
					mean += want[i]
				}
				mean /= float64(n)
				var v float64
				for _, w := range want {
					v += (w - mean) * (w - mean)
				}
				inv := 1 / math.Sqrt(v/float64(n)+1e-12)
				got := append([]float32(nil), in...)
				if withAdd {
					layerNorm(got, add, bias, g, b, 1e-12)
				} else {
					layerNorm(got, nil, nil, g, b, 1e-12)
				}
				for i := range got {
					w := (want[i]-mean)*inv*float64(g[i]) + float64(b[i])
					if d := math.Abs(float64(got[i]) - w); d > 1e-6 {
						t.Fatalf("n=%d k=%d add=%v: element %d = %g, want %g", n, k, withAdd, i, got[i], w)
					}
				}
			}
		}
	}
}
