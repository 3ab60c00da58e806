package analysis

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest/fit"
	"github.com/kura-go/kura/loadtest/measure"
)

// Planning turns the measurements into production numbers for the target
// and monthly volumes, as the guide's "Interpreting Results for Production"
// section does, but from least-squares fits over all scales instead of one
// point, and with each number's model stated.
type Planning struct {
	TargetConversations  int `json:"target_conversations"`
	MonthlyConversations int `json:"monthly_conversations"`
	// Extrapolation is target / largest scale measured (above 1 = beyond the data).
	Extrapolation float64 `json:"extrapolation"`

	// RAMBytes is the peak memory predicted for the target by PredictMemory
	// (the same prediction as the --memory-limit guard); MemoryModel says
	// which model gave it, MemoryExponent is that model's growth exponent
	// (1 for the linear fit, by its form) and MemorySlopePer1KBytes the
	// linear fit's extra memory per 1,000 conversations.
	RAMBytes              float64 `json:"ram_bytes"`
	MemoryExponent        float64 `json:"memory_exponent"`
	MemoryModel           string  `json:"memory_model"`
	MemorySlopePer1KBytes float64 `json:"memory_slope_bytes_per_1k"`

	TimeFor1KS         float64 `json:"time_for_1k_s"`           // predicted total time for 1,000 conversations
	TimePer1KAtTargetS float64 `json:"time_per_1k_at_target_s"` // time for the target / (target / 1,000)
	TimeForTargetS     float64 `json:"time_for_target_s"`
	// TimeExponent is the effective growth exponent of the planned time at
	// the target, log2(T(target) / T(target/2)); 0 when no stage exponent
	// was measured (two scales, or stages too short to time).
	TimeExponent float64 `json:"time_exponent"`
	TimeModel    string  `json:"time_model"`
	// StageExponents is the growth exponent at the target of each stage
	// planned with a fitted growth law (see StageModels): how its planned
	// time grows from half the target to the target. Stages planned as
	// linear are left out.
	StageExponents map[string]float64 `json:"stage_exponents,omitempty"`
	// StageModels says how each stage's time was planned, and
	// StageTimesAtTargetS what each contributes at the target.
	StageModels         map[string]string  `json:"stage_models,omitempty"`
	StageTimesAtTargetS map[string]float64 `json:"stage_times_at_target_s,omitempty"`
	ThroughputAtTarget  float64            `json:"throughput_at_target_per_min"`

	StorageForTargetBytes float64 `json:"storage_for_target_bytes"`

	// IntervalLevel is the coverage of the bounds below (fit.IntervalLevel),
	// 0 when none could be computed (fewer than three scales). The time
	// bounds are the sums of the stages' prediction intervals (a cautious
	// union, not a joint interval); the RAM bounds are the peak-memory
	// model's. They say how far the measurements leave the figure open if
	// the model's form holds; they cannot say whether it holds far beyond
	// the scales measured (see Notes).
	IntervalLevel      float64 `json:"interval_level,omitempty"`
	TimeForTargetLowS  float64 `json:"time_for_target_low_s,omitempty"`
	TimeForTargetHighS float64 `json:"time_for_target_high_s,omitempty"`
	RAMLowBytes        float64 `json:"ram_low_bytes,omitempty"`
	RAMHighBytes       float64 `json:"ram_high_bytes,omitempty"`

	// The cost is exact arithmetic, not a fit: TokensPerConversation (the
	// mean over all scales) × conversations × PricePerMillionUSD / 1e6.
	PriceModel            string  `json:"price_model"`
	PricePerMillionUSD    float64 `json:"price_per_million_usd"`
	TokensPerConversation float64 `json:"tokens_per_conversation"`
	CostPer1KUSD          float64 `json:"cost_per_1k_usd"`
	MonthlyCostUSD        float64 `json:"monthly_cost_usd"`
	// MonthlyActualCostUSD is the monthly cost at what the embedder charged
	// per token (0 for offline embedders).
	MonthlyActualCostUSD float64 `json:"monthly_actual_cost_usd"`
	// PipelineCost is the whole pipeline's monthly cost by stage, and
	// MonthlyPipelineCostUSD its sum, in a full-pipeline load test (absent
	// otherwise; see StageCost).
	PipelineCost           []StageCost `json:"pipeline_cost,omitempty"`
	MonthlyPipelineCostUSD float64     `json:"monthly_pipeline_cost_usd,omitempty"`

	Notes []string `json:"notes,omitempty"`
}

