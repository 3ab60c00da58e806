package loadtest

import (
	"math"
	"strings"
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
		Stages:           Stages{Embed: Stage{WallS: timeS / 2, PeakRSSBytes: peak}, Cluster: Stage{WallS: timeS / 2, PeakRSSBytes: peak}},
		Storage:          Storage{TotalBytes: int64(n) * 8000},
		API:              APIUsage{EstimatedCostUSD: cost, PricePerMillion: 0.02, Tokens: int64(math.Round(cost / 0.02 * 1e6))},
		ThroughputPerMin: float64(n) / timeS * 60}
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

// TestNewRatioVerdictFloors checks that ratios over millisecond timings or
// sub-MiB working memory are not judged, and that total RSS is information
// while working memory carries the memory verdict.
func TestNewRatioVerdictFloors(t *testing.T) {
	tests := []struct {
		metric, unit string
		first, last  float64
		want         string
	}{
		{"total_time", "s", 0.0008, 0.026, "too small to judge (0.8 ms at the first scale, under 10 ms)"}, {"total_cpu", "s", 0.00998, 0.2, "too small to judge (9.98 ms at the first scale"},
		{"cluster_time", "s", 0.001, 0.184, "too small to judge"},
		{"embed_cpu", "s", 0.0099, 0.5, "too small to judge"},
		{"total_time", "s", 0.1, 2.0, "linear: grows in step with the data"},
		{"total_time", "s", 0.1, 40, "worse than linear"},
		{"working_memory", "bytes", 512 << 10, 30 << 20, "too small to judge (512 KiB at the first scale, under 1.0 MiB)"},
		{"working_memory", "bytes", 4 << 20, 80 << 20, "linear: grows in step with the data"},
		{"peak_memory", "bytes", 28 << 20, 58 << 20, "total RSS, for information"},
		{"cluster_memory", "bytes", 28 << 20, 58 << 20, "total RSS, for information"},
		{"total_time", "s", 0, 1, "not measurable"},
	}
	for _, tt := range tests {
		r := NewRatio(tt.metric, tt.unit, 100, 2000, tt.first, tt.last)
		if !strings.Contains(r.Verdict, tt.want) {
			t.Errorf("%s %v -> %v: verdict %q, want %q", tt.metric, tt.first, tt.last, r.Verdict, tt.want)
		}
	}
}

// stageScale is a scale with the given stage wall times and memory.
func stageScale(n int, load, emb, cluster, write float64, base, peak int64, tokens int64) ScaleResult {
	r := ScaleResult{Scale: n, Conversations: n, BaselineRSSBytes: base, PeakRSSBytes: peak, Embedder: "hash",
		Stages: Stages{Load: Stage{WallS: load, CPUS: load}, Embed: Stage{WallS: emb, CPUS: emb}, Cluster: Stage{WallS: cluster, CPUS: cluster}, Write: Stage{WallS: write, CPUS: write}},
		API:    APIUsage{Tokens: tokens, PricePerMillion: 0.02, PriceModel: "text-embedding-3-small", EstimatedCostUSD: float64(tokens) * 0.02 / 1e6}}
	r.TotalWallS = load + emb + cluster + write
	r.TotalCPUS = r.TotalWallS
	r.ThroughputPerMin = float64(n) / r.TotalWallS * 60
	return r
}

