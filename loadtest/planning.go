package loadtest

import (
	"fmt"
	"math"
	"strings"
)

// Planning turns the fitted scaling laws into production numbers for the
// target and monthly volumes, as the guide's "Interpreting Results for
// Production" section does, but from least-squares fits over all scales
// instead of one point.
type Planning struct {
	TargetConversations  int `json:"target_conversations"`
	MonthlyConversations int `json:"monthly_conversations"`
	// Extrapolation is target / largest scale measured (above 1 = beyond the data).
	Extrapolation float64 `json:"extrapolation"`

	RAMBytes       float64 `json:"ram_bytes"`       // predicted peak memory for the target
	MemoryExponent float64 `json:"memory_exponent"` // b of peak memory ≈ a·n^b
	MemoryModel    string  `json:"memory_model"`

	TimeFor1KS         float64 `json:"time_for_1k_s"`           // predicted total time for 1,000 conversations
	TimePer1KAtTargetS float64 `json:"time_per_1k_at_target_s"` // time for the target / (target / 1,000)
	TimeForTargetS     float64 `json:"time_for_target_s"`
	TimeExponent       float64 `json:"time_exponent"`
	TimeModel          string  `json:"time_model"`
	// StageExponents is the fitted growth exponent of each stage's time
	// (load, embed, cluster, write).
	StageExponents     map[string]float64 `json:"stage_exponents,omitempty"`
	ThroughputAtTarget float64            `json:"throughput_at_target_per_min"`

	StorageForTargetBytes float64 `json:"storage_for_target_bytes"`

	PriceModel string `json:"price_model"`
	// CostPer1KUSD and MonthlyCostUSD price the tokens at PriceModel.
	CostPer1KUSD   float64 `json:"cost_per_1k_usd"`
	MonthlyCostUSD float64 `json:"monthly_cost_usd"`
	// MonthlyActualCostUSD is the monthly cost at what the embedder charged
	// (0 for offline embedders).
	MonthlyActualCostUSD float64 `json:"monthly_actual_cost_usd"`

	Notes []string `json:"notes,omitempty"`
}

// Plan computes the production planning from the fits of the results'
// analysis. It returns nil without an analysis (fewer than two successful
// scales).
func Plan(results []ScaleResult, a *Analysis, cfg *Config) *Planning {
	if a == nil {
		return nil
	}
	target := float64(cfg.TargetConversations)
	p := &Planning{TargetConversations: cfg.TargetConversations, MonthlyConversations: cfg.MonthlyConversations,
		PriceModel: cfg.PriceModel, Extrapolation: target / float64(a.LastScale)}
	if len(results) > 0 {
		p.PriceModel = results[len(results)-1].API.PriceModel
	}
	if f := a.Fit("peak_memory"); f != nil {
		p.RAMBytes = nonNeg(f.Predict(target))
		p.MemoryExponent, p.MemoryModel = f.Exponent, f.Describe()
		// A concave fit (exponent below 1) of peak memory mostly reflects the
		// fixed memory of the process; the data itself (vectors, records)
		// grows linearly. Plan RAM with the larger of the two.
		if lin := nonNeg(f.Intercept + f.Slope*target); f.Model != "linear" && lin > p.RAMBytes {
			p.Notes = append(p.Notes, fmt.Sprintf("RAM planned with the linear fit (%s), which is above the chosen %s fit's %s: memory for the data grows at least linearly",
				humanBytes(lin), f.Model, humanBytes(p.RAMBytes)))
			p.RAMBytes = lin
			p.MemoryExponent = 1
		}
	}
	// Time is planned as the sum of the stages' fits: each stage grows at
	// its own rate (embedding linearly, clustering faster), and one curve
	// through their sum would misjudge the mix at other sizes. Without
	// stage fits the total's fit is used.
	timeAt := func(n float64) float64 {
		var sum float64
		ok := false
		for _, st := range []string{"load_time", "embed_time", "cluster_time", "write_time"} {
			if f := a.Fit(st); f != nil {
				sum += nonNeg(f.Predict(n))
				ok = true
			}
		}
		if !ok {
			if f := a.Fit("total_time"); f != nil {
				return nonNeg(f.Predict(n))
			}
		}
		return sum
	}
	if f := a.Fit("total_time"); f != nil {
		p.TimeModel = "sum of the stage fits; total alone: " + f.Describe()
		p.StageExponents = map[string]float64{}
		for _, st := range []string{"load_time", "embed_time", "cluster_time", "write_time"} {
			if sf := a.Fit(st); sf != nil {
				p.StageExponents[strings.TrimSuffix(st, "_time")] = sf.Exponent
			}
		}
		p.TimeFor1KS = timeAt(1000)
		p.TimeForTargetS = timeAt(target)
		p.TimePer1KAtTargetS = p.TimeForTargetS / (target / 1000)
		// The effective exponent at the target: how time grows from half
		// the target to the target.
		if half := timeAt(target / 2); half > 0 && p.TimeForTargetS > 0 {
			p.TimeExponent = math.Log(p.TimeForTargetS/half) / math.Ln2
		}
		if p.TimeForTargetS > 0 {
			p.ThroughputAtTarget = target / p.TimeForTargetS * 60
		}
	}
	if f := a.Fit("storage"); f != nil {
		p.StorageForTargetBytes = nonNeg(f.Predict(target))
	}
	monthly := float64(cfg.MonthlyConversations)
	if f := a.Fit("estimated_cost"); f != nil {
		p.CostPer1KUSD = nonNeg(f.Predict(1000))
		p.MonthlyCostUSD = nonNeg(f.Predict(monthly))
	}
	if f := a.Fit("actual_cost"); f != nil {
		p.MonthlyActualCostUSD = nonNeg(f.Predict(monthly))
	}
	if p.Extrapolation > 1 {
		p.Notes = append(p.Notes, fmt.Sprintf("the target is %.1f× the largest scale measured (%d): the figures are extrapolated; add a larger scale to confirm them", p.Extrapolation, a.LastScale))
	}
	// A CPU-bound stage whose wall time grows much faster than its CPU time
	// was slowed by other work on the machine: its wall-time exponent (and
	// the time planned from it) is inflated.
	for _, st := range []string{"embed", "cluster"} {
		w, c := a.Fit(st+"_time"), a.Fit(st+"_cpu")
		if w == nil || c == nil || w.Exponent-c.Exponent < 0.4 {
			continue
		}
		if last := c.Predict(float64(a.LastScale)) / w.Predict(float64(a.LastScale)); last > 0.5 {
			p.Notes = append(p.Notes, fmt.Sprintf("%s wall time grows as n^%.2f but its CPU time as n^%.2f: the machine was busy and the time planned is pessimistic; rerun on a quiet machine or with --repeat 3",
				st, w.Exponent, c.Exponent))
		}
	}
	if f := a.Fit("total_time"); f != nil && f.R2() < 0.9 {
		p.Notes = append(p.Notes, fmt.Sprintf("total time fits poorly (R²=%.2f): timings are noisy at these scales; rerun or add scales", f.R2()))
	}
	if f := a.Fit("peak_memory"); f != nil && f.R2() < 0.9 {
		p.Notes = append(p.Notes, fmt.Sprintf("peak memory fits poorly (R²=%.2f)", f.R2()))
	}
	return p
}

func nonNeg(v float64) float64 {
	if math.IsNaN(v) || v < 0 {
		return 0
	}
	return v
}