// minFitTimeS is the shortest stage time from which a growth exponent is
// fitted: below ~50 ms, timer resolution, scheduling and garbage collection
// are a large share of what is measured, and an exponent through such
// points turns noise into hours at the target.
const minFitTimeS = 0.05

// stagePlan is how one stage's time is predicted.
type stagePlan struct {
	name     string
	fit      *fit.Fit
	linear   bool // use the fit's line, not its chosen model
	exponent float64
	model    string
	// lastN and lastS are the largest scale and the stage's time there: a
	// stage is never planned to take less time on more data than it took
	// there (a noisy fit through sub-50 ms times can go to 0).
	lastN, lastS float64
	// par is what the fit is divided by to give the wall time: 1 when the
	// fit is of the wall time, the stage's parallelism (CPU time / wall
	// time) when it is of the CPU time (see cpuPlanned).
	par float64
}

func (sp stagePlan) at(n float64) float64 {
	if sp.fit == nil {
		return 0
	}
	v := sp.fit.Predict(n)
	if sp.linear {
		v = sp.fit.Intercept + sp.fit.Slope*n
	}
	v /= sp.div()
	if n >= sp.lastN && v < sp.lastS {
		v = sp.lastS
	}
	return nonNeg(v)
}

// interval is the stage's prediction interval at n (see fit.Interval); a
// stage planned linear uses its line's interval.
func (sp stagePlan) interval(n float64) (lo, hi float64, ok bool) {
	if sp.fit == nil {
		return 0, 0, false
	}
	f := sp.fit
	if sp.linear && f.Model != "linear" {
		g := *f
		g.Model = "linear"
		f = &g
	}
	lo, hi, ok = f.Interval(n, fit.IntervalLevel)
	lo, hi = lo/sp.div(), hi/sp.div()
	if ok && n >= sp.lastN { // the floor of at, so that the interval holds the figure
		lo, hi = max(lo, sp.lastS), max(hi, sp.lastS)
	}
	return lo, hi, ok
}

func (sp stagePlan) div() float64 {
	if sp.par > 0 {
		return sp.par
	}
	return 1
}

// growthFit fits a stage's wall time (cpu: its CPU time) over the scales
// with fit.GrowthAtLeast, held to exponents of at least minExp (0 or 1:
// free).
func growthFit(results []measure.Scale, stage string, minExp float64, cpu bool) *fit.Fit {
	ns, ys := stageSeries(results, stage, cpu)
	g, err := fit.GrowthAtLeast(stage+"_time", "s", ns, ys, minExp)
	if err != nil {
		return nil
	}
	return g
}

// stageSeries returns the scales' sizes and a stage's wall time there (cpu:
// its CPU time).
func stageSeries(results []measure.Scale, stage string, cpu bool) (ns, ys []float64) {
	ns = make([]float64, len(results))
	ys = make([]float64, len(results))
	for i := range results {
		ns[i] = float64(results[i].Conversations)
		ys[i] = results[i].Stages.Of(stage).WallS
		if cpu {
			ys[i] = results[i].Stages.Of(stage).CPUS
		}
	}
	return ns, ys
}

// cpuFit fits a stage's CPU time over the scales with fit.Scaling.
func cpuFit(results []measure.Scale, stage string) *fit.Fit {
	ns, ys := stageSeries(results, stage, true)
	c, err := fit.Scaling(stage+"_cpu", "s", ns, ys)
	if err != nil {
		return nil
	}
	return c
}

// quadraticFit fits a stage's wall time (cpu: its CPU time) with
// fit.Quadratic.
func quadraticFit(results []measure.Scale, stage string, cpu bool) *fit.Fit {
	ns, ys := stageSeries(results, stage, cpu)
	q, err := fit.Quadratic(stage+"_time", "s", ns, ys)
	if err != nil {
		return nil
	}
	return q
}

