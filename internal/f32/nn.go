package f32

import (
	"math"
	"sync"
)

// The element-wise kernels of a transformer encoder: GELU after a bias add,
// the softmax of attention scores and LayerNorm after a residual add. They
// run once per element of large matrices, so they use short polynomial
// evaluations instead of math.Erf and math.Exp (which cost several times
// more); every path is accurate to about float32 rounding, with the bounds
// stated on each function (and checked by the tests for every kernel set).

// BiasGELU sets x[i] = GELU(x[i] + bias[i]), the exact GELU x·Φ(x) (erf
// form, PyTorch's default), with an absolute error of at most
// 2e-7·max(1, |x[i] + bias[i]|). It panics if len(bias) < len(x).
func BiasGELU(x, bias []float32) {
	bias = bias[:len(x)]
	if len(x) == 0 {
		return
	}
	active.biasGELU(x, bias)
}

// ScaledSoftmax replaces x by softmax(scale·x), scale > 0: the weights of
// one row of attention scores. Each weight is within 1e-7 of the exact
// softmax; a key of -Inf (or a large negative score) gets weight 0.
func ScaledSoftmax(x []float32, scale float32) {
	if len(x) == 0 {
		return
	}
	active.softmax(x, scale)
}

// LayerNorm sets x = LayerNorm(add + bias + x)·gamma + beta, with the biased
// variance as PyTorch computes it and eps added to the variance. add and
// bias may both be nil (no residual add). The portable code sums in float64,
// the vectorised code in float32; on the tests' inputs (offsets up to 10,
// outputs up to about ±4) every path is within 1e-6 of a float64
// computation. It panics if gamma, beta (or add and bias, when given) are
// shorter than x.
func LayerNorm(x, add, bias, gamma, beta []float32, eps float64) {
	n := len(x)
	gamma, beta = gamma[:n], beta[:n]
	if add != nil {
		add, bias = add[:n], bias[:n]
	}
	if n == 0 {
		return
	}
	active.layerNorm(x, add, bias, gamma, beta, eps)
}

func biasGELUGeneric(x, bias []float32) {
	for i := range x {
		x[i] += bias[i]
	}
	geluErf(x)
}

// softmaxGeneric replaces row by softmax(row·scale) in portable Go.
func softmaxGeneric(row []float32, scale float32) {
	mx := float32(math.Inf(-1))
	for i := range row {
		row[i] *= scale
		mx = max(mx, row[i])
	}
	var s0, s1 float32 // two sums, to halve the loop-carried dependency
	i := 0
	for ; i+1 < len(row); i += 2 {
		e0, e1 := expNeg(row[i]-mx), expNeg(row[i+1]-mx)
		row[i], row[i+1] = e0, e1
		s0 += e0
		s1 += e1
	}
	if i < len(row) {
		e := expNeg(row[i] - mx)
		row[i] = e
		s0 += e
	}
	inv := 1 / (s0 + s1)
	for i := range row {
		row[i] *= inv
	}
}

// layerNormGeneric is LayerNorm in portable Go, with float64 sums.
func layerNormGeneric(x, add, bias, g, b []float32, eps float64) {
	if add != nil {
		for j := range x {
			x[j] = (add[j] + bias[j]) + x[j]
		}
	}
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	inv := 1 / math.Sqrt(ss/float64(len(x))+eps)
	for j, v := range x {
		x[j] = float32((float64(v)-mean)*inv)*g[j] + b[j]
	}
}

// erfTable holds, for each interval [i·erfStep, (i+1)·erfStep) of u = |x|,
// the monomial coefficients (in t ∈ [-1, 1], the position within the
// interval) of the Chebyshev interpolant of erf(u/√2). They are computed at
// start-up from math.Erf, so no constants are transcribed by hand.
const (
	erfDegree    = 6
	erfStep      = 0.25
	erfIntervals = 24 // covers u ∈ [0, 6]; beyond, erf(u/√2) rounds to 1 in float32
)

func buildErfTable() (tab [erfIntervals + 1][erfDegree + 1]float64) {
	for iv := 0; iv <= erfIntervals; iv++ {
		mid := (float64(iv) + 0.5) * erfStep
		mono := chebyshevMonomial(func(t float64) float64 {
			return math.Erf((mid + erfStep/2*t) / math.Sqrt2)
		}, erfDegree+1)
		copy(tab[iv][:], mono)
	}
	return tab
}

// erfScaled returns erf(u/√2) for u ≥ 0 from tab.
func erfScaled(tab *[erfIntervals + 1][erfDegree + 1]float64, u float64) float64 {
	if u >= erfIntervals*erfStep {
		u = erfIntervals * erfStep
	}
	i := int(u * (1 / erfStep))
	t := (u-float64(i)*erfStep)*(2/erfStep) - 1
	c := &tab[i]
	return ((((((c[6]*t+c[5])*t+c[4])*t+c[3])*t+c[2])*t+c[1])*t + c[0])
}

// The exact GELU is x·Φ(x) with Φ(x) = 0.5·(1 + erf(x/√2)), the normal CDF.
// geluErf reads Φ from a table at steps of 1/phiSteps over [-phiRange,
// phiRange] with linear interpolation: the interpolation error is at most
// h²/8·|Φ”|, and x·Φ(x) errs by at most h²/8·max x²φ(x) ≈ 2.5e-8, below
// float32 rounding. Outside the range Φ is 0 or 1 to within 1e-15.
const (
	phiSteps = 1024
	phiRange = 8
)

// phiTable is built on first use (a few milliseconds), not at start-up:
// only the transformer runs GELU, and every kura command would pay for it.
var phiTable = sync.OnceValue(buildPhiTable)

