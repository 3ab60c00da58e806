// Package fit fits growth laws to measurements taken at several sizes:
// a power law, a line and a fixed cost plus a power law, by least squares,
// with the model chosen by the small-sample AIC.
package fit

import (
	"fmt"
	"math"
	"sort"
)

// Fit is a least-squares fit of one metric against the number of
// conversations over all successful scales. Three models are fitted:
//
//   - power:        y = A·n^B, a straight line in log-log space;
//   - linear:       y = Intercept + Slope·n;
//   - offset power: y = C + D·n^E (a fixed cost plus growth; needs four or
//     more scales, three when Growth holds E to a known floor), least
//     squares in y over a grid of E from 0.25 (Growth: 1 or its floor) to 3.
//
// All R² values are computed on the original scale of y so that they are
// comparable. Model names the one with the lowest small-sample AIC (which
// charges the offset power law for its extra parameter); Predict uses it. The
// growth exponent is B, or E when the offset power law is chosen.
type Fit struct {
	Metric    string  `json:"metric"`
	Unit      string  `json:"unit"`
	Points    int     `json:"points"`
	Model     string  `json:"model"` // "power", "linear" or "offset_power"
	PowerA    float64 `json:"power_a"`
	PowerB    float64 `json:"power_b"`
	PowerR2   float64 `json:"power_r2"`
	Intercept float64 `json:"linear_intercept"`
	Slope     float64 `json:"linear_slope"`
	LinearR2  float64 `json:"linear_r2"`
	OffsetC   float64 `json:"offset_c"`
	OffsetD   float64 `json:"offset_d"`
	OffsetE   float64 `json:"offset_e"`
	OffsetR2  float64 `json:"offset_r2"` // 0 when not fitted (fewer than four scales)
	// NLogN* is y = C + A·n·ln n, fitted only by Growth (for stages whose
	// work grows faster than the data: k-NN graphs, UMAP, clustering).
	NLogNC  float64 `json:"nlogn_c,omitempty"`
	NLogNA  float64 `json:"nlogn_a,omitempty"`
	NLogNR2 float64 `json:"nlogn_r2,omitempty"`
	// Quad* is y = A·n + B·n², fitted only by Quadratic (for stages whose
	// work is known to be a linear part plus a quadratic one).
	QuadA  float64 `json:"quad_a,omitempty"`
	QuadB  float64 `json:"quad_b,omitempty"`
	QuadR2 float64 `json:"quad_r2,omitempty"`
	// Exponent is the growth exponent of the chosen model (1 for a line;
	// for n·log n, its local exponent 1 + 1/ln n at the largest scale).
	Exponent float64 `json:"exponent"`

	xs, ys []float64 // the points, for Interval; not kept in JSON
	// relative: the noise is taken as a share of the value (timings): the
	// intervals of the offset power law and n·log n widen in proportion to
	// the value. Set by Growth; not kept in JSON.
	relative bool
	minExp   float64 // the lowest growth exponent the fit was allowed
}

// Predict evaluates the chosen model at n conversations.
func (f *Fit) Predict(n float64) float64 {
	switch f.Model {
	case "linear":
		return f.Intercept + f.Slope*n
	case "offset_power":
		return f.OffsetC + f.OffsetD*math.Pow(n, f.OffsetE)
	case "nlogn":
		return f.NLogNC + f.NLogNA*n*math.Log(n)
	case "quadratic":
		return f.QuadA*n + f.QuadB*n*n
	}
	return f.PowerA * math.Pow(n, f.PowerB)
}

// R2 is the coefficient of determination of the chosen model.
func (f *Fit) R2() float64 {
	switch f.Model {
	case "linear":
		return f.LinearR2
	case "offset_power":
		return f.OffsetR2
	case "nlogn":
		return f.NLogNR2
	case "quadratic":
		return f.QuadR2
	}
	return f.PowerR2
}

