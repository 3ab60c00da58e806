package reduce

import (
	"fmt"
	"math"
)

// findAB fits the low-dimensional similarity 1/(1 + a·x^(2b)) to the curve
// that is 1 up to minDist and exp(−(x − minDist)/spread) beyond, at 300
// points evenly spaced on [0, 3·spread], by least squares, as umap-learn's
// find_ab_params does with scipy's curve_fit (Levenberg–Marquardt from
// a = b = 1).
func findAB(spread, minDist float64) (a, b float64, err error) {
	const m = 300
	xs := make([]float64, m)
	ys := make([]float64, m)
	for i := range m {
		x := 3 * spread * float64(i) / float64(m-1)
		xs[i] = x
		ys[i] = 1
		if x >= minDist {
			ys[i] = math.Exp(-(x - minDist) / spread)
		}
	}
	cost := func(a, b float64) float64 {
		s := 0.0
		for i, x := range xs {
			r := 1/(1+a*math.Pow(x, 2*b)) - ys[i]
			s += r * r
		}
		return s
	}
	a, b = 1, 1
	c := cost(a, b)
	lambda := 1e-3
	for range 500 {
		// Normal equations of the 2-parameter problem.
		var jtj [2][2]float64
		var jtr [2]float64
		for i, x := range xs {
			if x == 0 {
				continue // f(0) = 1 whatever a and b: zero residual and gradient
			}
			p := math.Pow(x, 2*b)
			den := 1 + a*p
			r := 1/den - ys[i]
			ja := -p / (den * den)
			jb := -a * p * 2 * math.Log(x) / (den * den)
			jtj[0][0] += ja * ja
			jtj[0][1] += ja * jb
			jtj[1][1] += jb * jb
			jtr[0] += ja * r
			jtr[1] += jb * r
		}
		improved := false
		for range 50 {
			m00 := jtj[0][0] * (1 + lambda)
			m11 := jtj[1][1] * (1 + lambda)
			det := m00*m11 - jtj[0][1]*jtj[0][1]
			if det == 0 {
				lambda *= 10
				continue
			}
			da := -(m11*jtr[0] - jtj[0][1]*jtr[1]) / det
			db := -(m00*jtr[1] - jtj[0][1]*jtr[0]) / det
			na, nb := a+da, b+db
			if nc := cost(na, nb); nc < c {
				done := math.Abs(c-nc) <= 1e-15*(1+c) && math.Abs(da) < 1e-12 && math.Abs(db) < 1e-12
				a, b, c = na, nb, nc
				lambda = max(lambda/10, 1e-12)
				improved = true
				if done {
					return a, b, nil
				}
				break
			}
			lambda *= 10
		}
		if !improved {
			break // no step lowers the cost: converged
		}
	}
	if math.IsNaN(a) || math.IsNaN(b) || a <= 0 || b <= 0 {
		return 0, 0, fmt.Errorf("reduce: fitting a, b for min_dist %g, spread %g failed (a=%g, b=%g)", minDist, spread, a, b)
	}
	return a, b, nil
}