// planStages decides, for each stage, the model its time is planned with.
func planStages(results []measure.Scale, a *Analysis, g Goal) []stagePlan {
	var out []stagePlan
	for _, stage := range measure.Pipeline {
		st := stage.Name
		f := a.Fit(st + "_time")
		if f == nil {
			continue
		}
		var longest float64
		sp := stagePlan{name: st, fit: f, linear: true}
		for i := range results {
			w := results[i].Stages.Of(st).WallS
			longest = max(longest, w)
			if n := float64(results[i].Conversations); n >= sp.lastN {
				sp.lastN, sp.lastS = n, w
			}
		}
		// A stage that computes is planned from its CPU time, which other
		// work on the machine and the scheduler disturb far less than its
		// wall time, divided by its parallelism (see cpuPlanned).
		basis, unit := "", "wall time"
		if par, ok := cpuPlanned(results, stage); ok {
			if c := cpuFit(results, st); c != nil {
				f, sp.fit, sp.par = c, c, par
				basis = fmt.Sprintf(" ÷ %.2f (its parallelism, CPU / wall time, the most measured)", par)
				unit = "CPU time"
			}
		}
		line := fmt.Sprintf("%s + %s per 1,000", human.Seconds(f.Intercept), human.Seconds(f.Slope*1000))
		switch {
		case stage.Linear:
			sp.model = "linear, O(n) by construction: " + line + " of " + unit + basis
		case len(distinctScales(results)) < 3:
			sp.model = "linear (two scales cannot tell growth from noise): " + line + " of " + unit + basis
		case longest < minFitTimeS:
			sp.model = fmt.Sprintf("linear: every measurement under %.0f ms, too short for a growth exponent: %s of %s%s", minFitTimeS*1000, line, unit, basis)
		default:
			// The stage's work grows faster than the data (k-NN graph,
			// UMAP, clustering): it is planned with a growth law (power,
			// n·log n or fixed cost plus power), never the plain line that
			// a few noisy points under a fixed cost can favour. A stage
			// whose algorithm is known to be quadratic is held to n² or
			// more: over small scales its lower-order work flattens the
			// curve.
			var floor float64
			if st == "cluster" {
				floor = g.ClusterMinExponent
			}
			//
			// A stage known to be quadratic (floor 2) is planned with the
			// form of its cost, a·n + b·n² (fit.Quadratic), which keeps
			// its linear part linear.
			if floor >= 2 {
				if q := quadraticFit(results, st, sp.par > 0); q != nil {
					f = q
				}
			} else if gf := growthFit(results, st, floor, sp.par > 0); gf != nil {
				f = gf
			}
			sp.fit, sp.linear, sp.exponent = f, false, f.Exponent
			sp.model = "fitted " + f.Describe() + " of " + unit + basis
			switch {
			case f.Model == "quadratic":
				sp.model += fmt.Sprintf(", the form of its cost (%s)", g.ClusterComplexity)
			case floor > 1:
				sp.model += fmt.Sprintf(", held to n^%g or more (%s)", floor, g.ClusterComplexity)
			}
		}
		out = append(out, sp)
	}
	return out
}

// cpuPlanned decides whether a stage's time is planned from its CPU time,
// and returns the parallelism to divide it by. A stage whose CPU time at
// the largest scale is under busyShare of its wall time waits (for an API,
// the disk) more than it computes: its wall time is planned, unless the
// stage only computes (StageInfo.Computes: reduce, cluster), where a low
// share means the machine was busy (a run whose cluster stage got half a
// core at 2,000 had its wall time planned and a spike fitted as n^2.79:
// 6.3 hours for 100,000 conversations measured at 27 s). Otherwise the
// parallelism is the highest CPU time / wall time among the scales where
// the stage took minFitTimeS or more (the largest scale's when none did),
// at least 1: a busy machine can only lower what a scale measured, and the
// stage's share of parallel work does not fall as the data grow, so the
// most measured is the closest to what the target gets (a little below it,
// which plans a little high). Measured on the 2-core development machine
// (loadtest/testdata/planning): HDBSCAN's wall time at 2,000 varied by
// ±13% from run to run and its parallelism from 1.37 to 1.82, its CPU
// time by ±2%; planned from the CPU time, the total time at 10,000 and
// 100,000 came within -14..+29% of the runs at those volumes.
func cpuPlanned(results []measure.Scale, stage measure.StageInfo) (par float64, ok bool) {
	var lastN, lastPar, best float64
	for i := range results {
		s := results[i].Stages.Of(stage.Name)
		if s.WallS <= 0 || s.CPUS < 0 {
			return 0, false // not measured at every scale
		}
		p := s.CPUS / s.WallS
		if n := float64(results[i].Conversations); n >= lastN {
			lastN, lastPar = n, p
		}
		if s.WallS >= minFitTimeS {
			best = max(best, p)
		}
	}
	// A CPU time of 0 is not a measurement (results written before CPU
	// times were kept).
	if lastPar < busyShare && (!stage.Computes || lastPar == 0) {
		return 0, false
	}
	if best == 0 {
		best = lastPar
	}
	return max(best, 1), true
}

