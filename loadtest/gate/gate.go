// Package gate is the load test's regression gate: it compares a run with
// an earlier one, scale by scale, on the metrics the registry marks for
// the gate (time, memory, throughput, cost), and fails when one got worse
// by more than a threshold and more than the noise.
//
// The gate is noise-aware, so that an identical rerun does not fail it:
//   - Time is judged stage by stage on what the machine's load does not
//     change. A stage that kept the CPU busy (CPU time at least
//     CPUBoundShare of its wall time times the CPU share its run's local
//     stages got, in either run) is judged by its CPU time, which waiting for a busy CPU does not lengthen; a stage that
//     mostly waited (on an API: embedding requests, mock latency) is judged
//     by its wall time. Where the CPU time was not measured, wall time.
//   - The threshold for time and throughput grows by the noise expected of
//     the time judged (NoiseAt1S/√t: short runs are noisier; the median of
//     --repeat r runs less so, /√r), or by the measured spread of the
//     repeated runs (the range of the judged time over its median) when
//     larger; the threshold for memory grows by the spread of the repeated
//     runs' peak memory.
//   - Changes under the noise floors (TimeFloorS of judged time,
//     measure.MemoryNoiseBytes of memory, a millionth of a dollar) never
//     fail it: a stage of a few milliseconds changes by more than any
//     threshold from one scheduling delay.
package gate

import (
	"fmt"
	"io"
	"math"
	"slices"
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
	// Basis says what time and throughput were judged on: "cpu" (every
	// stage by its CPU time), "wall" (by wall time) or "cpu+wall" (some of
	// each); empty for memory and cost.
	Basis string `json:"basis,omitempty"`
	// Worse is the relative change in the bad direction: +0.25 means 25%
	// worse (slower, bigger, less throughput, dearer); negative is better.
	Worse float64 `json:"worse"`
	// Threshold is the threshold this change was held to: the gate's,
	// plus the noise allowed for time and throughput.
	Threshold float64 `json:"threshold"`
	// Regressed is true when Worse exceeds the threshold (and the absolute
	// change is above the noise floor).
	Regressed bool `json:"regressed"`
	// NotCompared says why the metric could not be compared (the earlier
	// run has 0, or no number, for it); empty when it was.
	NotCompared string `json:"not_compared,omitempty"`
}

// CPUBoundShare is the fraction of its run's CPU share (cpuShare) a stage
// must have used (CPU time over wall time, in either run) to be judged by
// its CPU time. On a quiet machine a stage that computes uses about a
// whole CPU and an embedding stage waiting on an API a few percent; on a
// machine with thirty busy processes on two cores every computing stage
// gets about 7% of a CPU, and a stage waiting on an API still far less.
const CPUBoundShare = 0.25

// TimeFloorS is the change of judged time, in seconds, under which a
// scale's time and throughput never fail the gate. Identical reruns of
// the small scales (tens of milliseconds) on a shared machine differ by
// this much; see docs/RELIABILITY.md.
const TimeFloorS = 0.05

