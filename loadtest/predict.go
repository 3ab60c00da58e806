package loadtest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MaxScale is the largest scale accepted: 100 million conversations. More
// is a typo (an extra "k" or a few zeros) rather than a test, and would
// take terabytes.
const MaxScale = 100_000_000

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
}

// PredictMemory predicts the peak memory at n conversations from the
// completed scales. From one scale: its baseline RSS plus its working memory
// (peak − baseline) in proportion to n. From two or more: the peak-memory
// fit over all of them (see FitScaling), or its linear fit when that
// predicts more — memory for the data (vectors, records) grows at least
// linearly, and a concave power law through a large fixed cost would
// understate it. ok is false without any completed scale.
func PredictMemory(done []ScaleResult, n int) (p MemoryPrediction, ok bool) {
	switch len(done) {
	case 0:
		return p, false
	case 1:
		d := done[0]
		w := float64(d.PeakRSSBytes - d.BaselineRSSBytes)
		perConv := w / float64(d.Conversations)
		return MemoryPrediction{
			Bytes:      float64(d.BaselineRSSBytes) + perConv*float64(n),
			Model:      fmt.Sprintf("from one scale (%d): baseline RSS %s + working memory %s per 1,000 conversations, assumed proportional", d.Conversations, humanBytes(float64(d.BaselineRSSBytes)), humanBytes(perConv*1000)),
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
			Model: fmt.Sprintf("linear through the two scales: %s + %s per 1,000 conversations", humanBytes(f.Intercept), humanBytes(f.Slope*1000))}, true
	}
	p = MemoryPrediction{Bytes: nonNeg(f.Predict(x)), Model: f.Describe(), Exponent: f.Exponent, SlopePer1K: f.Slope * 1000}
	lin := nonNeg(f.Intercept + f.Slope*x)
	if f.Model != "linear" && lin > p.Bytes {
		p.Model = fmt.Sprintf("linear fit %s + %s per 1,000 conversations (R²=%.3f), used because it predicts more than the best-fitting %s (%s at this size): memory for the data grows at least linearly",
			humanBytes(f.Intercept), humanBytes(f.Slope*1000), f.LinearR2, modelWords(f), humanBytes(p.Bytes))
		p.Bytes, p.Exponent = lin, 1
	} else if f.Model == "linear" {
		p.Model = fmt.Sprintf("linear fit %s + %s per 1,000 conversations (R²=%.3f; power law n^%.2f R²=%.3f)",
			humanBytes(f.Intercept), humanBytes(f.Slope*1000), f.LinearR2, f.PowerB, f.PowerR2)
	}
	return p, true
}

// modelWords names a fit's chosen model with its exponent.
func modelWords(f *Fit) string {
	switch f.Model {
	case "offset_power":
		return fmt.Sprintf("fixed cost plus power law n^%.2f", f.OffsetE)
	case "linear":
		return "linear fit"
	}
	return fmt.Sprintf("power law n^%.2f", f.PowerB)
}

// recordBytes is the mean size of the baseline's records encoded as JSON:
// what one conversation of the scaled data takes at least, in memory as on
// disk (Go structs with their strings take more).
func recordBytes(b *Baseline) float64 {
	n := b.Len()
	if n == 0 {
		return 0
	}
	var total int
	for i := 0; i < n; i++ {
		var v any
		if b.Kind == KindConversations {
			v = &b.Conversations[i]
		} else {
			v = &b.Summaries[i]
		}
		if j, err := json.Marshal(v); err == nil {
			total += len(j)
		}
	}
	return float64(total) / float64(n)
}

// memoryCheck says why a scale must not run, or "" when it may: the data of
// the scale alone (records × the baseline's bytes per record) or the peak
// predicted from the scales done so far exceeds the memory limit, or the
// memory available on the machine (0 = unknown).
func memoryCheck(done []ScaleResult, n int, perRecord float64, limit, available int64) string {
	data := perRecord * float64(n)
	need, how := data, fmt.Sprintf("its records alone take about %s (%s per record × %s)", humanBytes(data), humanBytes(perRecord), thousands(n))
	if p, ok := PredictMemory(done, n); ok && p.Bytes > need {
		need, how = p.Bytes, fmt.Sprintf("predicted peak memory %s (%s)", humanBytes(p.Bytes), p.Model)
	}
	switch {
	case limit > 0 && need > float64(limit):
		return fmt.Sprintf("%s: over --memory-limit %s", how, humanBytes(float64(limit)))
	case available > 0 && need > float64(available):
		return fmt.Sprintf("%s: more than the %s this machine has available (MemAvailable)", how, humanBytes(float64(available)))
	}
	return ""
}

// MemAvailable returns the memory available for new work on this machine
// (MemAvailable of /proc/meminfo), or 0 when unknown (not Linux).
func MemAvailable() int64 {
	f := strings.Fields(procField("/proc/meminfo", "MemAvailable"))
	if len(f) == 0 {
		return 0
	}
	kb, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0
	}
	return kb * 1024
}