// busyShare: below this CPU time / wall time at the largest scale a stage
// is taken to wait rather than compute.
const busyShare = 0.8

func distinctScales(results []measure.Scale) []int {
	seen := map[int]bool{}
	var out []int
	for _, r := range results {
		if !seen[r.Conversations] {
			seen[r.Conversations] = true
			out = append(out, r.Conversations)
		}
	}
	return out
}

// Goal is what the planning plans for.
type Goal struct {
	Conversations int // the production volume to plan RAM, time and storage for
	Monthly       int // conversations per month, for the cost
	// PriceModel names the model whose price the cost is planned at when
	// no scale recorded one.
	PriceModel string
	// MockLatency is the latency the mock embedder simulated per request
	// (0 = none: the plan then says the API's time is not in it).
	MockLatency time.Duration
	// ClusterMinExponent is the lowest growth exponent the clustering's
	// algorithm allows (2 for HDBSCAN's exact path, which builds and walks
	// the complete graph of the points, and for K-means with k in
	// proportion to n), and ClusterComplexity says why in words; 0 when
	// not known: the exponent is then fitted freely.
	ClusterMinExponent float64
	ClusterComplexity  string
}

// Plan computes the production planning from the results and their
// analysis. It returns nil without an analysis (fewer than two successful
// scales).
func Plan(results []measure.Scale, a *Analysis, g Goal) *Planning {
	if a == nil {
		return nil
	}
	target := float64(g.Conversations)
	p := &Planning{TargetConversations: g.Conversations, MonthlyConversations: g.Monthly,
		PriceModel: g.PriceModel, Extrapolation: target / float64(a.LastScale)}
	if len(results) > 0 {
		p.PriceModel = results[len(results)-1].API.PriceModel
		p.PricePerMillionUSD = results[len(results)-1].API.PricePerMillion
	}
	p.planMemory(results, g.Conversations)
	stages := planStages(results, a, g)
	p.planTime(results, stages, target)
	if f := a.Fit("storage"); f != nil {
		p.StorageForTargetBytes = nonNeg(f.Predict(target))
	}
	p.planCost(results, g.Monthly)
	p.planPipelineCost(results, g.Monthly)
	p.noteExtrapolation(a, g)
	if note := mockLatencyNote(results, g); note != "" {
		p.Notes = append(p.Notes, note)
	}
	p.noteBusyMachine(a, stages)
	p.notePoorFits(results, a)
	return p
}

// planMemory plans the peak memory at n conversations with PredictMemory,
// the same prediction as the --memory-limit guard.
func (p *Planning) planMemory(results []measure.Scale, n int) {
	m, ok := PredictMemory(results, n)
	if !ok {
		return
	}
	p.RAMBytes, p.MemoryModel, p.MemoryExponent, p.MemorySlopePer1KBytes = m.Bytes, m.Model, m.Exponent, m.SlopePer1K
	if m.High > 0 {
		p.IntervalLevel, p.RAMLowBytes, p.RAMHighBytes = fit.IntervalLevel, m.Low, m.High
	}
}