// TestPlanHonesty checks the planning's models: O(n) stages planned
// linearly whatever their noisy fit says, no exponent from stages measured
// under 50 ms or from two scales, the memory model actually used with its
// slope (and the same prediction as the --memory-limit guard), the cost as
// tokens × price, and the note on a mock without latency.
func TestPlanHonesty(t *testing.T) {
	ns := []int{100, 250, 500, 1000, 2000}
	// The mock-api run of the review: load 0.8 ms .. 26 ms (n^1.16 noise,
	// once fitted as n^3.14), embed linear at 0.5 ms per conversation,
	// clustering under 50 ms everywhere.
	mockAPI := func() []ScaleResult {
		loads := []float64{0.0008, 0.0009, 0.0011, 0.004, 0.026}
		var rs []ScaleResult
		for i, n := range ns {
			rs = append(rs, stageScale(n, loads[i], 0.0005*float64(n), 0.00001*float64(n), 0.0001*float64(n), 20<<20, 20<<20+int64(n)*16<<10, int64(n)*50))
		}
		return rs
	}
	// Clustering n^2 at 50 ms and more: its exponent is measured.
	quadratic := func() []ScaleResult {
		var rs []ScaleResult
		for _, n := range ns {
			x := float64(n)
			rs = append(rs, stageScale(n, 0.00002*x, 0.0005*x, 2e-7*x*x+0.05, 0.0001*x, 20<<20, 20<<20+int64(n)*16<<10, int64(n)*50))
		}
		return rs
	}
	tests := []struct {
		name          string
		rs            []ScaleResult
		args          []string
		wantTime      float64 // seconds at 10,000
		wantExponents map[string]float64
		wantModels    map[string]string
		wantNotes     []string
		noNotes       []string
	}{
		{name: "mock-api noise", rs: mockAPI(), args: []string{"--embedder=openai"},
			// load: the line through the noisy loads; embed 5 s; cluster 0.1 s; write 1 s.
			wantTime:      -1,
			wantExponents: map[string]float64{},
			wantModels: map[string]string{"load": "linear, O(n) by construction", "embed": "linear, O(n) by construction",
				"cluster": "every measurement under 50 ms", "write": "linear, O(n) by construction"},
			noNotes: []string{"mock embedder"}},
		{name: "quadratic clustering", rs: quadratic(), wantTime: 0.2 + 5 + (2e-7*1e8 + 0.05) + 1,
			wantExponents: map[string]float64{"cluster": 2},
			wantModels:    map[string]string{"cluster": "fitted"}},
		{name: "two scales", rs: quadratic()[3:], wantTime: -1, wantExponents: map[string]float64{},
			wantModels: map[string]string{"cluster": "two scales cannot tell"},
			wantNotes:  []string{"only two scales"}},
		{name: "mock without latency", rs: func() []ScaleResult {
			rs := quadratic()
			for i := range rs {
				rs[i].Embedder = "mock:text-embedding-3-small"
			}
			return rs
		}(), args: []string{"--mock=true"}, wantTime: -1, wantExponents: map[string]float64{"cluster": 2},
			wantNotes: []string{"mock embedder answered without any API latency", "--mock-latency", "kura mock-api"}},
		{name: "mock with latency", rs: func() []ScaleResult {
			rs := quadratic()
			for i := range rs {
				rs[i].Embedder = "mock:text-embedding-3-small"
			}
			return rs
		}(), args: []string{"--mock=true", "--mock-latency=100ms"}, wantTime: -1, wantExponents: map[string]float64{"cluster": 2},
			noNotes: []string{"mock embedder"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.EmbedderArgs = tt.args
			a := Analyze(tt.rs)
			p := Plan(tt.rs, a, &cfg)
			if tt.wantTime >= 0 && rel(p.TimeForTargetS, tt.wantTime) > 1e-3 {
				t.Errorf("time for 10,000: %v, want %v (%s)", p.TimeForTargetS, tt.wantTime, p.TimeModel)
			}
			// Planned time is the sum of the stage figures shown.
			var sum float64
			for _, v := range p.StageTimesAtTargetS {
				sum += v
			}
			if rel(sum, p.TimeForTargetS) > 1e-12 {
				t.Errorf("stages sum to %v, total %v", sum, p.TimeForTargetS)
			}
			if len(p.StageExponents) != len(tt.wantExponents) {
				t.Errorf("stage exponents %v, want %v", p.StageExponents, tt.wantExponents)
			}
			for st, e := range tt.wantExponents {
				if math.Abs(p.StageExponents[st]-e) > 0.02 {
					t.Errorf("%s exponent %v, want %v", st, p.StageExponents[st], e)
				}
			}
			if len(tt.wantExponents) == 0 && p.TimeExponent != 0 {
				t.Errorf("time exponent %v claimed without a measured stage exponent", p.TimeExponent)
			}
			for st, m := range tt.wantModels {
				if !strings.Contains(p.StageModels[st], m) {
					t.Errorf("%s model %q, want %q", st, p.StageModels[st], m)
				}
			}
			notes := strings.Join(p.Notes, "\n")
			for _, n := range tt.wantNotes {
				if !strings.Contains(notes, n) {
					t.Errorf("notes lack %q:\n%s", n, notes)
				}
			}
			for _, n := range tt.noNotes {
				if strings.Contains(notes, n) {
					t.Errorf("notes have %q:\n%s", n, notes)
				}
			}
			// Memory: 20 MiB + 16 KiB per conversation, linear: the model
			// used is stated with its slope, and it is the guard's prediction.
			if rel(p.RAMBytes, float64(20<<20+10000*16<<10)) > 1e-6 || rel(p.MemorySlopePer1KBytes, 16000*1024) > 1e-6 || p.MemoryExponent != 1 ||
				!strings.Contains(p.MemoryModel, "linear") || !strings.Contains(p.MemoryModel, "16 MiB per 1,000 conversations") {
				t.Errorf("memory %v slope %v exponent %v model %q", p.RAMBytes, p.MemorySlopePer1KBytes, p.MemoryExponent, p.MemoryModel)
			}
			if m, _ := PredictMemory(tt.rs, cfg.TargetConversations); m.Bytes != p.RAMBytes {
				t.Errorf("guard predicts %v, planning %v", m.Bytes, p.RAMBytes)
			}
			// Cost: 50 tokens per conversation × 50,000 × $0.02 / 1M = $0.05.
			if p.TokensPerConversation != 50 || rel(p.MonthlyCostUSD, 0.05) > 1e-12 || rel(p.CostPer1KUSD, 0.001) > 1e-12 {
				t.Errorf("cost: %v tokens/conv, monthly %v, per 1K %v", p.TokensPerConversation, p.MonthlyCostUSD, p.CostPer1KUSD)
			}
			var out strings.Builder
			WritePlanning(&out, p, a)
			for _, w := range []string{"exact arithmetic, not a fit: 50.0 tokens per conversation", "(peak memory: linear"} {
				if !strings.Contains(out.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, out.String())
				}
			}
			if strings.Contains(out.String(), "grows as n^1.00") && p.MemoryExponent == 1 {
				t.Errorf("report claims an exponent for the linear model:\n%s", out.String())
			}
		})
	}
}

