package analysis

import (
	"fmt"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest/fit"
	"github.com/kura-go/kura/loadtest/measure"
)

// MemoryPrediction is the peak memory predicted for a number of
// conversations, and how it was predicted. The --memory-limit guard and the
// RAM of the production planning both come from PredictMemory.
type MemoryPrediction struct {
	Bytes float64
	// Model says in words which model gave Bytes.
	Model string
	// Exponent is the growth exponent of that model: the fitted b of a
	// power law, e of an offset power law, 1 for a line (by its form).
	Exponent float64
	// SlopePer1K is the extra memory of 1,000 more conversations according
	// to the linear fit (bytes; for one scale, its working memory per
	// conversation × 1,000).
	SlopePer1K float64
	// Low and High bound Bytes at fit.IntervalLevel (the model's
	// prediction interval); both 0 when it cannot be computed (fewer than
	// three scales).
	Low, High float64
}

// PredictMemory predicts the peak memory at n conversations from the
// completed scales. From one scale: its baseline RSS plus its working memory
// (peak − baseline) in proportion to n. From two or more: the peak-memory
// fit over all of them (see fit.Scaling), or its linear fit when that
// predicts more — memory for the data (vectors, records) grows at least
// linearly, and a concave power law through a large fixed cost would
// understate it. ok is false without any completed scale.
//
// The prediction is never below the largest peak measured at a scale no
// larger than n: memory does not shrink with more data, and a line through
// two noisy scales can slope down.
func PredictMemory(done []measure.Scale, n int) (p MemoryPrediction, ok bool) {
	p, ok = predictMemory(done, n)
	if !ok {
		return p, false
	}
	var floor float64
	var at int
	for _, d := range done {
		if d.Conversations <= n && float64(d.PeakRSSBytes) > floor {
			floor, at = float64(d.PeakRSSBytes), d.Conversations
		}
	}
	if p.Bytes < floor {
		p.Model += fmt.Sprintf("; raised to the peak measured at %s conversations (%s): memory does not shrink with more data", human.Thousands(at), human.Bytes(floor))
		p.Bytes = floor
		if p.High > 0 {
			p.Low, p.High = max(p.Low, floor), max(p.High, floor)
		}
	}
	return p, true
}

func predictMemory(done []measure.Scale, n int) (p MemoryPrediction, ok bool) {
	switch len(done) {
	case 0:
		return p, false
	case 1:
		d := done[0]
		w := float64(d.PeakRSSBytes - d.BaselineRSSBytes)
		perConv := w / float64(d.Conversations)
		return MemoryPrediction{
			Bytes:      float64(d.BaselineRSSBytes) + perConv*float64(n),
			Model:      fmt.Sprintf("from one scale (%d): baseline RSS %s + working memory %s per 1,000 conversations, assumed proportional", d.Conversations, human.Bytes(float64(d.BaselineRSSBytes)), human.Bytes(perConv*1000)),
			Exponent:   1,
			SlopePer1K: perConv * 1000,
		}, true
	}
	f := Analyze(done).Fit("peak_memory")
	if f == nil {
		return p, false
	}
	x := float64(n)
	if len(distinctScales(done)) < 3 {
		// Any curve passes through two points: the line is the only
		// honest reading of them.
		return MemoryPrediction{Bytes: nonNeg(f.Intercept + f.Slope*x), Exponent: 1, SlopePer1K: f.Slope * 1000,
			Model: fmt.Sprintf("linear through the two scales: %s + %s per 1,000 conversations", human.Bytes(f.Intercept), human.Bytes(f.Slope*1000))}, true
	}
	p = MemoryPrediction{Bytes: nonNeg(f.Predict(x)), Model: f.Describe(), Exponent: f.Exponent, SlopePer1K: f.Slope * 1000}
	if lo, hi, ok := f.Interval(x, fit.IntervalLevel); ok {
		p.Low, p.High = lo, hi
	}
	lin := nonNeg(f.Intercept + f.Slope*x)
	if f.Model != "linear" && lin > p.Bytes {
		g := *f
		g.Model = "linear"
		p.Low, p.High = 0, 0
		if lo, hi, ok := g.Interval(x, fit.IntervalLevel); ok {
			p.Low, p.High = lo, hi
		}
		p.Model = fmt.Sprintf("linear fit %s + %s per 1,000 conversations (R²=%.3f), used because it predicts more than the best-fitting %s (%s at this size): memory for the data grows at least linearly",
			human.Bytes(f.Intercept), human.Bytes(f.Slope*1000), f.LinearR2, modelWords(f), human.Bytes(p.Bytes))
		p.Bytes, p.Exponent = lin, 1
	} else if f.Model == "linear" {
		p.Model = fmt.Sprintf("linear fit %s + %s per 1,000 conversations (R²=%.3f; power law n^%.2f R²=%.3f)",
			human.Bytes(f.Intercept), human.Bytes(f.Slope*1000), f.LinearR2, f.PowerB, f.PowerR2)
	}
	return p, true
}

// modelWords names a fit's chosen model with its exponent.
func modelWords(f *fit.Fit) string {
	switch f.Model {
	case "offset_power":
		return fmt.Sprintf("fixed cost plus power law n^%.2f", f.OffsetE)
	case "linear":
		return "linear fit"
	}
	return fmt.Sprintf("power law n^%.2f", f.PowerB)
}