// planTime plans the total time at the target as the sum of the stages'
// predictions: each stage grows at its own rate (embedding linearly,
// clustering faster), and one curve through their sum would misjudge the
// mix at other sizes. The interval is the sum of the stages' intervals.
func (p *Planning) planTime(results []measure.Scale, stages []stagePlan, target float64) {
	if len(stages) == 0 {
		return
	}
	timeAt := func(n float64) float64 {
		var sum float64
		for _, sp := range stages {
			sum += sp.at(n)
		}
		return sum
	}
	p.StageExponents = map[string]float64{}
	p.StageModels = map[string]string{}
	p.StageTimesAtTargetS = map[string]float64{}
	var parts []string
	measured := false
	for _, sp := range stages {
		p.StageModels[sp.name] = sp.model
		p.StageTimesAtTargetS[sp.name] = sp.at(target)
		if !sp.linear {
			// The growth at the target, from half of it to it: a
			// quadratic fit's form says 2, but its linear part still
			// weighs there (1.8 at 10,000 on the default scales).
			e, ok := growthAt(sp.at, target)
			if !ok {
				e = sp.exponent
			}
			p.StageExponents[sp.name] = e
			measured = true
		}
		parts = append(parts, sp.name+": "+sp.model)
	}
	p.TimeModel = "sum of the stages (" + strings.Join(parts, "; ") + ")"
	p.TimeFor1KS = timeAt(1000)
	p.TimeForTargetS = timeAt(target)
	p.TimePer1KAtTargetS = p.TimeForTargetS / (target / 1000)
	if lo, hi, ok := sumIntervals(stages, target); ok {
		p.IntervalLevel, p.TimeForTargetLowS, p.TimeForTargetHighS = fit.IntervalLevel, lo, hi
	}
	// The effective exponent at the target: how the planned time grows
	// from half the target to the target.
	if e, ok := growthAt(timeAt, target); measured && ok {
		p.TimeExponent = e
	}
	if p.TimeForTargetS > 0 {
		p.ThroughputAtTarget = target / p.TimeForTargetS * 60
	}
	if len(distinctScales(results)) < 3 {
		p.Notes = append(p.Notes, "only two scales: time and memory are planned as linear between them, and no growth exponent is claimed; run three or more scales to measure one")
	}
}

// growthAt is how f grows from n/2 to n, as the exponent e of f ∝ n^e
// there: log2(f(n) / f(n/2)). ok is false when either is not positive.
func growthAt(f func(float64) float64, n float64) (e float64, ok bool) {
	t, h := f(n), f(n/2)
	if t <= 0 || h <= 0 {
		return 0, false
	}
	return math.Log(t/h) / math.Ln2, true
}

// sumIntervals adds the stages' prediction intervals at n (a cautious
// union, not a joint interval); ok is false when a stage has none.
func sumIntervals(stages []stagePlan, n float64) (lo, hi float64, ok bool) {
	for _, sp := range stages {
		l, h, ok := sp.interval(n)
		if !ok {
			return 0, 0, false
		}
		lo, hi = lo+l, hi+h
	}
	return lo, hi, true
}

// planCost prices the tokens: they are counted exactly, so the cost is
// arithmetic, not a fit.
func (p *Planning) planCost(results []measure.Scale, monthly int) {
	var tokens, convs int64
	var charged float64
	for _, r := range results {
		tokens += r.API.Tokens
		convs += int64(r.Conversations)
		charged += r.API.CostUSD
	}
	if convs == 0 {
		return
	}
	p.TokensPerConversation = float64(tokens) / float64(convs)
	p.CostPer1KUSD = embed.Cost(p.TokensPerConversation*1000, p.PricePerMillionUSD)
	p.MonthlyCostUSD = embed.Cost(p.TokensPerConversation*float64(monthly), p.PricePerMillionUSD)
	if charged > 0 && tokens > 0 {
		p.MonthlyActualCostUSD = charged / float64(tokens) * p.TokensPerConversation * float64(monthly)
	}
}

// noteExtrapolation says how far beyond the scales measured the target is,
// and beyond farExtrapolation which scales to add.
func (p *Planning) noteExtrapolation(a *Analysis, g Goal) {
	switch {
	case p.Extrapolation > farExtrapolation:
		p.Notes = append(p.Notes, farNote(p.Extrapolation, a.LastScale, g.Conversations))
	case p.Extrapolation > 1:
		p.Notes = append(p.Notes, fmt.Sprintf("the target is %.1f× the largest scale measured (%s): the figures are extrapolated; add a larger scale to confirm them", p.Extrapolation, human.Thousands(a.LastScale)))
	}
}

// farNote is the note of a plan for target conversations, ratio× the
// largest scale measured (last), beyond farExtrapolation.
func farNote(ratio float64, last, target int) string {
	return fmt.Sprintf("the target is %.0f× the largest scale measured (%s): beyond %.0f×, a growth law fitted over the small scales can be off by a factor of several (a stage's exponent off by 0.1 changes the time %.0f%% at this distance), whatever the interval says; measure closer with --scales %s",
		ratio, human.Thousands(last), farExtrapolation, (math.Pow(ratio, 0.1)-1)*100, suggestScales(last, target))
}

