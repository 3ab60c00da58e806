package analysis

import (
	"fmt"
	"math"
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
	// StageExponents is the fitted growth exponent of each stage whose
	// exponent was measured (see StageModels); stages planned as linear are
	// left out.
	StageExponents map[string]float64 `json:"stage_exponents,omitempty"`
	// StageModels says how each stage's time was planned, and
	// StageTimesAtTargetS what each contributes at the target.
	StageModels         map[string]string  `json:"stage_models,omitempty"`
	StageTimesAtTargetS map[string]float64 `json:"stage_times_at_target_s,omitempty"`
	ThroughputAtTarget  float64            `json:"throughput_at_target_per_min"`

	StorageForTargetBytes float64 `json:"storage_for_target_bytes"`

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
}

func (sp stagePlan) at(n float64) float64 {
	if sp.fit == nil {
		return 0
	}
	if sp.linear {
		return nonNeg(sp.fit.Intercept + sp.fit.Slope*n)
	}
	return nonNeg(sp.fit.Predict(n))
}

// planStages decides, for each stage, the model its time is planned with.
func planStages(results []measure.Scale, a *Analysis) []stagePlan {
	var out []stagePlan
	for _, stage := range measure.Pipeline {
		st := stage.Name
		f := a.Fit(st + "_time")
		if f == nil {
			continue
		}
		var longest float64
		for i := range results {
			longest = max(longest, results[i].Stages.Of(st).WallS)
		}
		sp := stagePlan{name: st, fit: f, linear: true}
		line := fmt.Sprintf("%s + %s per 1,000", human.Seconds(f.Intercept), human.Seconds(f.Slope*1000))
		switch {
		case stage.Linear:
			sp.model = "linear, O(n) by construction: " + line
		case len(distinctScales(results)) < 3:
			sp.model = "linear (two scales cannot tell growth from noise): " + line
		case longest < minFitTimeS:
			sp.model = fmt.Sprintf("linear: every measurement under %.0f ms, too short for a growth exponent: %s", minFitTimeS*1000, line)
		default:
			sp.linear, sp.exponent = false, f.Exponent
			sp.model = "fitted " + f.Describe()
		}
		out = append(out, sp)
	}
	return out
}

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
	if m, ok := PredictMemory(results, g.Conversations); ok {
		p.RAMBytes, p.MemoryModel, p.MemoryExponent, p.MemorySlopePer1KBytes = m.Bytes, m.Model, m.Exponent, m.SlopePer1K
	}

	// Time is the sum of the stages' predictions: each stage grows at its
	// own rate (embedding linearly, clustering faster), and one curve
	// through their sum would misjudge the mix at other sizes.
	stages := planStages(results, a)
	timeAt := func(n float64) float64 {
		var sum float64
		for _, sp := range stages {
			sum += sp.at(n)
		}
		return sum
	}
	if len(stages) > 0 {
		p.StageExponents = map[string]float64{}
		p.StageModels = map[string]string{}
		p.StageTimesAtTargetS = map[string]float64{}
		var parts []string
		measured := false
		for _, sp := range stages {
			p.StageModels[sp.name] = sp.model
			p.StageTimesAtTargetS[sp.name] = sp.at(target)
			if !sp.linear {
				p.StageExponents[sp.name] = sp.exponent
				measured = true
			}
			parts = append(parts, sp.name+": "+sp.model)
		}
		p.TimeModel = "sum of the stages (" + strings.Join(parts, "; ") + ")"
		p.TimeFor1KS = timeAt(1000)
		p.TimeForTargetS = timeAt(target)
		p.TimePer1KAtTargetS = p.TimeForTargetS / (target / 1000)
		// The effective exponent at the target: how the planned time grows
		// from half the target to the target.
		if half := timeAt(target / 2); measured && half > 0 && p.TimeForTargetS > 0 {
			p.TimeExponent = math.Log(p.TimeForTargetS/half) / math.Ln2
		}
		if p.TimeForTargetS > 0 {
			p.ThroughputAtTarget = target / p.TimeForTargetS * 60
		}
		if len(distinctScales(results)) < 3 {
			p.Notes = append(p.Notes, "only two scales: time and memory are planned as linear between them, and no growth exponent is claimed; run three or more scales to measure one")
		}
	}
	if f := a.Fit("storage"); f != nil {
		p.StorageForTargetBytes = nonNeg(f.Predict(target))
	}

	// Cost: tokens are counted exactly, so the cost is arithmetic, not a fit.
	var tokens, convs int64
	var charged float64
	for _, r := range results {
		tokens += r.API.Tokens
		convs += int64(r.Conversations)
		charged += r.API.CostUSD
	}
	if convs > 0 {
		p.TokensPerConversation = float64(tokens) / float64(convs)
		p.CostPer1KUSD = embed.Cost(p.TokensPerConversation*1000, p.PricePerMillionUSD)
		p.MonthlyCostUSD = embed.Cost(p.TokensPerConversation*float64(g.Monthly), p.PricePerMillionUSD)
		if charged > 0 && tokens > 0 {
			p.MonthlyActualCostUSD = charged / float64(tokens) * p.TokensPerConversation * float64(g.Monthly)
		}
	}

	if p.Extrapolation > 1 {
		p.Notes = append(p.Notes, fmt.Sprintf("the target is %.1f× the largest scale measured (%d): the figures are extrapolated; add a larger scale to confirm them", p.Extrapolation, a.LastScale))
	}
	if note := mockLatencyNote(results, g); note != "" {
		p.Notes = append(p.Notes, note)
	}
	// A CPU-bound stage whose wall time grows much faster than its CPU time
	// was slowed by other work on the machine: its wall-time exponent (and
	// the time planned from it) is inflated.
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
	if f := a.Fit("total_time"); f != nil && f.R2() < 0.9 && len(distinctScales(results)) > 2 {
		p.Notes = append(p.Notes, fmt.Sprintf("total time fits poorly (R²=%.2f): timings are noisy at these scales; rerun or add scales", f.R2()))
	}
	if f := a.Fit("peak_memory"); f != nil && f.R2() < 0.9 && len(distinctScales(results)) > 2 {
		p.Notes = append(p.Notes, fmt.Sprintf("peak memory fits poorly (R²=%.2f)", f.R2()))
	}
	return p
}

// mockLatencyNote warns that a mock run without --mock-latency planned the
// API's time as free.
func mockLatencyNote(results []measure.Scale, g Goal) string {
	if len(results) == 0 || !strings.HasPrefix(results[0].Embedder, "mock") || g.MockLatency > 0 {
		return ""
	}
	return "the mock embedder answered without any API latency, so the embed time planned is kura's own work only: a real API adds its latency per request wave. Rehearse it with --mock-latency 100ms, or against kura mock-api --latency 100ms with --embedder openai --base-url"
}

func nonNeg(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return v
}
