// Package report renders load-test results (load_test_results_*.json) as one
// self-contained HTML page: charts of time by stage, memory, throughput,
// cost and storage against scale with the fitted curves and the plan's
// target, the scaling analysis and the planning in words, and several runs
// overlaid. The chart library (uPlot, vendored from npm with its licence) and
// the page's own script are embedded in the binary and inlined into the
// page, so the file works offline and loads nothing from the network.
//
// The same chart model and script draw the load-test dashboard of
// `kura serve` (see Assets and NewRun).
package report

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/analysis"
	"github.com/kura-go/kura/loadtest/fit"
	"github.com/kura-go/kura/loadtest/measure"
)

// Run is one load-test run as the charts and the text need it: the measured
// series (one value per completed scale, smallest scale first), the fitted
// curves sampled from the smallest scale to the plan's target, the target
// itself and the analysis in words.
type Run struct {
	Label     string `json:"label"`
	File      string `json:"file"`
	StartedAt string `json:"started_at"`
	// Setup describes the machine, embedder and clusterer in words.
	Setup []string `json:"setup"`

	Scales      []float64            `json:"scales"` // conversations
	StageWallS  map[string][]float64 `json:"stage_wall_s"`
	TotalWallS  []float64            `json:"total_wall_s"`
	PeakRSS     []float64            `json:"peak_rss_bytes"`
	WorkingRSS  []float64            `json:"working_rss_bytes"` // peak − baseline
	BaselineRSS []float64            `json:"baseline_rss_bytes"`
	Throughput  []float64            `json:"throughput_per_min"`
	EstCostUSD  []float64            `json:"estimated_cost_usd"`
	CostUSD     []float64            `json:"cost_usd,omitempty"` // what the embedder charged; absent when all zero
	Storage     []float64            `json:"storage_bytes"`

	// Curves are the fits of the results file, by metric (total_time,
	// peak_memory, working_memory, estimated_cost, storage).
	Curves map[string]*Curve `json:"curves"`
	// Target is the plan's target, or nil without planning.
	Target *Target `json:"target,omitempty"`

	Analysis []string `json:"analysis"` // the scaling analysis in words
	Planning []string `json:"planning"` // the plan in words
	Problems []string `json:"problems"` // failed and skipped scales, interruption
}

// Curve is a fitted model sampled at Xs (geometrically spaced from the
// smallest scale to the target or the largest scale).
type Curve struct {
	Metric   string    `json:"metric"`
	Model    string    `json:"model"`
	Describe string    `json:"describe"`
	R2       float64   `json:"r2"`
	Xs       []float64 `json:"xs"`
	Ys       []Num     `json:"ys"` // null where the model has no value
	// Band says Lo and Hi hold the fit's prediction interval at each of Xs,
	// at Level (fit.IntervalLevel): where a new measurement at that scale
	// would fall, from the scatter of the measured points about the fit.
	// It is false when the interval cannot be had: too few scales, or a
	// results file whose fit this kura does not reproduce from its points
	// (written by another version); the page says so.
	Band  bool    `json:"band"`
	Level float64 `json:"level,omitempty"`
	Lo    []Num   `json:"lo,omitempty"`
	Hi    []Num   `json:"hi,omitempty"`
}

// Target is what the plan predicts for its target volume.
type Target struct {
	Conversations float64 `json:"conversations"`
	RAMBytes      float64 `json:"ram_bytes"`
	TimeS         float64 `json:"time_s"`
	// The plan's prediction intervals of RAM and time at Level (0 when the
	// results have none).
	Level        float64 `json:"level,omitempty"`
	RAMLow       float64 `json:"ram_low_bytes,omitempty"`
	RAMHigh      float64 `json:"ram_high_bytes,omitempty"`
	TimeLowS     float64 `json:"time_low_s,omitempty"`
	TimeHighS    float64 `json:"time_high_s,omitempty"`
	Throughput   float64 `json:"throughput_per_min"`
	StorageBytes float64 `json:"storage_bytes"`
	CostUSD      float64 `json:"cost_usd"` // estimated embedding cost of the target volume
}

// Num is a number that is written to JSON as null when it is not finite.
type Num float64

// MarshalJSON writes the number, or null for NaN and infinities.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// curveSamples is how many points a fitted curve is drawn with.
const curveSamples = 48

// Stages are the pipeline stages in the order they run.
var Stages = stageNames()

