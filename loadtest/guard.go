package loadtest

import (
	"fmt"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest/analysis"
	"github.com/kura-go/kura/loadtest/fit"
	"github.com/kura-go/kura/loadtest/measure"
)

// maxScale is the largest scale accepted: 100 million conversations. More
// is a typo (an extra "k" or a few zeros) rather than a test, and would
// take terabytes.
const maxScale = 100_000_000

// twoScaleMargin is the margin on a peak predicted from two scales, where a
// line through two points has no residual to size an interval from.
const twoScaleMargin = 1.25

// memoryCheck says why a scale must not run, or "" when it may: the data of
// the scale alone (records × the baseline's bytes per record) or the peak
// predicted from the scales done so far exceeds the memory limit, or the
// memory available on the machine (0 = unknown). The prediction is used
// from two completed scales on (one scale's working memory is mostly noise
// at small sizes, and extrapolating it skipped scales that fitted): the
// upper end of its prediction interval from three scales, the predicted
// peak plus 25% from two.
//
// anonVector is the memory each conversation's vector takes outside any
// file: a float16 or float64 file is converted to float32 in anonymous
// memory, which the kernel cannot drop as it drops the pages of a mapped
// float32 file; 0 for float32. It counts with the records.
func memoryCheck(done []measure.Scale, n int, perRecord, anonVector float64, limit, available int64) string {
	data := perRecord * float64(n)
	need, how := data, fmt.Sprintf("its records alone take about %s (%s per record × %s)", human.Bytes(data), human.Bytes(perRecord), human.Thousands(n))
	if anonVector > 0 {
		data += anonVector * float64(n)
		need, how = data, fmt.Sprintf("its records and its vectors converted to float32 take about %s ((%s + %s) × %s)", human.Bytes(data), human.Bytes(perRecord), human.Bytes(anonVector), human.Thousands(n))
	}
	for _, d := range done {
		if peak := float64(d.PeakRSSBytes); d.Conversations <= n && peak > need {
			need, how = peak, fmt.Sprintf("the peak already measured at %s conversations is %s", human.Thousands(d.Conversations), human.Bytes(peak))
		}
	}
	if p, ok := analysis.PredictMemory(done, n); ok && len(done) >= 2 {
		bound, margin := p.High, fmt.Sprintf("upper end of its %.0f%% prediction interval", fit.IntervalLevel*100)
		if bound == 0 {
			bound, margin = p.Bytes*twoScaleMargin, "plus a 25% margin (two scales)"
		}
		if bound > need {
			need, how = bound, fmt.Sprintf("predicted peak memory %s, %s %s (%s)", human.Bytes(p.Bytes), margin, human.Bytes(bound), p.Model)
		}
	}
	switch {
	case limit > 0 && need > float64(limit):
		return fmt.Sprintf("%s: over --memory-limit %s", how, human.Bytes(float64(limit)))
	case available > 0 && need > float64(available):
		return fmt.Sprintf("%s: more than the %s this machine has available (MemAvailable)", how, human.Bytes(float64(available)))
	}
	return ""
}

// recordCopies is how many times a scale writes its records, in bytes of
// the baseline's JSON records: the input summaries.jsonl, the results'
// summaries.jsonl, their Parquet copy and the clusters files (measured at
// 10,000 conversations of the built-in corpus: 1.0 + 1.0 + 0.1 + 0.1).
const recordCopies = 2.2

// diskCheck says why a scale must not run for want of disk space, or ""
// when it may: the scale writes its records and results (recordCopies ×
// perRecord each) and its vectors (dims × valueBytes each) under dir,
// whose file system has free bytes left (0 = unknown: no check). With dims
// unknown (0) only the records are counted. At 10,000 conversations of the
// built-in corpus with the hash embedder the estimate is 62.3 MB (10^6
// bytes: vectors 40,960,000 + 2.2 × the input's summaries.jsonl of
// 9,694,063), and the scale's directory held 62.4 MB (kura loadtest
// --scales 10000 --keep-artifacts DIR; du -sb DIR/scale-10000: 62,386,748
// bytes; 6 Dec 2026).
func diskCheck(n int, perRecord float64, dims, valueBytes int, dir string, free int64) string {
	if free <= 0 {
		return ""
	}
	vec := float64(n) * float64(dims) * float64(valueBytes)
	rec := recordCopies * perRecord * float64(n)
	if vec+rec <= float64(free) {
		return ""
	}
	what := fmt.Sprintf("records and results %s", human.Bytes(rec))
	if dims > 0 {
		what = fmt.Sprintf("vectors %s (%s × %d dims × %d bytes), %s", human.Bytes(vec), human.Thousands(n), dims, valueBytes, what)
	}
	return fmt.Sprintf("it writes about %s under %s (%s), and that file system has %s free", human.Bytes(vec+rec), dir, what, human.Bytes(float64(free)))
}