// Describe states the chosen model, its exponent and its R² in words.
func (f *Fit) Describe() string {
	switch f.Model {
	case "linear":
		return fmt.Sprintf("linear %s + %s·n (R²=%.3f; power law n^%.2f R²=%.3f)",
			g4(f.Intercept), g4(f.Slope), f.LinearR2, f.PowerB, f.PowerR2)
	case "offset_power":
		return fmt.Sprintf("%s + %s·n^%.2f (R²=%.3f; linear R²=%.3f, power law n^%.2f R²=%.3f)",
			g4(f.OffsetC), g4(f.OffsetD), f.OffsetE, f.OffsetR2, f.LinearR2, f.PowerB, f.PowerR2)
	case "nlogn":
		return fmt.Sprintf("%s + %s·n·ln n (R²=%.3f; power law n^%.2f R²=%.3f)",
			g4(f.NLogNC), g4(f.NLogNA), f.NLogNR2, f.PowerB, f.PowerR2)
	case "quadratic":
		return fmt.Sprintf("%s·n + %s·n² (R²=%.3f; power law n^%.2f R²=%.3f)",
			g4(f.QuadA), g4(f.QuadB), f.QuadR2, f.PowerB, f.PowerR2)
	}
	return fmt.Sprintf("power law %s·n^%.2f (R²=%.3f; linear R²=%.3f)", g4(f.PowerA), f.PowerB, f.PowerR2, f.LinearR2)
}

func g4(v float64) string { return fmt.Sprintf("%.4g", v) }

// Scaling fits the models to the points (n[i], y[i]). Points with n <= 0
// are ignored; the power law ignores points with y <= 0 (log undefined). It
// needs at least two usable points and two distinct n.
func Scaling(metric, unit string, n, y []float64) (*Fit, error) {
	return fitModels(metric, unit, n, y, false, 1)
}

// Growth fits a metric known to grow at least as fast as the data, such as
// the time of a k-NN graph, UMAP or HDBSCAN: the candidates are the power
// law, C + A·n·ln n and (from four scales) the offset power law, never the
// plain line, which a few noisy points with a large fixed cost can favour
// although the work behind them is super-linear. The choice among them is
// by the small-sample AIC, as in Scaling.
//
// Timing noise is relative (a busy machine slows a stage by a share, not by
// a fixed number of seconds): the power law is fitted in log-log, where
// that noise is even, and the prediction intervals of the offset power law
// and n·log n take the noise as a share of the value (see Interval). Their
// coefficients stay ordinary least squares in seconds, which the largest
// scales decide: weighting every scale alike by relative error lets the
// 100-conversation times, a few milliseconds of scheduling noise, bend the
// curve that is extrapolated.
func Growth(metric, unit string, n, y []float64) (*Fit, error) {
	return GrowthAtLeast(metric, unit, n, y, 1)
}

// GrowthAtLeast is Growth for a stage whose complexity is known to be at
// least n^minExp (HDBSCAN's exact path builds and walks the complete graph
// of the points: n²): the power law and the offset power law are held to
// exponents of at least minExp, and n·log n is not a candidate when minExp
// is above 1. Over a few small scales a fixed cost and lower-order terms
// flatten the curve, and a free exponent then plans a quadratic stage too
// low. With minExp above 1 the offset power law is fitted from three scales.
func GrowthAtLeast(metric, unit string, n, y []float64, minExp float64) (*Fit, error) {
	return fitModels(metric, unit, n, y, true, max(minExp, 1))
}

