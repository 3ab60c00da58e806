package loadtest

import (
	"fmt"
	"math"
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
	ThroughputAtTarget float64 `json:"throughput_at_target_per_min"`

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

// Plan computes the production planning from the fits. It returns nil
// without an analysis (fewer than two successful scales).
func Plan(a *Analysis, cfg *Config) *Planning {
	if a == nil {
		return nil
	}
	target := float64(cfg.TargetConversations)
	p := &Planning{TargetConversations: cfg.TargetConversations, MonthlyConversations: cfg.MonthlyConversations,
		PriceModel: cfg.PriceModel, Extrapolation: target / float64(a.LastScale)}
	if f := a.Fit("peak_memory"); f != nil {
		p.RAMBytes = nonNeg(f.Predict(target))
		p.MemoryExponent, p.MemoryModel = f.PowerB, f.Describe()
	}
	if f := a.Fit("total_time"); f != nil {
		p.TimeFor1KS = nonNeg(f.Predict(1000))
		p.TimeForTargetS = nonNeg(f.Predict(target))
		p.TimePer1KAtTargetS = p.TimeForTargetS / (target / 1000)
		p.TimeExponent, p.TimeModel = f.PowerB, f.Describe()
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
	if p.Extrapolation > 5 {
		p.Notes = append(p.Notes, fmt.Sprintf("the target is %.1f× the largest scale measured (%d): the figures are extrapolated; add a larger scale to confirm them", p.Extrapolation, a.LastScale))
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