func stageNames() []string {
	var out []string
	for _, st := range measure.Pipeline {
		out = append(out, st.Name)
	}
	return out
}

// NewRun turns a results file's contents into the chart model. file names the
// run (its base name is shown).
func NewRun(file string, res *loadtest.Results) *Run {
	r := &Run{
		File:       filepath.Base(file),
		StartedAt:  res.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"),
		StageWallS: map[string][]float64{},
		Curves:     map[string]*Curve{},
	}
	r.Label = r.StartedAt
	scales := append([]measure.Scale(nil), res.Scales...)
	sort.SliceStable(scales, func(i, j int) bool { return scales[i].Conversations < scales[j].Conversations })
	anyCost := false
	for i := range scales {
		s := &scales[i]
		r.Scales = append(r.Scales, float64(s.Conversations))
		for _, st := range Stages {
			r.StageWallS[st] = append(r.StageWallS[st], stageOf(s, st).WallS)
		}
		r.TotalWallS = append(r.TotalWallS, s.TotalWallS)
		r.PeakRSS = append(r.PeakRSS, float64(s.PeakRSSBytes))
		r.WorkingRSS = append(r.WorkingRSS, float64(s.PeakRSSBytes-s.BaselineRSSBytes))
		r.BaselineRSS = append(r.BaselineRSS, float64(s.BaselineRSSBytes))
		r.Throughput = append(r.Throughput, s.ThroughputPerMin)
		r.EstCostUSD = append(r.EstCostUSD, s.API.EstimatedCostUSD)
		r.CostUSD = append(r.CostUSD, s.API.CostUSD)
		r.Storage = append(r.Storage, float64(s.Storage.TotalBytes))
		anyCost = anyCost || s.API.CostUSD != 0
	}
	if !anyCost {
		r.CostUSD = nil
	}
	r.Setup = setup(res, scales)

	if p := res.Planning; p != nil && p.TargetConversations > 0 {
		r.Target = &Target{
			Conversations: float64(p.TargetConversations),
			RAMBytes:      p.RAMBytes,
			TimeS:         p.TimeForTargetS,
			Throughput:    p.ThroughputAtTarget,
			StorageBytes:  p.StorageForTargetBytes,
			CostUSD:       p.CostPer1KUSD * float64(p.TargetConversations) / 1000,
			Level:         p.IntervalLevel,
			RAMLow:        p.RAMLowBytes,
			RAMHigh:       p.RAMHighBytes,
			TimeLowS:      p.TimeForTargetLowS,
			TimeHighS:     p.TimeForTargetHighS,
		}
	}
	if len(r.Scales) > 0 && res.Analysis != nil {
		lo, hi := r.Scales[0], r.Scales[len(r.Scales)-1]
		if r.Target != nil {
			hi = math.Max(hi, r.Target.Conversations)
		}
		xs := geomSpace(lo, hi, curveSamples)
		// The fits of a results file keep no points, and a prediction
		// interval needs them: fit the measured scales again, and use the
		// refit's interval where it is the file's fit.
		refit := analysis.Analyze(res.Scales) // the completed scales, as the file's analysis
		for _, name := range []string{"total_time", "peak_memory", "working_memory", "estimated_cost", "storage"} {
			if f := res.Analysis.Fit(name); f != nil {
				c := sample(name, f, xs, f.Predict)
				if refit == nil {
					// fewer than two scales: no fit to band
				} else if g := refit.Fit(name); sameFit(f, g) {
					addBand(c, g)
				}
				r.Curves[name] = c
			}
		}
	}
	r.Analysis = analysisText(res.Analysis)
	r.Planning = planningText(res.Planning, res.VectorDType())
	r.Problems = problems(res)
	return r
}

func stageOf(s *measure.Scale, name string) measure.Stage { return s.Stages.Of(name) }

// sameFit reports whether g, fitted again from the measured points, is the
// fit f read from the results file: the same model and growth exponent,
// and the same prediction within a part in a million at the points'
// range (a file from another version of the fitting may differ).
func sameFit(f, g *fit.Fit) bool {
	if f == nil || g == nil || f.Model != g.Model || f.Points != g.Points {
		return false
	}
	close := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b))+1e-12 }
	return close(f.Exponent, g.Exponent) && close(f.Predict(1000), g.Predict(1000)) && close(f.Predict(100000), g.Predict(100000))
}

