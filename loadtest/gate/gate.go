// Package gate is the load test's regression gate: it compares a run with
// an earlier one, scale by scale, on the metrics the registry marks for
// the gate (time, memory, throughput, cost), and fails when one got worse
// by more than a threshold and more than the noise.
package gate

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kura-go/kura/internal/human"
	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/measure"
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

// costFloorUSD is the cost change below which a change is never a
// regression. Time and memory use measure's noise floors; the throughput
// floor is not a constant: it is derived from the time floor at each scale
// (see throughputFloor), because a throughput of many conversations per
// minute changes by thousands when a run of a few milliseconds changes by
// one.
const costFloorUSD = 1e-6

// throughputFloor is the throughput change that a change of measure.TimeNoiseS in
// total time makes at the old throughput oldPM (conversations per minute) of
// n conversations: oldPM - 60·n / (60·n/oldPM + measure.TimeNoiseS).
func throughputFloor(n int, oldPM float64) float64 {
	if oldPM <= 0 || n <= 0 {
		return 0
	}
	t := 60 * float64(n) / oldPM
	return oldPM - 60*float64(n)/(t+measure.TimeNoiseS)
}

func constFloor(v float64) func(int, float64) float64 { return func(int, float64) float64 { return v } }

// floors are the noise floors of the gated metrics, by gate name.
var floors = map[string]func(n int, old float64) float64{
	"time":       constFloor(measure.TimeNoiseS),
	"memory":     constFloor(measure.MemoryNoiseBytes),
	"throughput": throughputFloor,
	"cost":       constFloor(costFloorUSD),
}

// Comparison is the regression gate's verdict on a run against an earlier one.
type Comparison struct {
	Threshold   float64  // a fraction: 0.2 = 20%
	Changes     []Change // every metric of every scale in both runs
	Regressions []Change // the changes over the threshold (and the noise floor)
	// Missing lists the old run's scales that the new run did not complete:
	// the gate cannot vouch for them, so they fail it.
	Missing []int
	// NoneInCommon is true when no scale is in both runs: nothing was
	// compared, which fails the gate too.
	NoneInCommon bool
	Notes        []string // other remarks (different setups)
}

// Compare compares every scale present in both runs (matched by number of
// conversations) on time, memory, throughput and cost. threshold is a
// fraction (0.2 = 20%).
func Compare(old, cur *loadtest.Results, threshold float64) *Comparison {
	c := &Comparison{Threshold: threshold}
	byN := map[int]*measure.Scale{}
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
			c.Notes = append(c.Notes, fmt.Sprintf("scale %d: compared across different setups (%s, %s vs %s, %s)",
				n.Conversations, o.Embedder, o.Clusterer, n.Embedder, n.Clusterer))
		}
		for i := range measure.Metrics {
			m := &measure.Metrics[i]
			if m.Gate == "" {
				continue
			}
			ov, nv := m.Get(o), m.Get(n)
			ch := Change{Scale: n.Conversations, Metric: m.Gate, Old: ov, New: nv}
			diff := nv - ov
			if m.HigherIsBetter {
				diff = -diff
			}
			if ov > 0 {
				ch.Worse = diff / ov
			}
			ch.Regressed = ov > 0 && ch.Worse > threshold && diff > floors[m.Gate](n.Conversations, ov)
			c.Changes = append(c.Changes, ch)
			if ch.Regressed {
				c.Regressions = append(c.Regressions, ch)
			}
		}
	}
	for n := range byN {
		if !seen[n] {
			c.Missing = append(c.Missing, n)
		}
	}
	sort.Ints(c.Missing)
	c.NoneInCommon = len(c.Changes) == 0
	return c
}

// Failed reports whether the gate fails: a regression, a scale of the old
// run missing from the new one, or no scale in common.
func (c *Comparison) Failed() bool {
	return len(c.Regressions) > 0 || len(c.Missing) > 0 || c.NoneInCommon
}

// Err names every reason the gate failed, or returns nil when it passed.
func (c *Comparison) Err() error {
	if !c.Failed() {
		return nil
	}
	var parts []string
	for _, r := range c.Regressions {
		parts = append(parts, fmt.Sprintf("%s at scale %d worse by %.1f%%", r.Metric, r.Scale, r.Worse*100))
	}
	if c.NoneInCommon {
		parts = append(parts, "no scale in common with the earlier run: nothing compared")
	} else {
		for _, n := range c.Missing {
			parts = append(parts, fmt.Sprintf("scale %d of the earlier run did not complete in this one", n))
		}
	}
	return fmt.Errorf("regression gate (threshold %.0f%%) failed: %s", c.Threshold*100, strings.Join(parts, "; "))
}

// Write writes the comparison as a table.
func (c *Comparison) Write(w io.Writer, oldPath string) {
	fmt.Fprintf(w, "Comparison with %s (regression threshold %.0f%%)\n", oldPath, c.Threshold*100)
	for _, ch := range c.Changes {
		mark := ""
		if ch.Regressed {
			mark = "  REGRESSION"
		}
		dir := "worse"
		v := ch.Worse
		if v < 0 {
			dir, v = "better", -v
		}
		fmt.Fprintf(w, "  scale %-6d %-10s %12s -> %-12s %5.1f%% %s%s\n", ch.Scale, ch.Metric, fmtMetric(ch.Metric, ch.Old), fmtMetric(ch.Metric, ch.New), v*100, dir, mark)
	}
	for _, n := range c.Missing {
		fmt.Fprintf(w, "  MISSING scale %d: in the earlier run but not among this run's completed scales\n", n)
	}
	if c.NoneInCommon {
		fmt.Fprintln(w, "  FAILED: no scale in common: nothing compared")
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintf(w, "  (changes under %.0f ms of time, or the throughput that %.0f ms makes, or %s of memory, are noise and never fail the gate)\n",
		measure.TimeNoiseS*1000, measure.TimeNoiseS*1000, human.Bytes(measure.MemoryNoiseBytes))
}

func fmtMetric(name string, v float64) string {
	switch name {
	case "time":
		return fmt.Sprintf("%.3f s", v)
	case "memory":
		return human.Bytes(v)
	case "throughput":
		return fmt.Sprintf("%.0f/min", v)
	default:
		return "$" + human.USD(v)
	}
}