// TestPredictMemoryReportsModelUsed checks that when a concave fit is
// overridden by the linear one, the model named is the linear one, with its
// slope, not the power law's exponent.
func TestPredictMemoryReportsModelUsed(t *testing.T) {
	// Peak memory with a large fixed cost and slight noise: a concave power
	// law fits about as well, but predicts less than the line at 10,000.
	var rs []ScaleResult
	noise := []int64{0, 300 << 10, -200 << 10, 250 << 10, 0}
	for i, n := range []int{100, 250, 500, 1000, 2000} {
		rs = append(rs, ScaleResult{Conversations: n, BaselineRSSBytes: 24 << 20, PeakRSSBytes: 24<<20 + int64(n)*16<<10 + noise[i]})
	}
	m, ok := PredictMemory(rs, 10000)
	f := Analyze(rs).Fit("peak_memory")
	if !ok || f == nil {
		t.Fatal("no prediction")
	}
	lin := f.Intercept + f.Slope*10000
	if m.Bytes != math.Max(lin, f.Predict(10000)) || m.Exponent != 1 && m.Bytes == lin {
		t.Errorf("prediction %v (exponent %v), line %v, chosen %s %v", m.Bytes, m.Exponent, lin, f.Model, f.Predict(10000))
	}
	if m.Bytes == lin && (!strings.HasPrefix(m.Model, "linear") || !strings.Contains(m.Model, "per 1,000 conversations")) {
		t.Errorf("model %q", m.Model)
	}
	if rel(m.SlopePer1K, f.Slope*1000) > 1e-12 {
		t.Errorf("slope %v, want %v", m.SlopePer1K, f.Slope*1000)
	}
}
