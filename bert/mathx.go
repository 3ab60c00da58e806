package bert

import "math"

// The activation and softmax run once per element of large matrices, so they
// use short polynomial evaluations instead of math.Erf and math.Exp (which
// cost several times more). Both are accurate to about float32 rounding.

// erfTable holds, for each interval [i·erfStep, (i+1)·erfStep) of u = |x|,
// the monomial coefficients (in t ∈ [-1, 1], the position within the
// interval) of the Chebyshev interpolant of erf(u/√2). They are computed at
// start-up from math.Erf, so no constants are transcribed by hand.
const (
	erfDegree    = 6
	erfStep      = 0.25
	erfIntervals = 24 // covers u ∈ [0, 6]; beyond, erf(u/√2) rounds to 1 in float32
)

var erfTable = buildErfTable()

func buildErfTable() (tab [erfIntervals + 1][erfDegree + 1]float64) {
	const n = erfDegree + 1
	for iv := 0; iv <= erfIntervals; iv++ {
		lo := float64(iv) * erfStep
		mid, half := lo+erfStep/2, erfStep/2
		f := func(t float64) float64 { return math.Erf((mid + half*t) / math.Sqrt2) }
		// Chebyshev coefficients c_j from values at the n Chebyshev nodes.
		var c [n]float64
		for j := 0; j < n; j++ {
			var s float64
			for k := 0; k < n; k++ {
				theta := math.Pi * (float64(k) + 0.5) / n
				s += f(math.Cos(theta)) * math.Cos(float64(j)*theta)
			}
			c[j] = 2 * s / n
		}
		c[0] /= 2
		// Convert Σ c_j T_j(t) to monomials with the recurrence T_{j+1} = 2t·T_j − T_{j−1}.
		var tPrev, tCur [n]float64
		tPrev[0] = 1 // T_0
		tCur[1] = 1  // T_1
		var mono [n]float64
		mono[0] += c[0]
		for d := 0; d < n; d++ {
			mono[d] += c[1] * tCur[d]
		}
		for j := 2; j < n; j++ {
			var next [n]float64
			for d := 0; d < n; d++ {
				if d > 0 {
					next[d] += 2 * tCur[d-1]
				}
				next[d] -= tPrev[d]
			}
			for d := 0; d < n; d++ {
				mono[d] += c[j] * next[d]
			}
			tPrev, tCur = tCur, next
		}
		tab[iv] = mono
	}
	return tab
}

// erfScaled returns erf(u/√2) for u ≥ 0.
func erfScaled(u float64) float64 {
	if u >= erfIntervals*erfStep {
		u = erfIntervals * erfStep
	}
	i := int(u * (1 / erfStep))
	t := (u-float64(i)*erfStep)*(2/erfStep) - 1
	c := &erfTable[i]
	return ((((((c[6]*t+c[5])*t+c[4])*t+c[3])*t+c[2])*t+c[1])*t + c[0])
}

// geluErf applies the exact GELU, 0.5·x·(1 + erf(x/√2)), in place.
func geluErf(v []float32) {
	for i, x := range v {
		xf := float64(x)
		e := erfScaled(math.Abs(xf))
		if xf < 0 {
			e = -e
		}
		v[i] = float32(0.5 * xf * (1 + e))
	}
}

// geluTanh applies the tanh approximation of GELU (gelu_new) in place.
func geluTanh(v []float32) {
	const c = 0.7978845608028654 // √(2/π)
	for i, x := range v {
		xf := float64(x)
		v[i] = float32(0.5 * xf * (1 + math.Tanh(c*(xf+0.044715*xf*xf*xf))))
	}
}

func relu(v []float32) {
	for i, x := range v {
		if x < 0 {
			v[i] = 0
		}
	}
}

// expNeg returns e^x for x ≤ 0 (softmax arguments after subtracting the
// maximum), with a relative error below 1e-9 before rounding to float32.
func expNeg(x float32) float32 {
	if x < -87.5 {
		return 0 // below float32's normal range; the softmax weight is zero
	}
	const log2e = 1.4426950408889634
	xf := float64(x)
	n := math.Floor(xf*log2e + 0.5)
	r := xf - n*math.Ln2 // |r| ≤ ln2/2
	// Taylor series of e^r to degree 8: error < 0.35^9/9! ≈ 2e-10.
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040+r*(1.0/40320))))))))
	return float32(p * math.Float64frombits(uint64(int64(n)+1023)<<52))
}
