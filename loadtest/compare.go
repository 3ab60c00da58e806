package loadtest

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Change is one metric of one scale compared between two runs.
type Change struct {
	Scale  int     `json:"scale"`
	Metric string  `json:"metric"` // time, memory, throughput, cost
	Old    float64 `json:"old"`
	New    float64 `json:"new"`
	// Worse is the relative change in the bad direction: +0.25 means 25%
	// worse (slower, bigger, less throughput, dearer); negative is better.
	Worse float64 `json:"worse"`
	// Regressed is true when Worse exceeds the threshold (and the absolute
	// change is above the noise floor).
	Regressed bool `json:"regressed"`
}

// Noise floors below which a change is never a regression: timings of a few
// milliseconds and memory differences under a megabyte are measurement noise.
const (
	timeFloorS     = 0.01
	memoryFloorB   = 1 << 20
	costFloorUSD   = 1e-6
	throughputFlPM = 1.0
)

type compared struct {
	name      string
	higherBad bool
	floor     float64
	get       func(*ScaleResult) float64
}

var comparedMetrics = []compared{
	{"time", true, timeFloorS, func(s *ScaleResult) float64 { return s.TotalWallS }},
	{"memory", true, memoryFloorB, func(s *ScaleResult) float64 { return float64(s.PeakRSSBytes) }},
	{"throughput", false, throughputFlPM, func(s *ScaleResult) float64 { return s.ThroughputPerMin }},
	{"cost", true, costFloorUSD, func(s *ScaleResult) float64 { return s.API.EstimatedCostUSD }},
}

// Compare compares every scale present in both runs (matched by number of
// conversations) on time, memory, throughput and cost. threshold is a
// fraction (0.2 = 20%). It returns all changes and the regressions among
// them, and notes (scales missing from the new run, different embedders).
func Compare(old, cur *Results, threshold float64) (changes, regressions []Change, notes []string) {
	byN := map[int]*ScaleResult{}
	for i := range old.Scales {
		byN[old.Scales[i].Conversations] = &old.Scales[i]
	}
	seen := map[int]bool{}
	for i := range cur.Scales {
		n := &cur.Scales[i]
		o, ok := byN[n.Conversations]
		if !ok {
			continue
		}
		seen[n.Conversations] = true
		if o.Embedder != n.Embedder || o.Clusterer != n.Clusterer {
			notes = append(notes, fmt.Sprintf("scale %d: compared across different setups (%s, %s vs %s, %s)",
				n.Conversations, o.Embedder, o.Clusterer, n.Embedder, n.Clusterer))
		}
		for _, m := range comparedMetrics {
			ov, nv := m.get(o), m.get(n)
			c := Change{Scale: n.Conversations, Metric: m.name, Old: ov, New: nv}
			diff := nv - ov
			if !m.higherBad {
				diff = -diff
			}
			if ov > 0 {
				c.Worse = diff / ov
			}
			c.Regressed = ov > 0 && c.Worse > threshold && diff > m.floor
			changes = append(changes, c)
			if c.Regressed {
				regressions = append(regressions, c)
			}
		}
	}
	var missing []int
	for n := range byN {
		if !seen[n] {
			missing = append(missing, n)
		}
	}
	sort.Ints(missing)
	for _, n := range missing {
		notes = append(notes, fmt.Sprintf("scale %d is in the old run but not among the new run's successful scales", n))
	}
	if len(changes) == 0 {
		notes = append(notes, "no scale in common: nothing compared")
	}
	return changes, regressions, notes
}

// WriteComparison writes the comparison as a table.
func WriteComparison(w io.Writer, oldPath string, changes []Change, notes []string, threshold float64) {
	fmt.Fprintf(w, "Comparison with %s (regression threshold %.0f%%)\n", oldPath, threshold*100)
	for _, c := range changes {
		mark := ""
		if c.Regressed {
			mark = "  REGRESSION"
		}
		dir := "worse"
		v := c.Worse
		if v < 0 {
			dir, v = "better", -v
		}
		fmt.Fprintf(w, "  scale %-6d %-10s %12s -> %-12s %5.1f%% %s%s\n", c.Scale, c.Metric, fmtMetric(c.Metric, c.Old), fmtMetric(c.Metric, c.New), v*100, dir, mark)
	}
	for _, n := range notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

func fmtMetric(name string, v float64) string {
	switch name {
	case "time":
		return fmt.Sprintf("%.3f s", v)
	case "memory":
		return humanBytes(v)
	case "throughput":
		return fmt.Sprintf("%.0f/min", v)
	default:
		return "$" + fmtCost(v)
	}
}

// RegressionError names every regression.
func RegressionError(regs []Change, threshold float64) error {
	if len(regs) == 0 {
		return nil
	}
	parts := make([]string, len(regs))
	for i, r := range regs {
		parts[i] = fmt.Sprintf("%s at scale %d worse by %.1f%%", r.Metric, r.Scale, r.Worse*100)
	}
	return fmt.Errorf("performance regression over %.0f%%: %s", threshold*100, strings.Join(parts, "; "))
}
