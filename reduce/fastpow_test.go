package reduce

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestPowPos(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	for range 200000 {
		x := math.Exp(rng.Float64()*60 - 40) // 4e-18 .. 1e8
		y := rng.Float64()*3 - 1.5
		got, want := powPos(x, y), math.Pow(x, y)
		worst = max(worst, math.Abs(got-want)/want)
	}
	// Tolerance: the series are truncated at ~1e-8; rounding adds a little.
	if worst > 1e-6 {
		t.Errorf("largest relative error %g, want ≤ 1e-6", worst)
	}
	for _, c := range [][2]float64{{1, 0.8}, {4, 0.5}, {0.25, -0.5}, {1e-300, 0.9}, {2, 1}} {
		if got, want := powPos(c[0], c[1]), math.Pow(c[0], c[1]); math.Abs(got-want) > 1e-6*want {
			t.Errorf("powPos(%g, %g) = %g, want %g", c[0], c[1], got, want)
		}
	}
}
