package analysis

import (
	"fmt"
	"math"
	"slices"

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
// (peak − baseline) in proportion to n. From three distinct scales: the
// peak in parts, baseline + vectors + the rest fitted as a power law (see
// predictParts). Otherwise (two scales, or a rest that is not positive):
// the peak-memory fit over all of them (see fit.Scaling), or its linear fit
// when that predicts more — memory for the data (vectors, records) grows
// at least linearly, and a concave power law through a large fixed cost
// would understate it. ok is false without any completed scale.
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
			Model:      fmt.Sprintf("from one scale (%s): baseline RSS %s + working memory %s per 1,000 conversations, assumed proportional", human.Thousands(d.Conversations), human.Bytes(float64(d.BaselineRSSBytes)), human.Bytes(perConv*1000)),
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
	if p, ok := predictParts(done, f, x); ok {
		return p, true
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

// vectorBytes is the memory the vectors of n conversations of dims
// dimensions take during the clustering: the load test maps them as
// float32 whatever the file's element type (float16 and float64 files are
// converted into anonymous mapped memory), and the clustering reads them
// all, so every page is resident at the stage's peak.
func vectorBytes(n, dims int) float64 { return float64(n) * float64(dims) * 4 }

// predictParts predicts the peak at x conversations in three parts, each
// at its own rate: the baseline RSS of the largest scale (the process
// before any work), the vectors (exactly n × dims × 4 bytes, see
// vectorBytes), and the rest of the working memory (the Go heap and what
// the clustering builds beside the vectors), fitted as a power law a·n^b
// over the scales of the top two octaves (at least a quarter of the
// largest; all scales when fewer than three are there).
//
// Why not one line through the peaks: part of the rest is bounded
// buffers, NN-descent rounds of ~1,000 points, joins over 2,048 samples,
// the Go runtime's heap steps (its smallest heap goal is 4 MiB), whose
// size grows with n up to a few thousand conversations and then stops. A
// line through 100..2,000 charges them to every conversation: it planned
// the approximate path's peak at 100,000 70% high. Why the top octaves:
// at 100..250 conversations the rest is 3-5 MiB, the size of those steps,
// and its growth there says nothing about growth beyond. Measured on the
// recorded runs (loadtest/testdata/planning): 10,000 exact -12..-16%,
// 10,000 approximate -5..0%, 100,000 -2..+8%; 1,000,000 (PCA path) -10%.
//
// The interval's upper end is at least the line through the peaks, so the
// --memory-limit guard, which reads it, stays where it was: the line
// over-states memory here, it does not under-state it. ok is false when
// fewer than three sizes have a positive rest (vectors not
// all resident, or an in-process run whose baseline hides the work).
func predictParts(done []measure.Scale, lin *fit.Fit, x float64) (MemoryPrediction, bool) {
	largest := done[0]
	for _, d := range done {
		if d.Conversations > largest.Conversations {
			largest = d
		}
		if d.Dims <= 0 || d.Dims != done[0].Dims {
			return MemoryPrediction{}, false
		}
	}
	// pick returns the scales of at least from conversations with a
	// positive rest, and whether they are three or more distinct sizes.
	pick := func(from int) (ns, rest []float64, enough bool) {
		var sel []measure.Scale
		for _, d := range done {
			r := float64(d.PeakRSSBytes-d.BaselineRSSBytes) - vectorBytes(d.Conversations, d.Dims)
			if d.Conversations >= from && r > 0 {
				ns, rest = append(ns, float64(d.Conversations)), append(rest, r)
				sel = append(sel, d)
			}
		}
		return ns, rest, len(distinctScales(sel)) >= 3
	}
	// Every scale with a positive rest gives the interval (below), and the
	// figure when the top octaves have fewer than three sizes.
	allNs, allRest, enough := pick(0)
	if !enough {
		return MemoryPrediction{}, false
	}
	all, err := fit.Scaling("working_memory_besides_vectors", "bytes", allNs, allRest)
	if err != nil {
		all = nil
	}
	w, ns := all, allNs
	if topNs, topRest, top := pick(largest.Conversations / 4); top {
		w, err = fit.Scaling("working_memory_besides_vectors", "bytes", topNs, topRest)
		ns = topNs
	}
	if err != nil || w.PowerA <= 0 || math.IsNaN(w.PowerB) {
		return MemoryPrediction{}, false
	}
	a, b := w.PowerA, max(w.PowerB, 0)
	base, vec := float64(largest.BaselineRSSBytes), vectorBytes(int(x), largest.Dims)
	rx := a * math.Pow(x, b)
	p := MemoryPrediction{
		Bytes:      base + vec + rx,
		Exponent:   b,
		SlopePer1K: lin.Slope * 1000,
		Model: fmt.Sprintf("baseline %s + vectors %s (n × %d dims × 4 bytes) + the rest of the working memory %s, fitted n^%.2f over %s..%s conversations",
			human.Bytes(base), human.Bytes(vec), largest.Dims, human.Bytes(rx), b, human.Thousands(int(slices.Min(ns))), human.Thousands(int(slices.Max(ns)))),
	}
	// The interval: the power law's band fitted over every scale with a
	// positive rest (the top octaves alone are three points, one degree of
	// freedom, and their band spans two orders of magnitude at 50×),
	// widened to hold the figure above and the line's.
	p.Low, p.High = p.Bytes, p.Bytes
	if all != nil {
		band := *all
		band.Model = "power"
		if lo, hi, ok := band.Interval(x, fit.IntervalLevel); ok {
			p.Low, p.High = min(p.Low, base+vec+lo), max(p.High, base+vec+hi)
		}
	}
	p.High = max(p.High, nonNeg(lin.Intercept+lin.Slope*x))
	return p, true
}