// costFloorUSD is the cost change below which a change is never a
// regression.
const costFloorUSD = 1e-6

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
	// NothingCompared is true when scales are in both runs but the earlier
	// run has no usable number for any gated metric of them (all 0): it
	// fails the gate.
	NothingCompared bool
	Notes           []string // other remarks (different setups, wall time the gate did not judge)
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
	compared := 0
	for i := range cur.Scales {
		n := &cur.Scales[i]
		o, ok := byN[n.Conversations]
		if !ok {
			continue
		}
		seen[n.Conversations] = true
		if o.Embedder != n.Embedder || o.Clusterer != n.Clusterer {
			c.Notes = append(c.Notes, fmt.Sprintf("scale %s: compared across different setups (%s, %s vs %s, %s)",
				human.Thousands(n.Conversations), o.Embedder, o.Clusterer, n.Embedder, n.Clusterer))
		}
		if od, nd := o.Storage.DType(), n.Storage.DType(); od != nd {
			c.Notes = append(c.Notes, fmt.Sprintf("scale %s: vectors stored as %s before, %s now: storage and the memory of the stages that read them differ by design",
				human.Thousands(n.Conversations), od, nd))
		}
		for _, ch := range c.compareScale(o, n) {
			if ch.NotCompared == "" {
				compared++
			}
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
	c.NothingCompared = !c.NoneInCommon && compared == 0
	return c
}

// compareScale compares one scale present in both runs.
func (c *Comparison) compareScale(o, n *measure.Scale) []Change {
	scale := n.Conversations
	// Time: judged stage by stage; the threshold grows by the noise.
	ot, nt, basis := judgedTime(o, n)
	repeats := max(min(len(o.RepeatWallS), len(n.RepeatWallS)), 1)
	timeThr := c.Threshold + noise(ot, repeats, judgedSpread(o, n, o), judgedSpread(o, n, n))
	tc := change(scale, "time", ot, nt, false, timeThr)
	tc.Basis = basis
	if tc.NotCompared == "" {
		tc.Regressed = tc.Worse > timeThr && nt-ot > TimeFloorS
		// Say so when the wall time alone would have failed the gate.
		if basis != "wall" && o.TotalWallS > 0 && !tc.Regressed {
			if w := (n.TotalWallS - o.TotalWallS) / o.TotalWallS; w > timeThr && n.TotalWallS-o.TotalWallS > TimeFloorS && tc.Worse <= timeThr {
				c.Notes = append(c.Notes, fmt.Sprintf("scale %s: wall time %.1f%% worse (%.3f s -> %.3f s) but the CPU time of its CPU-bound stages %s: a busier machine, not gated",
					human.Thousands(scale), w*100, o.TotalWallS, n.TotalWallS, pct(tc.Worse)))
			}
		}
	}
	// Throughput is conversations per minute of the same judged time: it
	// regresses exactly when time does.
	tp := change(scale, "throughput", perMin(scale, ot), perMin(scale, nt), true, timeThr)
	tp.Basis = basis
	if tp.NotCompared == "" {
		tp.Regressed = tc.Regressed
	}
	memThr := c.Threshold + max(peakSpread(o), peakSpread(n))
	mem := change(scale, "memory", float64(o.PeakRSSBytes), float64(n.PeakRSSBytes), false, memThr)
	if mem.NotCompared == "" {
		mem.Regressed = mem.Worse > memThr && mem.New-mem.Old > measure.MemoryNoiseBytes
	}
	cost := change(scale, "cost", o.API.EstimatedCostUSD, n.API.EstimatedCostUSD, false, c.Threshold)
	if cost.NotCompared == "" {
		cost.Regressed = cost.Worse > c.Threshold && cost.New-cost.Old > costFloorUSD
	}
	return []Change{tc, mem, tp, cost}
}

// change returns the change of a metric from ov to nv, not yet judged;
// NotCompared is set when ov is not a positive number (0 to 0 is no
// change).
func change(scale int, metric string, ov, nv float64, higherIsBetter bool, threshold float64) Change {
	ch := Change{Scale: scale, Metric: metric, Old: ov, New: nv, Threshold: threshold}
	switch {
	case ov == 0 && nv == 0:
		return ch
	case !(ov > 0) || math.IsInf(ov, 0):
		ch.NotCompared = fmt.Sprintf("baseline has %v for %s: not compared", ov, metric)
		return ch
	}
	diff := nv - ov
	if higherIsBetter {
		diff = -diff
	}
	ch.Worse = diff / ov
	return ch
}

// judgedTime returns the old and new time of a scale as the gate judges
// it: the sum over stages of each stage's CPU time when the stage was
// CPU-bound in either run (and CPU time was measured in both), else its
// wall time; a stage in one run only counts its wall time there. basis
// says which: "cpu", "wall" or "cpu+wall". Scales without stages (hand-made
// results) are judged by their total wall time.
func judgedTime(o, n *measure.Scale) (ot, nt float64, basis string) {
	if len(o.Stages) == 0 || len(n.Stages) == 0 {
		return o.TotalWallS, n.TotalWallS, "wall"
	}
	names := o.Stages.Names()
	for _, name := range n.Stages.Names() {
		if _, ok := o.Stages.Lookup(name); !ok {
			names = append(names, name)
		}
	}
	var cpu, wall bool
	for _, name := range names {
		so, _ := o.Stages.Lookup(name)
		sn, _ := n.Stages.Lookup(name)
		if cpuBound(o, n, name) {
			ot, nt, cpu = ot+so.CPUS, nt+sn.CPUS, true
		} else {
			ot, nt, wall = ot+so.WallS, nt+sn.WallS, true
		}
	}
	switch {
	case cpu && wall:
		return ot, nt, "cpu+wall"
	case cpu:
		return ot, nt, "cpu"
	}
	return ot, nt, "wall"
}

// NoiseAt1S is the relative noise the gate allows a judged time of one
// second measured once: a time of t seconds, the median of r runs, is
// allowed NoiseAt1S/√(t·r) on top of the threshold (20% at 1 s, 6% at
// 10 s, 2% at 100 s; 12% for the median of three 1-second runs). Short
// runs are noisier: identical reruns on the shared 2-core machine (load
// 19) differed by up to 35% at 0.2 s and 15% at 1 s of CPU time, within
// 0.15/√t (see docs/RELIABILITY.md).
const NoiseAt1S = 0.2

// noise is what the threshold for time and throughput grows by: the
// larger of the noise expected of a judged time of t seconds, the median
// of r runs (NoiseAt1S/√(t·r)), and the spreads measured over the runs.
func noise(t float64, r int, spreads ...float64) float64 {
	expected := 0.0
	if t > 0 {
		expected = NoiseAt1S / math.Sqrt(t*float64(max(r, 1)))
	}
	return max(expected, slices.Max(append(spreads, 0)))
}

// cpuBound reports whether the gate judges the named stage by its CPU
// time: it ran in both runs, with CPU time measured in both, and in either
// run used the CPU for at least CPUBoundShare of the share its run's local
// stages got (see cpuShare).
func cpuBound(o, n *measure.Scale, name string) bool {
	so, oOK := o.Stages.Lookup(name)
	sn, nOK := n.Stages.Lookup(name)
	return oOK && nOK && so.CPUS > 0 && sn.CPUS > 0 &&
		(so.CPUS >= CPUBoundShare*cpuShare(o)*so.WallS || sn.CPUS >= CPUBoundShare*cpuShare(n)*sn.WallS)
}

// cpuShare is the share of a CPU a run's process got while it only
// computed: the highest CPU time / wall time of its local stages (load,
// reduce, cluster, write: no API calls), at most 1; 1 when none was
// measured. On a quiet machine it is 1; with ten busy processes per core,
// about 0.1, and a stage waiting on an API uses far less than that.
func cpuShare(s *measure.Scale) float64 {
	share := 0.0
	for _, st := range s.Stages {
		switch st.Name {
		case measure.Load, measure.Reduce, measure.Cluster, measure.Write:
			if st.WallS > 0 {
				share = max(share, st.CPUS/st.WallS)
			}
		}
	}
	if share <= 0 {
		return 1
	}
	return min(share, 1)
}

// judgedSpread is the relative spread over the --repeat runs of run s
// (o or n) of the time the gate judges: the sum over stages of the range
// (max - min) of what judges each (CPU or wall time), over the judged
// median. Without a spread for every stage, the spread of the runs' total
// wall times; 0 for a single run.
func judgedSpread(o, n, s *measure.Scale) float64 {
	if len(s.RepeatWallS) < 2 {
		return 0
	}
	var width, med float64
	for _, st := range s.Stages {
		if st.Spread == nil {
			return spread(s.RepeatWallS)
		}
		if len(o.Stages) > 0 && len(n.Stages) > 0 && cpuBound(o, n, st.Name) {
			width, med = width+st.Spread.CPUMaxS-st.Spread.CPUMinS, med+st.CPUS
		} else {
			width, med = width+st.Spread.WallMaxS-st.Spread.WallMinS, med+st.WallS
		}
	}
	if len(s.Stages) == 0 || !(med > 0) {
		return spread(s.RepeatWallS)
	}
	return width / med
}

// peakSpread is the relative spread of a run's peak memory over its
// --repeat runs; 0 for a single run.
func peakSpread(s *measure.Scale) float64 {
	v := make([]float64, len(s.RepeatPeakRSSBytes))
	for i, b := range s.RepeatPeakRSSBytes {
		v[i] = float64(b)
	}
	return spread(v)
}

// spread is the relative spread of repeated runs' times, (max-min)/median;
// 0 with fewer than two runs.
func spread(walls []float64) float64 {
	if len(walls) < 2 {
		return 0
	}
	v := append([]float64(nil), walls...)
	sort.Float64s(v)
	med := v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	if !(med > 0) {
		return 0
	}
	return (v[len(v)-1] - v[0]) / med
}

func perMin(n int, s float64) float64 {
	if s <= 0 {
		return 0
	}
	return float64(n) / s * 60
}

func pct(v float64) string {
	r := math.Round(v*1000) / 10
	if r < 0 {
		return fmt.Sprintf("%.1f%% better", -r)
	}
	return fmt.Sprintf("%.1f%% worse", math.Abs(r)) // not "-0.0% worse"
}

// Failed reports whether the gate fails: a regression, a scale of the old
// run missing from the new one, no scale in common, or nothing comparable.
func (c *Comparison) Failed() bool {
	return len(c.Regressions) > 0 || len(c.Missing) > 0 || c.NoneInCommon || c.NothingCompared
}

// Err names every reason the gate failed, or returns nil when it passed.
func (c *Comparison) Err() error {
	if !c.Failed() {
		return nil
	}
	var parts []string
	for _, r := range c.Regressions {
		parts = append(parts, fmt.Sprintf("%s at scale %s worse by %.1f%%", r.Metric, human.Thousands(r.Scale), r.Worse*100))
	}
	if c.NoneInCommon {
		parts = append(parts, "no scale in common with the earlier run: nothing compared")
	} else {
		for _, n := range c.Missing {
			parts = append(parts, fmt.Sprintf("scale %s of the earlier run did not complete in this one", human.Thousands(n)))
		}
	}
	if c.NothingCompared {
		parts = append(parts, "the earlier run has 0 for every gated metric of the scales in common: nothing compared")
	}
	return fmt.Errorf("regression gate (threshold %.0f%%) failed: %s", c.Threshold*100, strings.Join(parts, "; "))
}

// Write writes the comparison as a table.
func (c *Comparison) Write(w io.Writer, oldPath string) {
	fmt.Fprintf(w, "Comparison with %s (regression threshold %.0f%%)\n", oldPath, c.Threshold*100)
	// Scales are written as the sentences write them (1,000), padded to
	// the widest so that the columns line up.
	sw := 0
	for _, ch := range c.Changes {
		sw = max(sw, len(human.Thousands(ch.Scale)))
	}
	for _, ch := range c.Changes {
		scale := human.Thousands(ch.Scale)
		name := ch.Metric
		if ch.Basis != "" {
			name += " (" + ch.Basis + ")"
		}
		if ch.NotCompared != "" {
			fmt.Fprintf(w, "  scale %-*s %-20s %12s -> %-12s NOT COMPARED: %s\n", sw, scale, name, fmtMetric(ch.Metric, ch.Old), fmtMetric(ch.Metric, ch.New), ch.NotCompared)
			continue
		}
		mark := ""
		if ch.Regressed {
			mark = "  REGRESSION"
		}
		if ch.Threshold > c.Threshold+1e-9 {
			mark += fmt.Sprintf("  (threshold %.0f%% with the noise)", ch.Threshold*100)
		}
		fmt.Fprintf(w, "  scale %-*s %-20s %12s -> %-12s %s%s\n", sw, scale, name, fmtMetric(ch.Metric, ch.Old), fmtMetric(ch.Metric, ch.New), pct(ch.Worse), mark)
	}
	for _, n := range c.Missing {
		fmt.Fprintf(w, "  MISSING scale %s: in the earlier run, not completed in this one\n", human.Thousands(n))
	}
	if c.NoneInCommon {
		fmt.Fprintln(w, "  FAILED: no scale in common: nothing compared")
	}
	if c.NothingCompared {
		fmt.Fprintln(w, "  FAILED: the earlier run has 0 for every gated metric: nothing compared")
	}
	for _, n := range c.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
	fmt.Fprintf(w, "  (time: CPU time of stages that kept the CPU busy, wall time of those that\n"+
		"   waited; its threshold grows by %.0f%%/√(seconds × repeats) or the repeats'\n"+
		"   spread; changes under %.0f ms of that time, %s of memory or $%s\n"+
		"   are noise and never fail the gate)\n",
		NoiseAt1S*100, TimeFloorS*1000, human.Bytes(measure.MemoryNoiseBytes), human.USD(costFloorUSD))
}

func fmtMetric(name string, v float64) string {
	switch name {
	case "time":
		return fmt.Sprintf("%.3f s", v)
	case "memory":
		return human.Bytes(v)
	case "throughput":
		return human.Thousands(int(math.Round(v))) + "/min"
	default:
		return "$" + human.USD(v)
	}
}

// Check returns an error naming the scale and field of the first number in
// an earlier run's results that no measurement can have (negative or not
// finite), so that a malformed --compare file is refused before the run
// rather than compared.
func Check(r *loadtest.Results) error {
	for i := range r.Scales {
		s := &r.Scales[i]
		if s.Conversations <= 0 {
			return fmt.Errorf("scales[%d]: conversations is %d: want a positive number", i, s.Conversations)
		}
		for j := range measure.Metrics {
			m := &measure.Metrics[j]
			if m.JSON == "" || m.Unit == "score" {
				continue
			}
			if v, ok := m.Value(s); ok && (v < 0 || math.IsNaN(v) || math.IsInf(v, 0)) {
				return fmt.Errorf("scales[%d] (scale %s): %s is %v: want a number >= 0", i, human.Thousands(s.Conversations), m.JSON, v)
			}
		}
		for k, v := range s.RepeatWallS {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("scales[%d] (scale %s): repeat_wall_s[%d] is %v: want a number >= 0", i, human.Thousands(s.Conversations), k, v)
			}
		}
		for k, v := range s.RepeatPeakRSSBytes {
			if v < 0 {
				return fmt.Errorf("scales[%d] (scale %s): repeat_peak_rss_bytes[%d] is %v: want a number >= 0", i, human.Thousands(s.Conversations), k, v)
			}
		}
	}
	return nil
}
