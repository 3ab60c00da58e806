package fit

import (
	"math"
	"testing"
)

// Exact power laws and lines must be recovered to within 1e-9 (relative).
func TestScalingRecoversExactLaws(t *testing.T) {
	ns := []float64{100, 250, 500, 1000, 2000}
	tests := []struct {
		name      string
		f         func(n float64) float64
		model     string
		a, b      float64 // power law
		intercept float64 // linear
		slope     float64
	}{
		{"linear power", func(n float64) float64 { return 0.03 * n }, "power", 0.03, 1, 0, 0.03},
		{"quadratic", func(n float64) float64 { return 2e-6 * n * n }, "power", 2e-6, 2, 0, 0},
		{"sub-linear", func(n float64) float64 { return 5 * math.Pow(n, 0.5) }, "power", 5, 0.5, 0, 0},
		{"n^1.5", func(n float64) float64 { return 3 * math.Pow(n, 1.5) }, "power", 3, 1.5, 0, 0},
		{"line with intercept", func(n float64) float64 { return 12e6 + 6144*n }, "linear", 0, 0, 12e6, 6144},
		// A fixed cost plus quadratic growth (HDBSCAN's time): neither the
		// log-log power law nor the line fits; the offset power law does.
		{"offset quadratic", func(n float64) float64 { return 0.05 + 2e-7*n*n }, "offset_power", 0.05, 2, 0, 2e-7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ys := make([]float64, len(ns))
			for i, n := range ns {
				ys[i] = tt.f(n)
			}
			f, err := Scaling("m", "s", ns, ys)
			if err != nil {
				t.Fatal(err)
			}
			if f.Model != tt.model {
				t.Fatalf("model %s, want %s (%s)", f.Model, tt.model, f.Describe())
			}
			switch tt.model {
			case "offset_power":
				if rel(f.OffsetC, tt.a) > 1e-9 || math.Abs(f.OffsetE-tt.b) > 1e-9 || rel(f.OffsetD, tt.slope) > 1e-9 || f.Exponent != tt.b {
					t.Errorf("offset fit %s", f.Describe())
				}
			case "power":
				if rel(f.PowerA, tt.a) > 1e-9 || math.Abs(f.PowerB-tt.b) > 1e-9 || math.Abs(f.PowerR2-1) > 1e-9 {
					t.Errorf("power fit a=%v b=%v R²=%v, want a=%v b=%v R²=1", f.PowerA, f.PowerB, f.PowerR2, tt.a, tt.b)
				}
			default:
				if rel(f.Intercept, tt.intercept) > 1e-9 || rel(f.Slope, tt.slope) > 1e-9 || math.Abs(f.LinearR2-1) > 1e-9 {
					t.Errorf("linear fit %v + %v·n R²=%v", f.Intercept, f.Slope, f.LinearR2)
				}
				if f.PowerR2 >= f.LinearR2 {
					t.Errorf("power R² %v should be below the exact line's", f.PowerR2)
				}
			}
			for _, n := range []float64{10000, 50000} {
				if got, want := f.Predict(n), tt.f(n); rel(got, want) > 1e-6 {
					t.Errorf("Predict(%v) = %v, want %v", n, got, want)
				}
			}
		})
	}
}

func TestScalingNeedsTwoScales(t *testing.T) {
	if _, err := Scaling("m", "s", []float64{100}, []float64{1}); err == nil {
		t.Error("one point: want an error")
	}
	if _, err := Scaling("m", "s", []float64{100, 100}, []float64{1, 2}); err == nil {
		t.Error("two points at the same scale: want an error")
	}
	// A zero value cannot be logged: the power law skips it and the line is used.
	f, err := Scaling("m", "s", []float64{100, 200, 300}, []float64{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if f.Model != "linear" || rel(f.Slope, 0.01) > 1e-12 {
		t.Errorf("fit with a zero: %+v", f)
	}
}

func rel(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// BenchmarkScaling fits the three models to five scales, as the load test's
// analysis does for each of its metrics.
func BenchmarkScaling(b *testing.B) {
	ns := []float64{100, 250, 500, 1000, 2000}
	ys := make([]float64, len(ns))
	for i, n := range ns {
		ys[i] = 0.05 + 2e-7*math.Pow(n, 2)
	}
	for b.Loop() {
		if _, err := Scaling("t", "s", ns, ys); err != nil {
			b.Fatal(err)
		}
	}
}

func TestQuadraticKeepsEachPartAtItsRate(t *testing.T) {
	ns := []float64{100, 250, 500, 1000, 2000}
	at := func(a, b float64) []float64 {
		ys := make([]float64, len(ns))
		for i, n := range ns {
			ys[i] = a*n + b*n*n
		}
		return ys
	}
	tests := []struct {
		name   string
		ys     []float64
		wantA  float64
		wantB  float64
		at10k  float64
		within float64 // relative, of the value at 10,000
	}{
		// A linear part that is most of the time at 2,000 (HDBSCAN's exact
		// path over the default scales): the power law through these
		// points grows as n^1.6, n² alone plans 10,000 at 25× the 2,000
		// time; the form gives 1e-4·1e4 + 2e-8·1e8 = 3 s.
		{"linear plus quadratic", at(1e-4, 2e-8), 1e-4, 2e-8, 3, 1e-9},
		{"quadratic only", at(0, 5e-8), 0, 5e-8, 5, 1e-9},
		// Concave data (noise) cannot make a quadratic stage plan below
		// the line through the origin: the quadratic part is dropped.
		{"concave", []float64{0.02, 0.045, 0.08, 0.15, 0.28}, -1, 0, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Quadratic("cluster_time", "s", ns, tt.ys)
			if err != nil {
				t.Fatal(err)
			}
			if f.Model != "quadratic" || f.Exponent != 2 {
				t.Fatalf("model %s exponent %v, want quadratic, 2", f.Model, f.Exponent)
			}
			if f.QuadA < 0 || f.QuadB < 0 {
				t.Fatalf("negative coefficients %v, %v", f.QuadA, f.QuadB)
			}
			if tt.wantA >= 0 && (rel(f.QuadA, tt.wantA) > 1e-6 && f.QuadA > 1e-15 || rel(f.QuadB, tt.wantB) > 1e-6 && f.QuadB > 1e-20) {
				t.Errorf("A, B = %g, %g, want %g, %g", f.QuadA, f.QuadB, tt.wantA, tt.wantB)
			}
			if tt.at10k > 0 && rel(f.Predict(1e4), tt.at10k) > tt.within+1e-9 {
				t.Errorf("at 10,000: %v, want %v", f.Predict(1e4), tt.at10k)
			}
			if tt.wantA < 0 && f.QuadB != 0 {
				t.Errorf("concave data kept a quadratic part %g", f.QuadB)
			}
			if lo, hi, ok := f.Interval(1e4, IntervalLevel); !ok || lo > f.Predict(1e4) || hi < f.Predict(1e4) {
				t.Errorf("interval [%v, %v] (ok %v) does not hold the prediction %v", lo, hi, ok, f.Predict(1e4))
			}
		})
	}
}
