// Package measuretest makes measure.Scale values for tests of the packages
// that read them (analysis, report, gate).
package measuretest

import (
	"math"

	"github.com/kura-go/kura/loadtest/measure"
)

// Scale is a scale of n conversations that took timeS seconds (half embed,
// half cluster) at peak and baseline memory, storing 8,000 bytes per
// conversation, with cost estimated at $0.02 per million tokens.
func Scale(n int, timeS float64, peak, base int64, cost float64) measure.Scale {
	return measure.Scale{Scale: n, Conversations: n, TotalWallS: timeS, PeakRSSBytes: peak, BaselineRSSBytes: base,
		Stages:           measure.Stages{{Name: measure.Embed, WallS: timeS / 2, PeakRSSBytes: peak}, {Name: measure.Cluster, WallS: timeS / 2, PeakRSSBytes: peak}},
		Storage:          measure.Storage{TotalBytes: int64(n) * 8000},
		API:              measure.APIUsage{EstimatedCostUSD: cost, PricePerMillion: 0.02, Tokens: int64(math.Round(cost / 0.02 * 1e6))},
		ThroughputPerMin: float64(n) / timeS * 60}
}

// Staged is a scale of n conversations whose stages took the given times
// (wall = CPU), with the given memory and tokens priced at $0.02 per
// million (text-embedding-3-small), embedded by "hash".
func Staged(n int, load, emb, cluster, write float64, base, peak int64, tokens int64) measure.Scale {
	r := measure.Scale{Scale: n, Conversations: n, BaselineRSSBytes: base, PeakRSSBytes: peak, Embedder: "hash",
		Stages: measure.Stages{{Name: measure.Load, WallS: load, CPUS: load}, {Name: measure.Embed, WallS: emb, CPUS: emb},
			{Name: measure.Cluster, WallS: cluster, CPUS: cluster}, {Name: measure.Write, WallS: write, CPUS: write}},
		API: measure.APIUsage{Tokens: tokens, PricePerMillion: 0.02, PriceModel: "text-embedding-3-small", EstimatedCostUSD: float64(tokens) * 0.02 / 1e6}}
	r.TotalWallS = load + emb + cluster + write
	r.TotalCPUS = r.TotalWallS
	r.ThroughputPerMin = float64(n) / r.TotalWallS * 60
	return r
}
