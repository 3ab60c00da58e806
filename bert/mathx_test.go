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