func buildPhiTable() []float32 {
	erf := buildErfTable()
	t := make([]float32, 2*phiRange*phiSteps+2)
	for i := range t {
		x := float64(i)/phiSteps - phiRange
		e := erfScaled(&erf, math.Abs(x))
		if x < 0 {
			e = -e
		}
		t[i] = float32(0.5 * (1 + e))
	}
	return t
}

// geluErf applies the exact GELU, x·Φ(x), in place. It works in float32
// only: converting float32 to float64 (CVTSS2SD) leaves a false dependency
// on the destination register that serialises the loop and made a float64
// version several times slower. x·phiSteps is exact (a power of two), and so
// is its fractional part, so indexing loses no precision.
func geluErf(v []float32) {
	tab := phiTable()
	const lo, hi = -phiRange * phiSteps, phiRange * phiSteps
	for i, x := range v {
		s := x * phiSteps
		if s <= lo {
			v[i] = 0
			continue
		}
		if !(s < hi) {
			continue // Φ(x) = 1 to float32 precision (and NaN stays NaN)
		}
		k := int(s)
		fk := float32(k)
		if fk > s { // truncation rounded a negative s up
			k--
			fk--
		}
		f := s - fk
		j := k + phiRange*phiSteps
		p0 := tab[j]
		v[i] = x * (p0 + f*(tab[j+1]-p0))
	}
}

// geluPolyTable is the piecewise polynomial the vectorised GELU evaluates:
// erf(u/√2) for u = |x| ∈ [0, 6] in 8 intervals of 0.75, each a degree-8
// polynomial in t ∈ [-1, 1] (Chebyshev interpolant in monomial form, from
// math.Erf at start-up). Coef[d][i] is the t^d coefficient of interval i, so
// that one vector permute picks each lane's coefficient. The constants after
// it are read by the assembly at fixed offsets (asmgen's geluConsts).
type geluPolyTable struct {
	Coef     [9][8]float32
	AbsMask  uint32
	UMax     float32
	InvStep  float32
	Seven    int32
	Two, One float32
	Half     float32
	SignMask uint32
}

func buildGeluPoly() geluPolyTable {
	const step = 0.75
	p := geluPolyTable{AbsMask: 0x7fffffff, UMax: 6, InvStep: 1 / step, Seven: 7, Two: 2, One: 1, Half: 0.5, SignMask: 0x80000000}
	for i := 0; i < 8; i++ {
		lo := float64(i) * step
		mono := chebyshevMonomial(func(t float64) float64 {
			return math.Erf((lo + step/2 + step/2*t) / math.Sqrt2)
		}, 9)
		for d := range mono {
			p.Coef[d][i] = float32(mono[d])
		}
	}
	return p
}

// geluPolyScalar evaluates geluPolyTable for one value, as the assembly does
// for eight (used to test the table on every architecture).
func geluPolyScalar(p *geluPolyTable, x float32) float32 {
	u := min(float32(math.Abs(float64(x))), p.UMax)
	s := u * p.InvStep
	i := min(int32(s), 7)
	t := (s-float32(i))*2 - 1
	g := p.Coef[8][i]
	for d := 7; d >= 0; d-- {
		g = g*t + p.Coef[d][i]
	}
	if x < 0 {
		g = -g
	}
	return 0.5*x + 0.5*x*g
}

// chebyshevMonomial returns the monomial coefficients (in t ∈ [-1, 1]) of the
// degree n-1 Chebyshev interpolant of f at the n Chebyshev nodes.
func chebyshevMonomial(f func(float64) float64, n int) []float64 {
	c := make([]float64, n)
	for j := 0; j < n; j++ {
		var s float64
		for k := 0; k < n; k++ {
			theta := math.Pi * (float64(k) + 0.5) / float64(n)
			s += f(math.Cos(theta)) * math.Cos(float64(j)*theta)
		}
		c[j] = 2 * s / float64(n)
	}
	c[0] /= 2
	mono := make([]float64, n)
	tPrev := make([]float64, n) // T_{j-1}
	tCur := make([]float64, n)  // T_j
	tPrev[0] = 1
	if n > 1 {
		tCur[1] = 1
	}
	mono[0] = c[0]
	for j := 1; j < n; j++ {
		for d := range mono {
			mono[d] += c[j] * tCur[d]
		}
		next := make([]float64, n)
		for d := 0; d < n; d++ {
			if d > 0 {
				next[d] += 2 * tCur[d-1]
			}
			next[d] -= tPrev[d]
		}
		tPrev, tCur = tCur, next
	}
	return mono
}

// expNeg returns e^x for x ≤ 0 (softmax arguments after subtracting the
// maximum), in float32 arithmetic (see geluErf for why): x = n·ln2 + r with
// |r| ≤ ln2/2, e^r by its Taylor series to degree 7 (truncation error below
// 5e-9 relative), times 2^n built from its exponent bits. expConstTable
// holds the same constants for the assembly.
func expNeg(x float32) float32 {
	if x < -87.33 {
		return 0 // e^x < 1.2e-38, below float32's smallest normal number: a zero softmax weight
	}
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693145751953125 // ln 2 split so that n·ln2hi is exact
		ln2lo = 1.428606765330187e-06
	)
	n := int(x*log2e - 0.5) // rounds to nearest (truncation toward zero of a negative number)
	fn := float32(n)
	r := (x - fn*ln2hi) - fn*ln2lo
	p := 1 + r*(1+r*(1.0/2+r*(1.0/6+r*(1.0/24+r*(1.0/120+r*(1.0/720+r*(1.0/5040)))))))
	return p * math.Float32frombits(uint32(n+127)<<23)
}
