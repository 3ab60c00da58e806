package analysis

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/loadtest/measure/measuretest"
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
		got := efficiency(tt.scale, tt.metric)
		if math.Abs(got-tt.want) > 1e-4 {
			t.Errorf("efficiency(%v, %v) = %v, want %v", tt.scale, tt.metric, got, tt.want)
		}
		if v := verdict(got); v != tt.verdict {
			t.Errorf("verdict(%v) = %q, want %q", got, v, tt.verdict)
		}
	}
	if !math.IsNaN(efficiency(5, 0)) || verdict(math.NaN()) != "not measurable (a value is zero)" {
		t.Error("a zero metric ratio must be not measurable")
	}
	r := newRatio("peak_memory", "bytes", 100, 500, 48.2, 186.4)
	if math.Abs(r.Ratio-186.4/48.2) > 1e-12 || r.ScaleRatio != 5 || math.Abs(r.Efficiency-5/(186.4/48.2)) > 1e-12 {
		t.Errorf("NewRatio = %+v", r)
	}
}

func TestAnalyzeAndPlan(t *testing.T) {
	// Time grows as n^1 (0.01 s per conversation), memory as 10 MB + 20 KB per
	// conversation, cost $1e-6 per conversation.
	var rs []measure.Scale
	for _, n := range []int{2000, 100, 500, 1000, 250} { // unsorted on purpose
		rs = append(rs, measuretest.Scale(n, 0.01*float64(n), 10<<20+int64(n)*20<<10, 8<<20, 1e-6*float64(n)))
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
	g := Goal{Conversations: 10000, Monthly: 50000}
	p := Plan(rs, a, g)
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
	if Analyze(rs[:1]) != nil || Plan(rs, nil, g) != nil {
		t.Error("one scale has no analysis or planning")
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
		r := newRatio(tt.metric, tt.unit, 100, 2000, tt.first, tt.last)
		if !strings.Contains(r.Verdict, tt.want) {
			t.Errorf("%s %v -> %v: verdict %q, want %q", tt.metric, tt.first, tt.last, r.Verdict, tt.want)
		}
	}
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
	mockAPI := func() []measure.Scale {
		loads := []float64{0.0008, 0.0009, 0.0011, 0.004, 0.026}
		var rs []measure.Scale
		for i, n := range ns {
			rs = append(rs, measuretest.Staged(n, loads[i], 0.0005*float64(n), 0.00001*float64(n), 0.0001*float64(n), 20<<20, 20<<20+int64(n)*16<<10, int64(n)*50))
		}
		return rs
	}
	// Clustering n^2 at 50 ms and more: its exponent is measured.
	quadratic := func() []measure.Scale {
		var rs []measure.Scale
		for _, n := range ns {
			x := float64(n)
			rs = append(rs, measuretest.Staged(n, 0.00002*x, 0.0005*x, 2e-7*x*x+0.05, 0.0001*x, 20<<20, 20<<20+int64(n)*16<<10, int64(n)*50))
		}
		return rs
	}
	tests := []struct {
		name          string
		rs            []measure.Scale
		mockLatency   time.Duration
		wantTime      float64 // seconds at 10,000
		wantExponents map[string]float64
		wantModels    map[string]string
		wantNotes     []string
		noNotes       []string
	}{
		{name: "mock-api noise", rs: mockAPI(),
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
		{name: "mock without latency", rs: func() []measure.Scale {
			rs := quadratic()
			for i := range rs {
				rs[i].Embedder = "mock:text-embedding-3-small"
			}
			return rs
		}(), wantTime: -1, wantExponents: map[string]float64{"cluster": 2},
			wantNotes: []string{"mock embedder answered without any API latency", "--mock-latency", "kura mock-api"}},
		{name: "mock with latency", rs: func() []measure.Scale {
			rs := quadratic()
			for i := range rs {
				rs[i].Embedder = "mock:text-embedding-3-small"
			}
			return rs
		}(), mockLatency: 100 * time.Millisecond, wantTime: -1, wantExponents: map[string]float64{"cluster": 2},
			noNotes: []string{"mock embedder"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := Goal{Conversations: 10000, Monthly: 50000, MockLatency: tt.mockLatency}
			a := Analyze(tt.rs)
			p := Plan(tt.rs, a, g)
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
			if m, _ := PredictMemory(tt.rs, g.Conversations); m.Bytes != p.RAMBytes {
				t.Errorf("guard predicts %v, planning %v", m.Bytes, p.RAMBytes)
			}
			// Cost: 50 tokens per conversation × 50,000 × $0.02 / 1M = $0.05.
			if p.TokensPerConversation != 50 || rel(p.MonthlyCostUSD, 0.05) > 1e-12 || rel(p.CostPer1KUSD, 0.001) > 1e-12 {
				t.Errorf("cost: %v tokens/conv, monthly %v, per 1K %v", p.TokensPerConversation, p.MonthlyCostUSD, p.CostPer1KUSD)
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
	var rs []measure.Scale
	noise := []int64{0, 300 << 10, -200 << 10, 250 << 10, 0}
	for i, n := range []int{100, 250, 500, 1000, 2000} {
		rs = append(rs, measure.Scale{Conversations: n, BaselineRSSBytes: 24 << 20, PeakRSSBytes: 24<<20 + int64(n)*16<<10 + noise[i]})
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

func rel(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// A run whose clustering grows as n^1.8 under a large fixed cost elsewhere:
// the ratio of the totals looks sub-linear, but the verdicts of the total
// time and of the cluster stage say super-linear, and a note names it.
func TestVerdictIsTheWorstStages(t *testing.T) {
	var rs []measure.Scale
	for _, n := range []int{100, 250, 500, 1000, 2000} {
		x := float64(n)
		var s measure.Scale
		s.Conversations = n
		s.Stages = measure.Stages{
			{Name: measure.Load, WallS: 0.2, CPUS: 0.2},
			{Name: measure.Embed, WallS: 0.1 + 0.0003*x, CPUS: 0.1 + 0.0003*x},
			{Name: measure.Cluster, WallS: 0.004 + 4e-7*math.Pow(x, 1.8), CPUS: 0.004 + 4e-7*math.Pow(x, 1.8)},
			{Name: measure.Write, WallS: 0.1, CPUS: 0.1},
		}
		for _, st := range s.Stages {
			s.TotalWallS += st.WallS
			s.TotalCPUS += st.CPUS
		}
		rs = append(rs, s)
	}
	a := Analyze(rs)
	r := a.Ratio("total_time")
	if r == nil || r.Efficiency <= 1.05 {
		t.Fatalf("the fixture should look sub-linear by the ratio of the totals: %+v", r)
	}
	for _, m := range []string{"total_time", "cluster_time"} {
		if v := a.Ratio(m).Verdict; !strings.Contains(v, "super-linear: the cluster stage grows as n^1.8") {
			t.Errorf("%s verdict %q", m, v)
		}
	}
	if v := a.Ratio("embed_time").Verdict; strings.Contains(v, "super-linear") {
		t.Errorf("embed verdict %q", v)
	}
	var named bool
	for _, n := range a.Notes {
		named = named || strings.Contains(n, "cluster is the stage that grows fastest")
	}
	if !named {
		t.Errorf("no note names the stage: %q", a.Notes)
	}
}

// Planning near the scales gives an interval that holds the truth of a
// super-linear stage; far beyond them, the plan says how uncertain it is in
// words and suggests the scales to add.
func TestPlanFarBeyondTheScales(t *testing.T) {
	truth := func(x float64) float64 { return 0.004 + 4e-7*math.Pow(x, 1.8) }
	var rs []measure.Scale
	noise := []float64{1.04, 0.97, 1.02, 0.98, 1.01}
	for i, n := range []int{100, 250, 500, 1000, 2000} {
		x := float64(n)
		var s measure.Scale
		s.Conversations = n
		s.BaselineRSSBytes, s.PeakRSSBytes = 24<<20, 24<<20+int64(14000*x*noise[i])
		s.Stages = measure.Stages{
			{Name: measure.Load, WallS: 0.01 + 5e-5*x*noise[i]},
			{Name: measure.Embed, WallS: (0.1 + 0.0003*x) * noise[i]},
			{Name: measure.Cluster, WallS: truth(x) * noise[(i+2)%5]},
			{Name: measure.Write, WallS: (0.1 + 2e-5*x) * noise[(i+1)%5]},
		}
		for _, st := range s.Stages {
			s.TotalWallS += st.WallS
		}
		rs = append(rs, s)
	}
	a := Analyze(rs)
	// At 5× the largest scale the 90% interval holds the truth.
	near := Plan(rs, a, Goal{Conversations: 10000, Monthly: 50000})
	wantNear := 0.01 + 5e-5*1e4 + 0.1 + 0.0003*1e4 + truth(1e4) + 0.1 + 2e-5*1e4
	if wantNear < near.TimeForTargetLowS || wantNear > near.TimeForTargetHighS {
		t.Errorf("true time %.1f s at 10,000 outside the interval [%.1f, %.1f] (planned %.1f): %v",
			wantNear, near.TimeForTargetLowS, near.TimeForTargetHighS, near.TimeForTargetS, near.StageModels)
	}
	// At 50× it need not (timing noise is relative, the fit's is additive,
	// and the exponent is read off 100..2,000): the plan says so in words.
	p := Plan(rs, a, Goal{Conversations: 100000, Monthly: 50000})
	if p.IntervalLevel != 0.9 || p.TimeForTargetLowS <= 0 || p.TimeForTargetHighS <= p.TimeForTargetLowS {
		t.Fatalf("no time interval: %+v", p)
	}
	if p.RAMHighBytes <= p.RAMLowBytes || p.RAMBytes < p.RAMLowBytes || p.RAMBytes > p.RAMHighBytes {
		t.Errorf("RAM %v not inside [%v, %v]", p.RAMBytes, p.RAMLowBytes, p.RAMHighBytes)
	}
	var note string
	for _, n := range p.Notes {
		if strings.Contains(n, "50× the largest scale") {
			note = n
		}
	}
	if !strings.Contains(note, "--scales 7400,27000") {
		t.Errorf("far-extrapolation note %q", note)
	}
}

func TestSuggestScales(t *testing.T) {
	tests := []struct {
		largest, target int
		want            string
	}{
		{2000, 100000, "7400,27000,100000"},
		{2000, 1000000, "9500,45000,210000,1000000"},
		{2000, 11000, "4700,11000"},
		{100000, 10000000, "460000,2200000"},
	}
	for _, tt := range tests {
		if got := suggestScales(tt.largest, tt.target); got != tt.want {
			t.Errorf("suggestScales(%d, %d) = %q, want %q", tt.largest, tt.target, got, tt.want)
		}
	}
}

// A stage whose noisy times fall as the data grow (a fit through them goes
// to 0 at the target) is planned at no less than it took at the largest
// scale: more data is never less work.
func TestPlanNeverBelowTheLargestScale(t *testing.T) {
	var rs []measure.Scale
	for i, n := range []int{100, 250, 500, 1000, 2000} {
		var s measure.Scale
		s.Conversations = n
		reduceS := []float64{0.060, 0.058, 0.052, 0.045, 0.030}[i] // falling: scheduler noise
		s.Stages = measure.Stages{
			{Name: measure.Embed, WallS: 0.1 + 0.0003*float64(n), CPUS: 0.1 + 0.0003*float64(n)},
			{Name: measure.Reduce, WallS: reduceS, CPUS: reduceS},
			{Name: measure.Cluster, WallS: 0.05, CPUS: 0.05},
		}
		for _, st := range s.Stages {
			s.TotalWallS += st.WallS
			s.TotalCPUS += st.CPUS
		}
		rs = append(rs, s)
	}
	p := Plan(rs, Analyze(rs), Goal{Conversations: 100000, Monthly: 1000})
	if p == nil {
		t.Fatal("no planning")
	}
	if p.TimeForTargetHighS > 0 && (p.TimeForTargetS < p.TimeForTargetLowS || p.TimeForTargetS > p.TimeForTargetHighS) {
		t.Errorf("planned time %.4f s outside its interval [%.4f, %.4f]", p.TimeForTargetS, p.TimeForTargetLowS, p.TimeForTargetHighS)
	}
	for stage, atLeast := range map[string]float64{"reduce": 0.030, "cluster": 0.05, "embed": 0.1 + 0.0003*2000} {
		if got := p.StageTimesAtTargetS[stage]; got < atLeast {
			t.Errorf("%s planned at %.4f s for 100,000; it took %.4f s at 2,000", stage, got, atLeast)
		}
	}
}

func TestStagesPlannedFromCPUTime(t *testing.T) {
	ns := []int{100, 250, 500, 1000, 2000}
	// Clustering does 1e-4 s of CPU work per conversation plus 2e-7 s per
	// pair; its wall time is that over a parallelism that a busy machine
	// varied from 1.2 to 1.8. The embedding waits for an API: 0.5 ms of
	// wall time per conversation, a tenth of it CPU.
	par := []float64{1.2, 1.5, 1.3, 1.8, 1.4}
	var rs []measure.Scale
	for i, n := range ns {
		x := float64(n)
		r := measuretest.Staged(n, 0.00002*x, 0.0005*x, 0, 0.0001*x, 20<<20, 20<<20+int64(n)*16<<10, int64(n)*50)
		for j := range r.Stages {
			switch r.Stages[j].Name {
			case measure.Cluster:
				r.Stages[j].CPUS = 1e-4*x + 2e-7*x*x
				r.Stages[j].WallS = r.Stages[j].CPUS / par[i]
			case measure.Embed:
				r.Stages[j].CPUS = r.Stages[j].WallS / 10
			}
		}
		rs = append(rs, r)
	}
	g := Goal{Conversations: 10000, Monthly: 50000, ClusterMinExponent: 2, ClusterComplexity: "all n² distances"}
	p := Plan(rs, Analyze(rs), g)
	// CPU 1e-4·1e4 + 2e-7·1e8 = 21 s over the most parallelism measured.
	if want := 21 / 1.8; rel(p.StageTimesAtTargetS["cluster"], want) > 1e-6 {
		t.Errorf("cluster planned %v s, want %v (%s)", p.StageTimesAtTargetS["cluster"], want, p.StageModels["cluster"])
	}
	if m := p.StageModels["cluster"]; !strings.Contains(m, "of CPU time ÷ 1.80") || !strings.Contains(m, "n²") {
		t.Errorf("cluster model %q does not say it is the CPU time's quadratic over the parallelism", m)
	}
	// The waiting stage is planned from its wall time: 5 s at 10,000.
	if e := p.StageTimesAtTargetS["embed"]; rel(e, 5) > 1e-6 {
		t.Errorf("embed planned %v s, want 5 (%s)", e, p.StageModels["embed"])
	}
	if m := p.StageModels["embed"]; !strings.Contains(m, "of wall time") {
		t.Errorf("embed model %q, want it planned from its wall time", m)
	}
}

func TestCPUPlanned(t *testing.T) {
	stage := func(wall, cpu float64) measure.Scale {
		return measure.Scale{Conversations: 1, Stages: measure.Stages{{Name: measure.Cluster, WallS: wall, CPUS: cpu}}}
	}
	// may wait (an API, the disk) or only computes (StageInfo.Computes).
	mayWait := measure.StageInfo{Name: measure.Cluster}
	computes := measure.StageInfo{Name: measure.Cluster, Computes: true}
	tests := []struct {
		name    string
		stage   measure.StageInfo
		rs      []measure.Scale
		wantOK  bool
		wantPar float64
	}{
		{"the most parallelism among stages of 50 ms or more", mayWait, []measure.Scale{stage(0.01, 0.03), stage(0.1, 0.15), stage(0.2, 0.36), stage(0.4, 0.6)}, true, 1.8},
		{"all short: the largest scale's", mayWait, []measure.Scale{stage(0.01, 0.012), stage(0.02, 0.03)}, true, 1.5},
		{"never below 1", mayWait, []measure.Scale{stage(0.1, 0.09), stage(0.2, 0.17)}, true, 1},
		{"waiting at the largest scale", mayWait, []measure.Scale{stage(0.1, 0.15), stage(1, 0.2)}, false, 0},
		{"a computing stage on a busy machine", computes, []measure.Scale{stage(0.1, 0.15), stage(0.44, 0.23)}, true, 1.5},
		{"a computing stage starved at every scale", computes, []measure.Scale{stage(0.1, 0.05), stage(0.44, 0.23)}, true, 1},
		{"not measured", computes, []measure.Scale{stage(0, 0), stage(1, 1)}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range tt.rs {
				tt.rs[i].Conversations = 100 * (i + 1)
			}
			par, ok := cpuPlanned(tt.rs, tt.stage)
			if ok != tt.wantOK || (ok && rel(par, tt.wantPar) > 1e-9) {
				t.Errorf("cpuPlanned = %v, %v; want %v, %v", par, ok, tt.wantPar, tt.wantOK)
			}
		})
	}
}

// The peak in parts: baseline + vectors (n × dims × 4) + the rest as
// a·n^b fitted over the top two octaves. Exact data give the model back
// to 1e-6 (the peaks are whole bytes); the upper end never falls below the line
// through the peaks, which the --memory-limit guard reads; a rest that is
// not positive at enough scales falls back to the peak-memory fit.
func TestPredictMemoryInParts(t *testing.T) {
	const base = 25 << 20
	scales := func(dims int, rest func(n float64) float64) []measure.Scale {
		var rs []measure.Scale
		for _, n := range []int{100, 250, 500, 1000, 2000} {
			v := float64(n) * float64(dims) * 4
			rs = append(rs, measure.Scale{Conversations: n, Dims: dims, BaselineRSSBytes: base,
				PeakRSSBytes: base + int64(v+rest(float64(n)))})
		}
		return rs
	}
	tests := []struct {
		name   string
		rs     []measure.Scale
		n      int
		want   float64 // 0: the parts model must not be used
		wantB  float64
		fitted string // "500..2,000" names the scales of the rest's fit
	}{
		{"sub-linear rest", scales(1024, func(n float64) float64 { return 3e5 * math.Pow(n, 0.6) }), 100000,
			base + 1e5*1024*4 + 3e5*math.Pow(1e5, 0.6), 0.6, "500..2,000"},
		{"linear rest", scales(384, func(n float64) float64 { return 4096 * n }), 1000000,
			base + 1e6*384*4 + 4096*1e6, 1, "500..2,000"},
		{"rest not positive", scales(1024, func(n float64) float64 { return -1 << 20 }), 10000, 0, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := PredictMemory(tc.rs, tc.n)
			if !ok {
				t.Fatal("no prediction")
			}
			f := Analyze(tc.rs).Fit("peak_memory")
			if tc.want == 0 {
				if strings.Contains(m.Model, "vectors") {
					t.Errorf("parts model used: %s", m.Model)
				}
				return
			}
			if rel(m.Bytes, tc.want) > 1e-6 || math.Abs(m.Exponent-tc.wantB) > 1e-6 {
				t.Errorf("predicted %.0f (n^%.4f), want %.0f (n^%.2f): %s", m.Bytes, m.Exponent, tc.want, tc.wantB, m.Model)
			}
			if !strings.Contains(m.Model, tc.fitted) || !strings.Contains(m.Model, "vectors") {
				t.Errorf("model %q does not name the vectors and the scales %s", m.Model, tc.fitted)
			}
			if lin := f.Intercept + f.Slope*float64(tc.n); m.High < lin*(1-1e-9) || m.Low > m.Bytes || m.High < m.Bytes {
				t.Errorf("interval [%.0f, %.0f] around %.0f, line %.0f", m.Low, m.High, m.Bytes, lin)
			}
		})
	}
}