// FarExtrapolation tells whether note is p's warning that its target is
// more than 5× the largest scale of a, and if so the scales it suggests
// adding: a reader told once what that warning means needs only those for
// another volume.
func (p *Planning) FarExtrapolation(a *Analysis, note string) (scales string, ok bool) {
	if a == nil || p.Extrapolation <= farExtrapolation || note != farNote(p.Extrapolation, a.LastScale, p.TargetConversations) {
		return "", false
	}
	return suggestScales(a.LastScale, p.TargetConversations), true
}

// noteBusyMachine warns when a CPU-bound stage's wall time grows much
// faster than its CPU time: other work on the machine slowed it, and its
// wall-time exponent (and the time planned from it) is inflated.
func (p *Planning) noteBusyMachine(a *Analysis, stages []stagePlan) {
	for _, sp := range stages {
		if sp.linear {
			continue
		}
		w, c := a.Fit(sp.name+"_time"), a.Fit(sp.name+"_cpu")
		if w == nil || c == nil || w.Exponent-c.Exponent < 0.4 {
			continue
		}
		if last := c.Predict(float64(a.LastScale)) / w.Predict(float64(a.LastScale)); last > 0.5 {
			p.Notes = append(p.Notes, fmt.Sprintf("%s wall time grows as n^%.2f but its CPU time as n^%.2f: the machine was busy and the time planned is pessimistic; rerun on a quiet machine or with --repeat 3",
				sp.name, w.Exponent, c.Exponent))
		}
	}
}

// notePoorFits says when the total time or the peak memory fits the
// scales poorly.
func (p *Planning) notePoorFits(results []measure.Scale, a *Analysis) {
	if len(distinctScales(results)) <= 2 {
		return
	}
	if f := a.Fit("total_time"); f != nil && f.R2() < 0.9 {
		p.Notes = append(p.Notes, fmt.Sprintf("total time fits poorly (R²=%.2f): timings are noisy at these scales; rerun or add scales", f.R2()))
	}
	if f := a.Fit("peak_memory"); f != nil && f.R2() < 0.9 {
		p.Notes = append(p.Notes, fmt.Sprintf("peak memory fits poorly (R²=%.2f)", f.R2()))
	}
}

// mockLatencyNote warns that a mock run without --mock-latency planned the
// API's time as free.
func mockLatencyNote(results []measure.Scale, g Goal) string {
	if len(results) == 0 || !strings.HasPrefix(results[0].Embedder, "mock") || g.MockLatency > 0 {
		return ""
	}
	return "the mock embedder answered without any API latency, so the embed time planned is kura's own work only: a real API adds its latency per request wave. Rehearse it with --mock-latency 100ms, or against kura mock-api --latency 100ms with --embedder openai --base-url"
}

// farExtrapolation is how far beyond the largest scale a plan is still
// called an extrapolation rather than a guess: 5×.
const farExtrapolation = 5.0

// suggestScales proposes scales to add between the largest measured and the
// target, so that no step is more than about 5×: geometric, rounded to two
// significant digits, at most three, never the target itself when it is
// beyond a million (the largest run that fits this kind of machine).
func suggestScales(largest, target int) string {
	ratio := float64(target) / float64(largest)
	k := int(math.Ceil(math.Log(ratio)/math.Log(farExtrapolation))) - 1
	k = min(max(k, 1), 3)
	step := math.Pow(ratio, 1/float64(k+1))
	var out []string
	prev := largest
	for i := 1; i <= k; i++ {
		v := round2(float64(largest) * math.Pow(step, float64(i)))
		if v > prev && v < target {
			out = append(out, strconv.Itoa(v))
			prev = v
		}
	}
	if len(out) == 0 || target <= 1_000_000 {
		out = append(out, strconv.Itoa(target))
	}
	return strings.Join(out, ",")
}

// round2 rounds to two significant digits.
func round2(v float64) int {
	if v < 100 {
		return int(math.Round(v))
	}
	p := math.Pow(10, math.Floor(math.Log10(v))-1)
	return int(math.Round(v/p) * p)
}

func nonNeg(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return v
}