// addBand sets c's prediction band from g, at every sample where it has
// one; none when it has none at the largest sample.
func addBand(c *Curve, g *fit.Fit) {
	lo, hi := make([]Num, len(c.Xs)), make([]Num, len(c.Xs))
	for i, x := range c.Xs {
		l, h, ok := g.Interval(x, fit.IntervalLevel)
		if !ok {
			l, h = math.NaN(), math.NaN()
		}
		lo[i], hi[i] = Num(l), Num(h)
	}
	if n := len(c.Xs); n == 0 || math.IsNaN(float64(hi[n-1])) {
		return
	}
	c.Band, c.Level, c.Lo, c.Hi = true, fit.IntervalLevel, lo, hi
}

// geomSpace returns n geometrically spaced values from lo to hi (inclusive).
func geomSpace(lo, hi float64, n int) []float64 {
	if lo <= 0 || hi <= lo || n < 2 {
		return []float64{lo}
	}
	xs := make([]float64, n)
	r := math.Log(hi / lo)
	for i := range xs {
		xs[i] = lo * math.Exp(r*float64(i)/float64(n-1))
	}
	xs[n-1] = hi
	return xs
}

func sample(metric string, f *fit.Fit, xs []float64, predict func(float64) float64) *Curve {
	c := &Curve{Metric: metric, Model: f.Model, Describe: f.Describe(), R2: f.R2(), Xs: xs, Ys: make([]Num, len(xs))}
	for i, x := range xs {
		c.Ys[i] = Num(predict(x))
	}
	return c
}

