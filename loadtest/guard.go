package loadtest

import (
	"fmt"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest/analysis"
	"github.com/kura-go/kura/loadtest/measure"
)

// maxScale is the largest scale accepted: 100 million conversations. More
// is a typo (an extra "k" or a few zeros) rather than a test, and would
// take terabytes.
const maxScale = 100_000_000

// memoryCheck says why a scale must not run, or "" when it may: the data of
// the scale alone (records × the baseline's bytes per record) or the peak
// predicted from the scales done so far exceeds the memory limit, or the
// memory available on the machine (0 = unknown).
func memoryCheck(done []measure.Scale, n int, perRecord float64, limit, available int64) string {
	data := perRecord * float64(n)
	need, how := data, fmt.Sprintf("its records alone take about %s (%s per record × %s)", human.Bytes(data), human.Bytes(perRecord), human.Thousands(n))
	if p, ok := analysis.PredictMemory(done, n); ok && p.Bytes > need {
		need, how = p.Bytes, fmt.Sprintf("predicted peak memory %s (%s)", human.Bytes(p.Bytes), p.Model)
	}
	switch {
	case limit > 0 && need > float64(limit):
		return fmt.Sprintf("%s: over --memory-limit %s", how, human.Bytes(float64(limit)))
	case available > 0 && need > float64(available):
		return fmt.Sprintf("%s: more than the %s this machine has available (MemAvailable)", how, human.Bytes(float64(available)))
	}
	return ""
}
