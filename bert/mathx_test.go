package bert

import (
	"math"
	"testing"
)

// TestActivations checks the tanh GELU (gelu_new) against values of
// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) computed in float64 by Python,
// within 1e-7·max(1, |x|) (float32 rounding), and relu.
func TestActivations(t *testing.T) {
	for _, c := range []struct{ x, tanh, relu float64 }{
		{-3, -0.0036373920817729943, 0}, {-1, -0.15880800939172324, 0}, {-0.5, -0.15428599017485606, 0},
		{0, 0, 0}, {0.5, 0.34571400982514394, 0.5}, {1, 0.8411919906082768, 1}, {3, 2.996362607918227, 3},
	} {
		v := []float32{float32(c.x)}
		geluTanh(v)
		if d := math.Abs(float64(v[0]) - c.tanh); d > 1e-7*math.Max(1, math.Abs(c.x)) {
			t.Errorf("geluTanh(%g) = %g, want %g", c.x, v[0], c.tanh)
		}
		v[0] = float32(c.x)
		relu(v)
		if float64(v[0]) != c.relu {
			t.Errorf("relu(%g) = %g, want %g", c.x, v[0], c.relu)
		}
	}
}
