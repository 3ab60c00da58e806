package fit

import (
	"fmt"
	"math"
	"testing"
)

// The reference intervals were computed with numpy and scipy.stats
// (t.ppf, f.ppf) by testdata/interval_ref.py, written apart from this
// package from the formulas: the textbook OLS prediction interval of a new
// observation for the line and the power law (log-log), whose noise is even
// in their coordinates, and for the growth laws, whose timing noise is a
// share of the value, the OLS line's sandwich variance with each point's
// noise in proportion to it (above fit.NoiseFloor) plus the new point's
// own (σ·ŷ)², and for the
// offset power law the union over the exponents the F-test does not reject.
// The data are the cluster-stage times of a default load test, and a
// quadratic stage with ±3% noise. They agree to 1e-9 relative (float64
// arithmetic in a different order).
func TestIntervalMatchesSciPy(t *testing.T) {
	n := []float64{100, 250, 500, 1000, 2000}
	y := []float64{0.047, 0.021, 0.095, 0.293, 0.646}
	quad := []float64{0.03296, 0.041225, 0.08159999999999999, 0.2254, 0.8382999999999999}
	tests := []struct {
		model  string
		y      []float64
		minExp float64
		at     float64
		lo, hi float64
	}{
		{"linear", y, 1, 10000, 2.7613786959454223, 3.894679404139396},
		{"power", y, 1, 10000, 0.12519409702330078, 54.348339080142665},
		{"nlogn", y, 1, 10000, 0, 11.513127234800484},
		{"offset_power", y, 1, 10000, -311.18315370634383, 454.5626400761128},
		{"offset_power", quad, 2, 10000, 16.740640149634906, 30.605970439160508},
		{"offset_power", quad, 2, 100000, 1673.1760160504452, 3849.274284300603},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s from n^%g at %g", tc.model, tc.minExp, tc.at), func(t *testing.T) {
			f, err := GrowthAtLeast("cluster_time", "s", n, tc.y, tc.minExp)
			if err != nil {
				t.Fatal(err)
			}
			f.Model = tc.model // the interval of each model, whichever was chosen
			lo, hi, ok := f.Interval(tc.at, IntervalLevel)
			if !ok {
				t.Fatal("no interval")
			}
			if !close(lo, max(tc.lo, 0), 1e-9) || !close(hi, tc.hi, 1e-9) {
				t.Errorf("interval [%v, %v], scipy [%v, %v]", lo, hi, tc.lo, tc.hi)
			}
		})
	}
}

func close(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b)) }

func TestIntervalNeedsDegreesOfFreedom(t *testing.T) {
	f, err := Scaling("x", "s", []float64{100, 200}, []float64{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok := f.Interval(1000, IntervalLevel); ok {
		t.Error("two points have no residual to estimate noise from, but an interval was given")
	}
	var back Fit // as read from JSON: no points
	back.Model = "linear"
	if _, _, ok := back.Interval(1000, IntervalLevel); ok {
		t.Error("a fit without points gave an interval")
	}
}

// A stage that grows as n^1.8 under a large fixed cost: over 100..2,000 the
// plain line fits best (Scaling picks it), and extrapolates 10x too low;
// Growth does not take the line, predicts 10,000 (5x) within 15% and holds
// the truth inside its 90% interval at 10,000 and at 100,000 (50x, where the
// exponent's own uncertainty is most of the interval). The noise here is
// ±3%, deterministic.
func TestGrowthRefusesTheLineForSuperlinearWork(t *testing.T) {
	truth := func(n float64) float64 { return 0.03 + 2e-7*math.Pow(n, 1.8) }
	ns := []float64{100, 250, 500, 1000, 2000}
	noise := []float64{1.03, 0.97, 1.02, 0.98, 1.01}
	y := make([]float64, len(ns))
	for i, n := range ns {
		y[i] = truth(n) * noise[i]
	}
	g, err := Growth("cluster_time", "s", ns, y)
	if err != nil {
		t.Fatal(err)
	}
	if g.Model == "linear" {
		t.Fatalf("Growth chose the line: %s", g.Describe())
	}
	for _, n := range []float64{10000, 100000} {
		if got, want := g.Predict(n), truth(n); n == 10000 && math.Abs(got-want)/want > 0.15 {
			t.Errorf("Growth predicts %.3g s at %.0f, truth %.3g (%s)", got, n, want, g.Describe())
		}
		lo, hi, ok := g.Interval(n, IntervalLevel)
		if !ok || lo > truth(n) || hi < truth(n) {
			t.Errorf("interval at %.0f [%.3g, %.3g] (ok=%v) does not hold the truth %.3g", n, lo, hi, ok, truth(n))
		}
	}
	// A linear stage stays near linear: n·log n or a power law close to 1.
	lin := []float64{0.11, 0.26, 0.49, 1.02, 1.98}
	g, err = Growth("embed_time", "s", ns, lin)
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Predict(10000); got < 9 || got > 12.5 {
		t.Errorf("a linear stage planned at %.2f s for 10,000 (about 10 expected): %s", got, g.Describe())
	}
}

// A quadratic stage (HDBSCAN's exact path) with linear work beside it and
// ±3% noise: over 100..2,000 the linear term flattens the curve, so a free
// exponent comes out under 2 and plans 10,000 more than 15% too low; held
// to n² or more (GrowthAtLeast) the plan is within the ±30% the planning
// aims at (it leans high: the fixed cost plus n² takes the linear work as
// quadratic) and its interval holds the truth.
func TestGrowthAtLeastHoldsAQuadraticStage(t *testing.T) {
	truth := func(n float64) float64 { return 0.01 + 1e-4*n + 1.5e-7*n*n }
	ns := []float64{100, 250, 500, 1000, 2000}
	noise := []float64{1.03, 0.97, 1.02, 0.98, 1.01}
	y := make([]float64, len(ns))
	for i, n := range ns {
		y[i] = truth(n) * noise[i]
	}
	free, err := Growth("cluster_time", "s", ns, y)
	if err != nil {
		t.Fatal(err)
	}
	held, err := GrowthAtLeast("cluster_time", "s", ns, y, 2)
	if err != nil {
		t.Fatal(err)
	}
	if held.Exponent < 2 {
		t.Errorf("held to n^2, the fit's exponent is %.2f: %s", held.Exponent, held.Describe())
	}
	want := truth(10000)
	if got := free.Predict(10000); got > 0.85*want {
		t.Errorf("the free fit plans %.3g s at 10,000 (truth %.3g): the case no longer shows the flattening (%s)", got, want, free.Describe())
	}
	if got := held.Predict(10000); math.Abs(got-want)/want > 0.30 {
		t.Errorf("held to n^2, planned %.3g s at 10,000, truth %.3g (%s)", got, want, held.Describe())
	}
	lo, hi, ok := held.Interval(10000, IntervalLevel)
	if !ok || lo > want || hi < want {
		t.Errorf("interval [%.3g, %.3g] (ok=%v) does not hold the truth %.3g", lo, hi, ok, want)
	}
	// From three scales the floor still gives a plan and an exponent of 2.
	three, err := GrowthAtLeast("cluster_time", "s", ns[2:], y[2:], 2)
	if err != nil || three.Exponent < 2 {
		t.Fatalf("three scales: %v, %+v", err, three)
	}
}
