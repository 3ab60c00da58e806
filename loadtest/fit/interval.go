package fit

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// IntervalLevel is the coverage of the prediction intervals the planning
// states: 90%, two-sided.
const IntervalLevel = 0.90

// NoiseFloor is the value below which the noise of a relative fit stops
// shrinking with the value: 50 ms, under which scheduling and timer jitter
// of a few milliseconds, not a share of the work, is what varies.
const NoiseFloor = 0.05

// band is an ordinary least-squares line y = a + b·x in transformed
// coordinates, with what a prediction interval at a new x needs. The noise
// of a point is either even (additive: the textbook interval) or a share of
// its value (relative: a point's standard deviation is σ·max(y,
// NoiseFloor)), and σ is estimated from the residuals in that unit.
type band struct {
	a, b     float64
	x, scale []float64 // the points' x, and each one's noise scale (1, or max(y, NoiseFloor) when relative)
	relative bool
	ixx      [3]float64 // (XᵀX)⁻¹ of the basis [1, x]: [0][0], [0][1], [1][1]
	s2       float64    // σ², Σ (r/scale)² / df
	df       int
}

// newBand fits the line through (x, y); params is the number of parameters
// the model spent on the data (2 for the line itself, 3 when an exponent
// was searched for as well), so df = len(x) - params. relative says the
// noise is a share of the value.
func newBand(x, y []float64, params int, relative bool) band {
	a, b := leastSquares(x, y)
	bd := band{a: a, b: b, x: x, scale: make([]float64, len(x)), relative: relative, df: len(x) - params}
	var n, sx, sxx, sse float64
	for i, v := range x {
		n++
		sx += v
		sxx += v * v
		bd.scale[i] = 1
		if relative {
			bd.scale[i] = max(y[i], NoiseFloor)
		}
		r := (y[i] - a - b*v) / bd.scale[i]
		sse += r * r
	}
	det := n*sxx - sx*sx
	bd.ixx = [3]float64{sxx / det, -sx / det, n / det}
	if bd.df > 0 {
		bd.s2 = sse / float64(bd.df)
	}
	return bd
}

// halfWidth is the half-width of the two-sided prediction interval of a new
// observation at x0: Student's t with df degrees of freedom times the
// square root of the new point's noise variance plus the variance of the
// fitted line at x0. For even noise that is t·s·sqrt(1 + 1/n + (x0 -
// mean)²/Sxx), the textbook interval; for relative noise the new point's
// variance is σ²·max(ŷ0, NoiseFloor)² and the line's is the sandwich
// gᵀ(XᵀX)⁻¹·Xᵀ diag(σ²·max(y, NoiseFloor)²) X·(XᵀX)⁻¹g, g = (1, x0), the variance of the
// least-squares line when each point's noise is in proportion to its value.
// It is NaN when the fit has no degrees of freedom left to estimate its
// noise.
func (bd band) halfWidth(x0, level float64) float64 {
	if bd.df <= 0 || math.IsNaN(bd.s2) || !(bd.ixx[2] > 0) || math.IsInf(bd.ixx[2], 0) {
		return math.NaN()
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(bd.df)}.Quantile(0.5 + level/2)
	// v = (XᵀX)⁻¹ g: the line at x0 is Σ (v0 + v1·x_i)·y_i.
	v0 := bd.ixx[0] + bd.ixx[1]*x0
	v1 := bd.ixx[1] + bd.ixx[2]*x0
	var line float64
	for i, x := range bd.x {
		c := (v0 + v1*x) * bd.scale[i]
		line += c * c
	}
	own := 1.0
	if bd.relative {
		own = max(bd.a+bd.b*x0, NoiseFloor)
		own *= own
	}
	return t * math.Sqrt(bd.s2*(own+line))
}

