// Package analysis turns a load test's measurements into its scaling
// analysis (first-versus-last ratios with their efficiency, and growth laws
// fitted over all scales) and its production planning (RAM, time, storage
// and money at a target volume, each with the model it comes from).
package analysis

import (
	"fmt"
	"math"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest/measure"
)

// Ratio compares one metric between the smallest and the largest scale, as
// the guide's scaling analysis does: the metric grew Ratio times while the
// number of conversations grew ScaleRatio times.
type Ratio struct {
	Metric     string  `json:"metric"`      // e.g. "total_time", "peak_memory", "embed_time"
	Unit       string  `json:"unit"`        // "s" or "bytes"
	First      float64 `json:"first"`       // value at the first scale
	Last       float64 `json:"last"`        // value at the last scale
	Ratio      float64 `json:"ratio"`       // Last / First
	ScaleRatio float64 `json:"scale_ratio"` // conversations(last) / conversations(first)
	// Efficiency is ScaleRatio / Ratio: 1.0 is linear scaling, above 1 better
	// than linear (the metric grew more slowly than the data), below 1 worse.
	Efficiency float64 `json:"efficiency"`
	Verdict    string  `json:"verdict"` // plain words
}

// efficiency returns scaleRatio / metricRatio (1.0 = linear, >1 better than
// linear). It returns NaN when metricRatio is not positive.
func efficiency(scaleRatio, metricRatio float64) float64 {
	if !(metricRatio > 0) {
		return math.NaN()
	}
	return scaleRatio / metricRatio
}

// verdict puts an efficiency in plain words.
func verdict(eff float64) string {
	switch {
	case math.IsNaN(eff) || math.IsInf(eff, 0):
		return "not measurable (a value is zero)"
	case eff >= 1.05:
		return "better than linear (sub-linear growth): good"
	case eff >= 0.95:
		return "linear: grows in step with the data"
	case eff >= 0.75:
		return "slightly worse than linear: watch it at larger scales"
	default:
		return "worse than linear (super-linear growth): concerning"
	}
}

// newRatio compares first and last values of one metric.
func newRatio(metric, unit string, nFirst, nLast int, first, last float64) Ratio {
	r := Ratio{Metric: metric, Unit: unit, First: first, Last: last}
	r.ScaleRatio = float64(nLast) / float64(nFirst)
	if first > 0 {
		r.Ratio = last / first
	} else {
		r.Ratio = math.NaN()
	}
	r.Efficiency = efficiency(r.ScaleRatio, r.Ratio)
	r.Verdict = verdict(r.Efficiency)
	switch {
	case math.IsNaN(r.Efficiency):
	case unit == "s" && first < measure.TimeNoiseS:
		// A ratio over a first value of a few milliseconds is mostly the
		// noise of that value (the regression gate's floor).
		r.Verdict = fmt.Sprintf("too small to judge (%.3g ms at the first scale, under %.0f ms); see the fit", first*1000, measure.TimeNoiseS*1000)
	case unit == "bytes" && metric == "working_memory" && first < measure.MemoryNoiseBytes:
		r.Verdict = fmt.Sprintf("too small to judge (%s at the first scale, under %s); see the fit", human.Bytes(first), human.Bytes(measure.MemoryNoiseBytes))
	case unit == "bytes" && metric != "working_memory":
		// Total RSS includes the process's fixed baseline, which makes any
		// growth look sub-linear: the memory verdict is working memory's.
		r.Verdict = "total RSS, for information (includes the fixed baseline): the verdict is working memory's"
	}
	return r
}