func setup(res *loadtest.Results, scales []measure.Scale) []string {
	env := res.Environment
	var out []string
	out = append(out, fmt.Sprintf("kura %s (%s), %s, %s/%s, %d cores (GOMAXPROCS %d), %s RAM, %s",
		env.KuraVersion, short(env.KuraCommit), env.GoVersion, env.OS, env.Arch, env.Cores, env.GOMAXPROCS,
		Bytes(float64(env.TotalMemBytes)), nonEmpty(env.CPUModel, "unknown CPU")))
	if len(scales) > 0 {
		s := scales[len(scales)-1]
		out = append(out, fmt.Sprintf("embedder %s (%d dims), %s, %s", s.Embedder, s.Dims, s.Clusterer, s.Isolation))
	}
	b := res.Baseline
	out = append(out, fmt.Sprintf("baseline: %s (%d %s, %d ground-truth clusters)", b.Source, b.Records, b.Kind, b.Clusters))
	if res.Config.Repeat > 1 {
		out = append(out, fmt.Sprintf("each scale run %d times; stage figures are medians", res.Config.Repeat))
	}
	return out
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

func nonEmpty(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

var metricNames = map[string]string{
	"total_time": "total time", "peak_memory": "peak memory", "working_memory": "working memory",
	"total_cpu": "total CPU", "embed_cpu": "embed CPU", "cluster_cpu": "cluster CPU",
	"embed_time": "embed time", "embed_memory": "embed memory", "cluster_time": "cluster time",
	"cluster_memory": "cluster memory", "load_time": "load time", "write_time": "write time",
	"storage": "storage", "estimated_cost": "estimated cost", "actual_cost": "actual cost",
}

func metricName(m string) string {
	if n, ok := metricNames[m]; ok {
		return n
	}
	return strings.ReplaceAll(m, "_", " ")
}

// value formats a metric value in its unit.
func value(v float64, unit string) string {
	switch unit {
	case "bytes":
		return Bytes(v)
	case "s":
		return Seconds(v)
	case "usd":
		return USD(v)
	}
	return fmt.Sprintf("%.4g %s", v, unit)
}

func analysisText(a *analysis.Analysis) []string {
	if a == nil {
		return []string{"Fewer than two scales completed: no scaling analysis."}
	}
	out := []string{fmt.Sprintf("From %s to %s conversations (%.3g× the data):",
		Count(float64(a.FirstScale)), Count(float64(a.LastScale)), a.ScaleRatio)}
	for _, r := range a.Ratios {
		out = append(out, fmt.Sprintf("%s %s → %s (×%.3g, efficiency %.2f): %s",
			capital(metricName(r.Metric)), value(r.First, r.Unit), value(r.Last, r.Unit), r.Ratio, r.Efficiency, r.Verdict))
	}
	for _, f := range a.Fits {
		out = append(out, fmt.Sprintf("Fit of %s over %d scales: %s", metricName(f.Metric), f.Points, f.Describe()))
	}
	out = append(out, a.Notes...)
	return out
}

// planningText is the plan in sentences; dtype is how the run stored its
// vectors (float32 or float16), which the storage figure depends on.
func planningText(p *analysis.Planning, dtype string) []string {
	if p == nil {
		return []string{"Fewer than two scales completed: no plan."}
	}
	out := []string{
		fmt.Sprintf("Target %s conversations (%.3g× the largest scale measured).", Count(float64(p.TargetConversations)), p.Extrapolation),
		fmt.Sprintf("Memory: %s peak (%s; %s more per 1,000 conversations).", Bytes(p.RAMBytes), p.MemoryModel, Bytes(p.MemorySlopePer1KBytes)),
		fmt.Sprintf("Time: %s for the target, %s per 1,000 conversations there (%s for the first 1,000); %s.",
			Seconds(p.TimeForTargetS), Seconds(p.TimePer1KAtTargetS), Seconds(p.TimeFor1KS), p.TimeModel),
		fmt.Sprintf("Throughput at the target: %s conversations per minute.", Count(p.ThroughputAtTarget)),
		fmt.Sprintf("Storage for the target: %s (vectors as %s .npy).", Bytes(p.StorageForTargetBytes), dtype),
		fmt.Sprintf("Embedding cost at %s ($%.4g per million tokens, %.4g tokens per conversation): %s per 1,000 conversations, %s a month for %s conversations.",
			nonEmpty(p.PriceModel, "no price model"), p.PricePerMillionUSD, p.TokensPerConversation, USD(p.CostPer1KUSD), USD(p.MonthlyCostUSD), Count(float64(p.MonthlyConversations))),
	}
	if p.MonthlyActualCostUSD > 0 {
		out = append(out, fmt.Sprintf("At what the embedder charged: %s a month.", USD(p.MonthlyActualCostUSD)))
	}
	if len(p.StageTimesAtTargetS) > 0 {
		var parts []string
		for _, st := range Stages {
			if t, ok := p.StageTimesAtTargetS[st]; ok {
				parts = append(parts, fmt.Sprintf("%s %s (%s)", st, Seconds(t), p.StageModels[st]))
			}
		}
		out = append(out, "Stages at the target: "+strings.Join(parts, "; ")+".")
	}
	return append(out, p.Notes...)
}

func problems(res *loadtest.Results) []string {
	var out []string
	if res.Interrupted {
		out = append(out, "The run was interrupted before all scales ran.")
	}
	for _, f := range res.Failures {
		out = append(out, fmt.Sprintf("Scale %s failed (%s): %s", Count(float64(f.Scale)), f.Kind, f.Error))
	}
	for _, s := range res.Skipped {
		out = append(out, fmt.Sprintf("Scale %s skipped: %s", Count(float64(s.Scale)), s.Reason))
	}
	return out
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Bytes formats a size in binary units (KiB, MiB, GiB, TiB).
func Bytes(v float64) string {
	const k = 1024
	abs := math.Abs(v)
	switch {
	case abs >= k*k*k*k:
		return fmt.Sprintf("%.3g TiB", v/(k*k*k*k))
	case abs >= k*k*k:
		return fmt.Sprintf("%.3g GiB", v/(k*k*k))
	case abs >= k*k:
		return fmt.Sprintf("%.3g MiB", v/(k*k))
	case abs >= k:
		return fmt.Sprintf("%.3g KiB", v/k)
	}
	return fmt.Sprintf("%.0f B", v)
}

// Seconds formats a duration given in seconds (ms, s, min, h, days).
func Seconds(s float64) string {
	switch {
	case s < 1:
		return fmt.Sprintf("%.3g ms", s*1000)
	case s < 120:
		return fmt.Sprintf("%.3g s", s)
	case s < 2*3600:
		return fmt.Sprintf("%.3g min", s/60)
	case s < 2*86400:
		return fmt.Sprintf("%.3g h", s/3600)
	}
	return fmt.Sprintf("%.3g days", s/86400)
}

// USD formats an amount of US dollars.
func USD(v float64) string {
	if v != 0 && math.Abs(v) < 0.01 {
		return fmt.Sprintf("$%.3g", v)
	}
	return fmt.Sprintf("$%.2f", v)
}

// Count formats a count with thousands separators.
func Count(v float64) string {
	n := int64(math.Round(v))
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