// Interval returns the two-sided prediction interval, at the given level
// (e.g. IntervalLevel), of the chosen model's value at n conversations. Each
// model is a straight line in its own coordinates (the power law in log-log,
// the offset power law in n^E, n·log n in n·ln n), and the interval is that
// line's ordinary least-squares prediction interval, mapped back; for the
// offset power law it treats the exponent found by the grid search as one
// more parameter spent. ok is false when the interval cannot be computed:
// the fit was read back from JSON (it keeps no points), or it has as many
// parameters as points and so no estimate of its noise. The interval says
// how far the data alone leave the value open; it assumes the model's form
// holds beyond the scales measured, which is why the planning also notes a
// far extrapolation in words.
func (f *Fit) Interval(n, level float64) (lo, hi float64, ok bool) {
	if len(f.xs) == 0 || n <= 0 {
		return 0, 0, false
	}
	switch f.Model {
	case "power":
		var lx, ly []float64
		for i := range f.xs {
			if f.ys[i] > 0 {
				lx = append(lx, math.Log(f.xs[i]))
				ly = append(ly, math.Log(f.ys[i]))
			}
		}
		if len(lx) < 3 {
			return 0, 0, false
		}
		h := newBand(lx, ly, 2, false).halfWidth(math.Log(n), level)
		c := math.Log(f.Predict(n))
		lo, hi = math.Exp(c-h), math.Exp(c+h)
	case "linear":
		h := newBand(f.xs, f.ys, 2, false).halfWidth(n, level)
		c := f.Predict(n)
		lo, hi = c-h, c+h
	case "nlogn":
		z := make([]float64, len(f.xs))
		for i, x := range f.xs {
			z[i] = x * math.Log(x)
		}
		h := newBand(z, f.ys, 2, f.relative).halfWidth(n*math.Log(n), level)
		c := f.Predict(n)
		lo, hi = c-h, c+h
	case "quadratic":
		// y/n = A + B·n is a line in the time per conversation: the width
		// is that line's band (its own least-squares fit, which weights
		// every scale alike, so the scatter of the small scales widens it),
		// scaled back by n and put around the fit's figure (least squares
		// in y, which the large scales decide).
		per := make([]float64, len(f.xs))
		for i, x := range f.xs {
			per[i] = f.ys[i] / x
		}
		h := newBand(f.xs, per, 2, false).halfWidth(n, level) * n
		c := f.Predict(n)
		lo, hi = c-h, c+h
	case "offset_power":
		lo, hi = f.offsetPowerInterval(n, level)
	default:
		return 0, 0, false
	}
	if math.IsNaN(lo) || math.IsNaN(hi) {
		return 0, 0, false
	}
	return max(lo, 0), hi, true
}

// offsetPowerInterval is the interval of y = C + D·n^E. The exponent was
// searched for, and at a far target its uncertainty is most of the
// uncertainty, so the interval is the union, over every exponent of the grid
// (from the lowest the fit allowed) that the data do not reject (residual
// sum of squares within the F-test's bound of the best one, at the same
// level), of the line's prediction interval in n^E. For a relative fit the
// residuals are measured as shares of the values, in the bound and in each
// line's interval (see band).
func (f *Fit) offsetPowerInterval(n, level float64) (lo, hi float64) {
	df := len(f.xs) - 3
	if df <= 0 {
		return math.NaN(), math.NaN()
	}
	z := make([]float64, len(f.xs))
	type cand struct {
		e   float64
		sse float64
	}
	var cands []cand
	best := math.Inf(1)
	first := 25
	if f.relative {
		first = int(math.Round(max(f.minExp, 1) * 100))
	}
	for k := first; k <= 300; k++ {
		e := float64(k) / 100
		for i, x := range f.xs {
			z[i] = math.Pow(x, e)
		}
		a, b := leastSquares(z, f.ys)
		var sse float64
		for i := range z {
			r := f.ys[i] - a - b*z[i]
			if f.relative {
				r /= max(f.ys[i], NoiseFloor)
			}
			sse += r * r
		}
		cands = append(cands, cand{e, sse})
		best = min(best, sse)
	}
	fq := distuv.F{D1: 1, D2: float64(df)}.Quantile(level)
	bound := best * (1 + fq/float64(df))
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, c := range cands {
		if c.sse > bound {
			continue
		}
		for i, x := range f.xs {
			z[i] = math.Pow(x, c.e)
		}
		bd := newBand(z, f.ys, 3, f.relative)
		zn := math.Pow(n, c.e)
		h := bd.halfWidth(zn, level)
		center := bd.a + bd.b*zn
		lo, hi = min(lo, center-h), max(hi, center+h)
	}
	// The chosen fit itself may have clamped its fixed cost at zero.
	if p := f.Predict(n); p < lo || p > hi {
		lo, hi = min(lo, p), max(hi, p)
	}
	return lo, hi
}