// Quadratic fits y = A·n + B·n² (A, B >= 0) by least squares in y: the
// cost of a stage that does O(n) work besides O(n²) work, such as HDBSCAN's
// exact path (condensing, labelling and I/O beside the n² distances of the
// core distances and the spanning tree). Over small scales the linear part
// is a large share, so a power law fitted there grows more slowly than n²
// and plans low, while n² alone, or a fixed cost plus n², charges the
// linear part quadratically and plans high; this form keeps each part at
// its own rate. A negative coefficient (noise) is set to 0 and the other
// refitted alone. Exponent is 2, the growth the quadratic part reaches.
// It needs two scales with different sizes; as in Growth, a zero time
// carries no information and is left out.
func Quadratic(metric, unit string, n, y []float64) (*Fit, error) {
	// The other models (a growth fit held to n²) are kept beside it, for
	// Describe and for comparison.
	f, err := fitModels(metric, unit, n, y, true, 2)
	if err != nil {
		return nil, err
	}
	xs, ys := f.xs, f.ys
	var s11, s12, s22, b1, b2 float64 // normal equations of the basis [n, n²]
	for i, x := range xs {
		s11 += x * x
		s12 += x * x * x
		s22 += x * x * x * x
		b1 += x * ys[i]
		b2 += x * x * ys[i]
	}
	det := s11*s22 - s12*s12
	a, b := (b1*s22-b2*s12)/det, (s11*b2-s12*b1)/det
	switch {
	case !(det > 0) || b < 0:
		a, b = b1/s11, 0
	case a < 0:
		a, b = 0, b2/s22
	}
	f.QuadA, f.QuadB = a, b
	f.QuadR2 = rSquared(ys, func(i int) float64 { return a*xs[i] + b*xs[i]*xs[i] })
	f.Model, f.Exponent = "quadratic", 2
	return f, nil
}

func fitModels(metric, unit string, n, y []float64, growth bool, minExp float64) (*Fit, error) {
	if len(n) != len(y) {
		return nil, fmt.Errorf("fit %s: %d scales but %d values", metric, len(n), len(y))
	}
	var xs, ys, lx, ly []float64
	for i := range n {
		if n[i] <= 0 || math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			continue
		}
		// A relative fit measures noise as a share of y: a zero time
		// carries none.
		if growth && y[i] <= 0 {
			continue
		}
		xs = append(xs, n[i])
		ys = append(ys, y[i])
		if y[i] > 0 {
			lx = append(lx, math.Log(n[i]))
			ly = append(ly, math.Log(y[i]))
		}
	}
	if len(xs) < 2 || distinct(xs) < 2 {
		return nil, fmt.Errorf("fit %s: need at least two scales with different sizes, have %d", metric, distinct(xs))
	}
	f := &Fit{Metric: metric, Unit: unit, Points: len(xs), xs: xs, ys: ys, relative: growth, minExp: minExp}
	f.Intercept, f.Slope = leastSquares(xs, ys)
	f.LinearR2 = rSquared(ys, func(i int) float64 { return f.Intercept + f.Slope*xs[i] })
	type cand struct {
		model string
		k     int // parameters
		exp   float64
	}
	cands := []cand{{"linear", 2, 1}}
	if growth {
		cands = nil
		if minExp <= 1 {
			z := make([]float64, len(xs))
			for i, x := range xs {
				z[i] = x * math.Log(x)
			}
			f.NLogNC, f.NLogNA = leastSquares(z, ys)
			f.NLogNR2 = rSquared(ys, func(i int) float64 { return f.NLogNC + f.NLogNA*z[i] })
			top := xs[0]
			for _, x := range xs {
				top = max(top, x)
			}
			cands = []cand{{"nlogn", 2, 1 + 1/math.Log(top)}}
		}
	}
	if len(lx) >= 2 && distinct(lx) >= 2 {
		la, b := leastSquares(lx, ly)
		f.PowerA, f.PowerB = math.Exp(la), b
		f.PowerR2 = rSquared(ys, func(i int) float64 { return f.PowerA * math.Pow(xs[i], f.PowerB) })
		// Listed first: with equal fits the power law wins, as it carries
		// the growth exponent. A growth fit does not take a power law
		// flatter than the data, nor than the stage's known complexity.
		if !growth || b >= minExp {
			cands = append([]cand{{"power", 2, b}}, cands...)
		}
	}
	if distinct(xs) >= 4 || (growth && minExp > 1 && distinct(xs) >= 3) {
		lo := 0.25
		if growth {
			lo = minExp
		}
		f.OffsetC, f.OffsetD, f.OffsetE = fitOffsetPower(xs, ys, lo)
		f.OffsetR2 = rSquared(ys, func(i int) float64 { return f.OffsetC + f.OffsetD*math.Pow(xs[i], f.OffsetE) })
		cands = append(cands, cand{"offset_power", 3, f.OffsetE})
	}
	if len(cands) == 0 { // a growth fit from two scales, above n·log n: the power law at the floor
		f.PowerB = minExp
		f.PowerA = math.Exp(mean(ly) - minExp*mean(lx))
		f.PowerR2 = rSquared(ys, func(i int) float64 { return f.PowerA * math.Pow(xs[i], f.PowerB) })
		cands = []cand{{"power", 1, minExp}}
	}
	best, bestScore := cands[0], math.Inf(1)
	for _, c := range cands {
		g := *f
		g.Model = c.model
		if score := aicc(1-g.R2(), len(xs), c.k); score < bestScore-1e-9 {
			best, bestScore = c, score
		}
	}
	f.Model, f.Exponent = best.model, best.exp
	return f, nil
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// aicc is the small-sample Akaike information criterion of a least-squares
// model with k parameters and residual sum of squares rss (in a unit shared
// by the models compared, here 1 - R²) over n points, up to a constant:
// n·ln(rss) + 2k +
// 2k(k+1)/(n-k-1). Lower is better. With five scales a third parameter must
// cut the residual sum of squares about 50-fold to be chosen, so noise is
// not read as curvature, while real curvature (clustering's n²) is.
func aicc(rss float64, n, k int) float64 {
	rss = math.Max(rss, 1e-12) // an exact fit: a floor instead of log(0)
	pen := 2 * float64(k)
	switch {
	case n-k-1 > 0:
		pen += 2 * float64(k*(k+1)) / float64(n-k-1)
	case k >= n:
		pen = 1e9 // as many parameters as points: a fit proves nothing
	}
	return float64(n)*math.Log(rss) + pen
}

