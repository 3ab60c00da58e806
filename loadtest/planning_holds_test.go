package loadtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/kura-go/kura/loadtest/analysis"
)

// Tolerances of issue 10's planning target: the total time planned from
// the default scales (100..2,000) within ±30% of a run at the volume
// itself, the peak memory within ±20%.
const (
	planTimeTolerance   = 0.30
	planMemoryTolerance = 0.20
)

// TestPlanningHoldsOnRecordedRuns replans recorded default runs (their
// scales, as the results files hold them) and checks each plan against the
// median of three runs of the volume itself, recorded with the same build
// one after the other (testdata/planning/README.md gives the commands and
// the machine). A model change that breaks the planning on real data fails
// here. Every default run must hold on its own: the target is what a user
// gets from one `kura loadtest`, not from the best of three.
func TestPlanningHoldsOnRecordedRuns(t *testing.T) {
	tests := []struct {
		name, plan, measured string
		target               int
	}{
		{"10,000 exact", "default_exact", "measured_10000_exact", 10000},
		{"10,000 approximate", "default_plan_for_100000", "measured_10000_approximate", 10000},
		{"100,000 approximate", "default_plan_for_100000", "measured_100000", 100000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var walls, peaks []float64
			for i := 1; i <= 3; i++ {
				meas := readRecorded(t, fmt.Sprintf("%s_%d", tc.measured, i))
				if len(meas.Scales) != 1 || meas.Scales[0].Conversations != tc.target {
					t.Fatalf("%s_%d: want one scale of %d", tc.measured, i, tc.target)
				}
				walls = append(walls, meas.Scales[0].TotalWallS)
				peaks = append(peaks, float64(meas.Scales[0].PeakRSSBytes))
			}
			wall, peak := median(walls), median(peaks)
			for i := 1; i <= 3; i++ {
				plan := readRecorded(t, fmt.Sprintf("%s_%d", tc.plan, i))
				g := plan.Config.goal()
				g.Conversations = tc.target
				p := analysis.Plan(plan.Scales, analysis.Analyze(plan.Scales), g)
				if p == nil {
					t.Fatal("no plan")
				}
				dt := p.TimeForTargetS/wall - 1
				dm := p.RAMBytes/peak - 1
				t.Logf("%s_%d: time planned %.2f s [%.2f, %.2f], measured %.2f s (median of %.2f-%.2f): %+.0f%%; peak planned %.0f MiB, measured %.0f MiB: %+.0f%%",
					tc.plan, i, p.TimeForTargetS, p.TimeForTargetLowS, p.TimeForTargetHighS, wall, minOf(walls), maxOf(walls), 100*dt,
					p.RAMBytes/(1<<20), peak/(1<<20), 100*dm)
				if dt < -planTimeTolerance || dt > planTimeTolerance {
					t.Errorf("%s_%d: time planned %.2f s, measured %.2f s: %+.0f%%, outside ±%.0f%% (%s)", tc.plan, i, p.TimeForTargetS, wall, 100*dt, 100*planTimeTolerance, p.TimeModel)
				}
				if dm < -planMemoryTolerance || dm > planMemoryTolerance {
					t.Errorf("%s_%d: peak memory planned %.0f MiB, measured %.0f MiB: %+.0f%%, outside [%+.0f%%, %+.0f%%] (%s)", tc.plan, i, p.RAMBytes/(1<<20), peak/(1<<20), 100*dm, 100*-planMemoryTolerance, 100*planMemoryTolerance, p.MemoryModel)
				}
			}
		})
	}
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func minOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = min(m, x)
	}
	return m
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

func readRecorded(t *testing.T, name string) *Results {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "planning", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &r
}

// TestPlanningHoldsOnOtherRuns replans single default runs of other
// configurations against one run of the volume each, recorded one after the
// other on 6 Dec 2026 (02:13-02:20 UTC) with one build (d840273) while other
// agents used the machine (load average 4-5 on 2 cores; see
// testdata/planning/README.md): the mock embedder (1,536 dimensions),
// float16 files, K-means with k = 100, the MT-Bench checkpoint as baseline
// and PCA to 32 dimensions. Every plan's peak memory must hold within ±20%.
// Time is checked only where the machine let the runs compute
// (timeChecked): on the others the measured wall time is the busy
// machine's. The PCA default run is the one whose cluster stage got half a
// core at 2,000 conversations; its time was once planned at 6.3 hours, and
// now must hold within ±30% of the 27 s measured.
func TestPlanningHoldsOnOtherRuns(t *testing.T) {
	tests := []struct {
		name        string
		timeChecked bool
	}{
		{"mock", false},
		{"f16", false},
		{"km", false},
		{"mt", false},
		{"pca", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan := readRecorded(t, "other_"+tc.name+"_plan_for_100000")
			meas := readRecorded(t, "other_"+tc.name+"_100000")
			if len(meas.Scales) != 1 {
				t.Fatalf("want one measured scale, got %d", len(meas.Scales))
			}
			g := plan.Config.goal()
			g.Conversations = meas.Scales[0].Conversations
			p := analysis.Plan(plan.Scales, analysis.Analyze(plan.Scales), g)
			if p == nil {
				t.Fatal("no plan")
			}
			wall, peak := meas.Scales[0].TotalWallS, float64(meas.Scales[0].PeakRSSBytes)
			dt, dm := p.TimeForTargetS/wall-1, p.RAMBytes/peak-1
			t.Logf("%s: time planned %.1f s, measured %.1f s: %+.0f%%; peak planned %.0f MiB, measured %.0f MiB: %+.0f%%",
				tc.name, p.TimeForTargetS, wall, 100*dt, p.RAMBytes/(1<<20), peak/(1<<20), 100*dm)
			if dm < -planMemoryTolerance || dm > planMemoryTolerance {
				t.Errorf("peak memory planned %.0f MiB, measured %.0f MiB: %+.0f%%, outside ±%.0f%% (%s)", p.RAMBytes/(1<<20), peak/(1<<20), 100*dm, 100*planMemoryTolerance, p.MemoryModel)
			}
			if tc.timeChecked && (dt < -planTimeTolerance || dt > planTimeTolerance) {
				t.Errorf("time planned %.1f s, measured %.1f s: %+.0f%%, outside ±%.0f%% (%s)", p.TimeForTargetS, wall, 100*dt, 100*planTimeTolerance, p.TimeModel)
			}
		})
	}
}
