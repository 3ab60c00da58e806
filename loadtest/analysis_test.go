package loadtest

import (
	"math"
	"testing"
)

func TestEfficiencyAndVerdict(t *testing.T) {
	// The guide's example: 3.87x memory for 5.0x conversations is 1.29.
	tests := []struct {
		scale, metric, want float64
		verdict             string
	}{
		{5.0, 3.87, 1.2920, "better than linear (sub-linear growth): good"},
		{5.0, 3.70, 1.3514, "better than linear (sub-linear growth): good"},
		{20, 20, 1, "linear: grows in step with the data"},
		{20, 20.8, 0.9615, "linear: grows in step with the data"},
		{20, 25, 0.8, "slightly worse than linear: watch it at larger scales"},
		{20, 400, 0.05, "worse than linear (super-linear growth): concerning"},
	}
	for _, tt := range tests {
		got := Efficiency(tt.scale, tt.metric)
		if math.Abs(got-tt.want) > 1e-4 {
			t.Errorf("Efficiency(%v, %v) = %v, want %v", tt.scale, tt.metric, got, tt.want)
		}
		if v := Verdict(got); v != tt.verdict {
			t.Errorf("Verdict(%v) = %q, want %q", got, v, tt.verdict)
		}
	}
	if !math.IsNaN(Efficiency(5, 0)) || Verdict(math.NaN()) != "not measurable (a value is zero)" {
		t.Error("a zero metric ratio must be not measurable")
	}
	r := NewRatio("peak_memory", "bytes", 100, 500, 48.2, 186.4)
	if math.Abs(r.Ratio-186.4/48.2) > 1e-12 || r.ScaleRatio != 5 || math.Abs(r.Efficiency-5/(186.4/48.2)) > 1e-12 {
		t.Errorf("NewRatio = %+v", r)
	}
}

// Exact power laws and lines must be recovered to within 1e-9 (relative).
func TestFitScalingRecoversExactLaws(t *testing.T) {
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
			f, err := FitScaling("m", "s", ns, ys)
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

func TestFitScalingNeedsTwoScales(t *testing.T) {
	if _, err := FitScaling("m", "s", []float64{100}, []float64{1}); err == nil {
		t.Error("one point: want an error")
	}
	if _, err := FitScaling("m", "s", []float64{100, 100}, []float64{1, 2}); err == nil {
		t.Error("two points at the same scale: want an error")
	}
	// A zero value cannot be logged: the power law skips it and the line is used.
	f, err := FitScaling("m", "s", []float64{100, 200, 300}, []float64{0, 1, 2})
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

func fakeScale(n int, timeS float64, peak, base int64, cost float64) ScaleResult {
	return ScaleResult{Scale: n, Conversations: n, TotalWallS: timeS, PeakRSSBytes: peak, BaselineRSSBytes: base,
		Stages:  Stages{Embed: Stage{WallS: timeS / 2, PeakRSSBytes: peak}, Cluster: Stage{WallS: timeS / 2, PeakRSSBytes: peak}},
		Storage: Storage{TotalBytes: int64(n) * 8000},
		API:     APIUsage{EstimatedCostUSD: cost}, ThroughputPerMin: float64(n) / timeS * 60}
}

func TestAnalyzeAndPlan(t *testing.T) {
	// Time grows as n^1 (0.01 s per conversation), memory as 10 MB + 20 KB per
	// conversation, cost $1e-6 per conversation.
	var rs []ScaleResult
	for _, n := range []int{2000, 100, 500, 1000, 250} { // unsorted on purpose
		rs = append(rs, fakeScale(n, 0.01*float64(n), 10<<20+int64(n)*20<<10, 8<<20, 1e-6*float64(n)))
	}
	a := Analyze(rs)
	if a == nil || a.FirstScale != 100 || a.LastScale != 2000 || a.ScaleRatio != 20 {
		t.Fatalf("analysis = %+v", a)
	}
	if r := a.Ratio("total_time"); math.Abs(r.Efficiency-1) > 1e-9 || r.Verdict != "linear: grows in step with the data" {
		t.Errorf("time ratio %+v", r)
	}
	wantMem := float64(10<<20+2000*20<<10) / float64(10<<20+100*20<<10)
	if r := a.Ratio("peak_memory"); rel(r.Ratio, wantMem) > 1e-12 || rel(r.Efficiency, 20/wantMem) > 1e-12 {
		t.Errorf("memory ratio %+v", r)
	}
	cfg := DefaultConfig()
	p := Plan(rs, a, &cfg)
	if rel(p.TimeForTargetS, 100) > 1e-6 || rel(p.TimeFor1KS, 10) > 1e-6 || rel(p.TimePer1KAtTargetS, 10) > 1e-6 {
		t.Errorf("time planning %+v", p)
	}
	if math.Abs(p.TimeExponent-1) > 1e-9 {
		t.Errorf("time exponent %v, want 1", p.TimeExponent)
	}
	if rel(p.RAMBytes, float64(10<<20+10000*20<<10)) > 1e-6 || p.MemoryExponent != 1 {
		t.Errorf("RAM %v (exponent %v), want the line's 10 MB + 20 KB·n", p.RAMBytes, p.MemoryExponent)
	}
	if rel(p.MonthlyCostUSD, 0.05) > 1e-6 || rel(p.CostPer1KUSD, 0.001) > 1e-6 {
		t.Errorf("cost planning %+v", p)
	}
	if p.Extrapolation != 5 {
		t.Errorf("extrapolation %v", p.Extrapolation)
	}
	if Analyze(rs[:1]) != nil || Plan(rs, nil, &cfg) != nil {
		t.Error("one scale has no analysis or planning")
	}
}

func TestPriceModel(t *testing.T) {
	tests := []struct{ configured, embedder, want string }{
		{"", "openai:text-embedding-3-large", "text-embedding-3-large"},
		{"", "mock:text-embedding-ada-002", "text-embedding-ada-002"},
		{"", "openai:my-local-model", DefaultPriceModel}, // no price known
		{"", "hash", DefaultPriceModel},
		{"", "minilm:all-MiniLM-L6-v2", DefaultPriceModel},
		{"text-embedding-3-large", "hash", "text-embedding-3-large"},
	}
	for _, tt := range tests {
		if got := priceModel(tt.configured, tt.embedder); got != tt.want {
			t.Errorf("priceModel(%q, %q) = %q, want %q", tt.configured, tt.embedder, got, tt.want)
		}
	}
}