// fitOffsetPower fits y = c + d·n^e with c >= 0 by least squares in y,
// for e on a grid of 0.01 from minE to 3 (for each e, c and d are a linear
// least-squares problem on the basis [1, n^e]).
func fitOffsetPower(xs, ys []float64, minE float64) (c, d, e float64) {
	bestSSE := math.Inf(1)
	z := make([]float64, len(xs))
	for k := int(math.Round(minE * 100)); k <= 300; k++ {
		ee := float64(k) / 100
		for i, x := range xs {
			z[i] = math.Pow(x, ee)
		}
		cc, dd := leastSquares(z, ys)
		if cc < 0 { // no negative fixed cost: refit through the origin
			var zy, zz float64
			for i := range z {
				zy += z[i] * ys[i]
				zz += z[i] * z[i]
			}
			cc, dd = 0, zy/zz
		}
		var sse float64
		for i := range z {
			r := ys[i] - cc - dd*z[i]
			sse += r * r
		}
		if sse < bestSSE {
			bestSSE, c, d, e = sse, cc, dd, ee
		}
	}
	return c, d, e
}

func distinct(v []float64) int {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	k := 0
	for i := range s {
		if i == 0 || s[i] != s[i-1] {
			k++
		}
	}
	return k
}

// leastSquares returns the intercept and slope of the ordinary least-squares
// line through (x, y).
func leastSquares(x, y []float64) (intercept, slope float64) {
	var mx, my float64
	for i := range x {
		mx += x[i]
		my += y[i]
	}
	mx /= float64(len(x))
	my /= float64(len(y))
	var sxy, sxx float64
	for i := range x {
		dx := x[i] - mx
		sxy += dx * (y[i] - my)
		sxx += dx * dx
	}
	slope = sxy / sxx
	return my - slope*mx, slope
}

// rSquared is 1 - SS_res/SS_tot of predictions pred(i) against y. When y is
// constant it is 1 for an exact fit and 0 otherwise.
func rSquared(y []float64, pred func(i int) float64) float64 {
	var my float64
	for _, v := range y {
		my += v
	}
	my /= float64(len(y))
	var ssRes, ssTot float64
	for i, v := range y {
		d := v - pred(i)
		ssRes += d * d
		t := v - my
		ssTot += t * t
	}
	if ssTot == 0 {
		if ssRes <= 1e-12*math.Max(1, my*my) {
			return 1
		}
		return 0
	}
	return 1 - ssRes/ssTot
}
