package reduce

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPowf(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for range 300000 {
		x := float32(math.Exp(rng.Float64()*60 - 40)) // 4e-18 .. 1e8
		y := float32(rng.Float64()*4 - 2)
		got, want := float64(powf(x, y)), math.Pow(float64(x), float64(y))
		worst = max(worst, math.Abs(got-want)/want)
	}
	// Tolerance 2e-5: the fits' errors (see powf) plus float32 rounding.
	if worst > 2e-5 {
		t.Errorf("largest relative error %g, want ≤ 2e-5", worst)
	}
	for _, c := range [][3]float32{{1, 0.8, 1}, {4, 0.5, 2}, {0.25, -0.5, 2}, {2, 1, 2}, {1e-45, 0.9, 0}, {float32(math.Inf(1)), 0.9, float32(math.Inf(1))}} {
		if got := powf(c[0], c[1]); math.Abs(float64(got-c[2])) > 2e-5*float64(c[2]) && got != c[2] {
			t.Errorf("powf(%g, %g) = %g, want %g", c[0], c[1], got, c[2])
		}
	}
}
