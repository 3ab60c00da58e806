package fit

import (
	"math"
	"testing"
)

// The reference intervals were computed with numpy.polyfit and
// scipy.stats.t.ppf(0.95, df) (the textbook OLS prediction interval of a new
// observation) on the cluster-stage times of a default load test; they agree
// to 1e-9 relative (float64 arithmetic in a different order).
func TestIntervalMatchesSciPy(t *testing.T) {
	n := []float64{100, 250, 500, 1000, 2000}
	y := []float64{0.047, 0.021, 0.095, 0.293, 0.646}
	tests := []struct {
		model  string
		lo, hi float64
	}{
		{"linear", 2.7613786959454223, 3.894679404139396},
		{"power", 0.12519409702330078, 54.348339080142665},
		{"nlogn", 3.4199204557234992, 4.509739268151621},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			f, err := Growth("cluster_time", "s", n, y)
			if err != nil {
				t.Fatal(err)
			}
			f.Model = tc.model // the interval of each model, whichever was chosen
			lo, hi, ok := f.Interval(10000, IntervalLevel)
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
