package gate

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/kura-go/kura/loadtest"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/loadtest/measure/measuretest"
)

func TestCompare(t *testing.T) {
	two := func(t100, t1000 float64, m1000 int64, cost100 float64) *loadtest.Results {
		return &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, t100, 30<<20, 10<<20, cost100), measuretest.Scale(1000, t1000, m1000, 10<<20, 0.01)}}
	}
	old := two(1.0, 10, 60<<20, 0.001)
	tests := []struct {
		name        string
		old, cur    *loadtest.Results
		wantRegs    []string // "metric@scale"
		wantMissing []int
		wantNone    bool
		wantErr     []string
	}{
		{name: "against itself", old: old, cur: old},
		// At 1000: time +30%, throughput -23% and memory +33% exceed 20%;
		// at 100: time +10% does not.
		{name: "regressions", old: old, cur: two(1.1, 13, 80<<20, 0.001),
			wantRegs: []string{"time@1000", "memory@1000", "throughput@1000"},
			wantErr:  []string{"time at scale 1,000 worse by 30.0%", "memory at scale 1,000 worse by 33.3%"}},
		{name: "cost, and a scale missing from the new run", old: old,
			cur:      &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 1.0, 30<<20, 10<<20, 0.002)}},
			wantRegs: []string{"cost@100"}, wantMissing: []int{1000},
			wantErr: []string{"cost at scale 100 worse by 100.0%", "scale 1,000 of the earlier run did not complete"}},
		{name: "a missing scale alone fails", old: old,
			cur:         &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 1.0, 30<<20, 10<<20, 0.001)}},
			wantMissing: []int{1000}, wantErr: []string{"scale 1,000 of the earlier run"}},
		{name: "no scale in common", old: old,
			cur:         &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(200, 1.0, 30<<20, 10<<20, 0.001)}},
			wantMissing: []int{100, 1000}, wantNone: true, wantErr: []string{"no scale in common"}},
		// Below the noise floors: 2 ms -> 4 ms is +100% in time and -50% in
		// throughput; 12 ms -> 20 ms at 100 conversations is -40% in
		// throughput, but only 8 ms: noise, for both metrics.
		{name: "milliseconds are noise", old: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.002, 30<<20, 10<<20, 0.001)}},
			cur: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.004, 30<<20, 10<<20, 0.001)}}},
		{name: "12 ms to 20 ms is noise", old: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.012, 30<<20, 10<<20, 0.001)}},
			cur: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.020, 30<<20, 10<<20, 0.001)}}},
		// The floor is 50 ms: 12 ms to 40 ms (+233%) is noise, to 72 ms not.
		{name: "12 ms to 40 ms is noise", old: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.012, 30<<20, 10<<20, 0.001)}},
			cur: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.040, 30<<20, 10<<20, 0.001)}}},
		{name: "12 ms to 72 ms is not", old: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.012, 30<<20, 10<<20, 0.001)}},
			cur:      &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.072, 30<<20, 10<<20, 0.001)}},
			wantRegs: []string{"time@100", "throughput@100"}, wantErr: []string{"time at scale 100 worse by 500.0%"}},
		{name: "half a MiB more memory is noise", old: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 1, 1<<20, 0, 0.001)}},
			cur: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 1, 3<<19, 0, 0.001)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(tt.old, tt.cur, 0.2)
			var regs []string
			for _, r := range c.Regressions {
				regs = append(regs, fmt.Sprintf("%s@%d", r.Metric, r.Scale))
			}
			if !reflect.DeepEqual(regs, tt.wantRegs) || !reflect.DeepEqual(c.Missing, tt.wantMissing) || c.NoneInCommon != tt.wantNone {
				t.Errorf("regressions %v missing %v none %v; want %v %v %v", regs, c.Missing, c.NoneInCommon, tt.wantRegs, tt.wantMissing, tt.wantNone)
			}
			err := c.Err()
			if (err != nil) != (len(tt.wantErr) > 0) || c.Failed() != (err != nil) {
				t.Fatalf("error %v, failed %v", err, c.Failed())
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %v lacks %q", err, w)
				}
			}
			var out bytes.Buffer
			c.Write(&out, "old.json")
			if len(tt.wantMissing) > 0 && !strings.Contains(out.String(), "MISSING scale") {
				t.Errorf("table does not show the missing scales:\n%s", out.String())
			}
		})
	}
}

// staged is a scale of 1,000 conversations with an embed and a cluster
// stage of the given wall and CPU times, and 100 MiB of memory.
func staged(embedWall, embedCPU, clusterWall, clusterCPU float64, repeats ...float64) measure.Scale {
	s := measure.Scale{Scale: 1000, Conversations: 1000, Embedder: "hash", Clusterer: "hdbscan",
		Stages: measure.Stages{{Name: measure.Embed, WallS: embedWall, CPUS: embedCPU, PeakRSSBytes: 100 << 20},
			{Name: measure.Cluster, WallS: clusterWall, CPUS: clusterCPU, PeakRSSBytes: 100 << 20}},
		API: measure.APIUsage{EstimatedCostUSD: 0.01}, RepeatWallS: repeats}
	s.SumStages()
	return s
}

func TestNoise(t *testing.T) {
	for _, tt := range []struct {
		t       float64
		r       int
		spreads []float64
		want    float64
	}{
		{1, 1, nil, 0.2},
		{100, 1, nil, 0.02},
		{0.25, 1, nil, 0.4},
		{1, 4, nil, 0.1},                 // median of 4: /2
		{100, 3, []float64{0.3, 0}, 0.3}, // the spread is larger
		{0, 1, nil, 0},
	} {
		if got := noise(tt.t, tt.r, tt.spreads...); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("noise(%v, %v, %v) = %v, want %v", tt.t, tt.r, tt.spreads, got, tt.want)
		}
	}
}

// TestJudgedSpread checks the spread of repeated runs: from each stage's
// range of what judges it (CPU for a CPU-bound stage, wall for a waiting
// one), else from the total wall times.
func TestJudgedSpread(t *testing.T) {
	s := staged(1, 0.01, 2, 2, 1.0, 3.0, 3.2)
	if got, want := judgedSpread(&s, &s, &s), (3.2-1.0)/3.0; math.Abs(got-want) > 1e-12 {
		t.Errorf("without stage spreads: %v, want the total wall times' %v", got, want)
	}
	s.Stages[0].Spread = &measure.StageSpread{WallMinS: 0.9, WallMaxS: 1.2, CPUMinS: 0, CPUMaxS: 5}
	s.Stages[1].Spread = &measure.StageSpread{WallMinS: 0, WallMaxS: 9, CPUMinS: 1.9, CPUMaxS: 2.2}
	// embed waits: its wall range 0.3; cluster is CPU-bound: its CPU range
	// 0.3; over 1 + 2 judged seconds.
	if got, want := judgedSpread(&s, &s, &s), 0.6/3; math.Abs(got-want) > 1e-12 {
		t.Errorf("with stage spreads: %v, want %v", got, want)
	}
	one := staged(1, 1, 1, 1)
	if got := judgedSpread(&one, &one, &one); got != 0 {
		t.Errorf("a single run: %v", got)
	}
}

func one(s measure.Scale) *loadtest.Results { return &loadtest.Results{Scales: []measure.Scale{s}} }

// TestCompareNoise checks the noise-aware judgement of time: CPU time for
// CPU-bound stages (a busier machine lengthens only their wall time), wall
// time for stages that wait (an API, mock latency), and a threshold that
// grows by the spread of repeated runs.
func TestCompareNoise(t *testing.T) {
	tests := []struct {
		name      string
		old, cur  measure.Scale
		wantRegs  []string
		wantBasis string
		wantNote  string
	}{
		// Identical work on a busier machine: wall +50%, CPU +2%.
		{name: "CPU-bound, wall time up, CPU time not", old: staged(1, 1, 2, 2), cur: staged(1.5, 1.02, 3, 2.04),
			wantBasis: "cpu", wantNote: "wall time 50.0% worse"},
		{name: "CPU-bound, CPU time up 50%", old: staged(1, 1, 2, 2), cur: staged(1.5, 1.5, 3, 3),
			wantRegs: []string{"time@1000", "throughput@1000"}, wantBasis: "cpu"},
		// Parallel stages: CPU time above wall time is still CPU-bound.
		{name: "parallel, CPU time steady", old: staged(1, 2, 2, 4), cur: staged(2, 2.1, 4, 4.1), wantBasis: "cpu"},
		// An API stage twice as slow (mock latency 2×), the CPU-bound
		// cluster stage unchanged: (1+1) -> (2+1) judged seconds.
		{name: "waiting stage twice as slow", old: staged(1, 0.01, 1, 1), cur: staged(2, 0.01, 1, 1),
			wantRegs: []string{"time@1000", "throughput@1000"}, wantBasis: "cpu+wall"},
		// A machine with thirty busy processes on two cores: every stage
		// gets 5% of a CPU, wall times double, CPU times stay: judged by
		// CPU (a share of 5% is not "waiting" when the cluster stage's is
		// 5% too).
		{name: "heavily loaded machine", old: staged(10, 0.5, 10, 0.5), cur: staged(20, 0.5, 20, 0.52), wantBasis: "cpu",
			wantNote: "wall time 100.0% worse"},
		// Loaded too, and the API twice as slow: the embed stage's 0.5% of
		// a CPU is waiting beside the cluster stage's 5%.
		{name: "heavily loaded, API twice as slow", old: staged(10, 0.05, 10, 0.5), cur: staged(20, 0.05, 10, 0.5), wantBasis: "cpu+wall",
			wantRegs: []string{"time@1000", "throughput@1000"}},
		{name: "no CPU time measured: wall", old: staged(1, 0, 2, 0), cur: staged(1.5, 0, 3, 0),
			wantRegs: []string{"time@1000", "throughput@1000"}, wantBasis: "wall"},
		// Repeats spread 35% (0.95 .. 1.3 around 1.0), over the 11.5%
		// expected of three 1-second runs: the threshold is 55%; +40%
		// passes, +60% fails.
		{name: "within threshold plus spread", old: staged(1, 0, 0, 0, 1, 1.3, 0.95), cur: staged(1.4, 0, 0, 0, 1.4, 1.4, 1.4),
			wantBasis: "wall"},
		{name: "beyond threshold plus spread", old: staged(1, 0, 0, 0, 1, 1.3, 0.95), cur: staged(1.6, 0, 0, 0, 1.6, 1.6, 1.6),
			wantRegs: []string{"time@1000", "throughput@1000"}, wantBasis: "wall"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Compare(one(tt.old), one(tt.cur), 0.2)
			var regs []string
			for _, r := range c.Regressions {
				regs = append(regs, fmt.Sprintf("%s@%d", r.Metric, r.Scale))
			}
			if !reflect.DeepEqual(regs, tt.wantRegs) {
				t.Errorf("regressions %v, want %v", regs, tt.wantRegs)
			}
			if c.Changes[0].Metric != "time" || c.Changes[0].Basis != tt.wantBasis {
				t.Errorf("time judged on %q, want %q", c.Changes[0].Basis, tt.wantBasis)
			}
			var out bytes.Buffer
			c.Write(&out, "old.json")
			if tt.wantNote != "" && !strings.Contains(out.String(), tt.wantNote) {
				t.Errorf("table lacks %q:\n%s", tt.wantNote, out.String())
			}
		})
	}
}

// TestCompareMemorySpread checks that the memory threshold grows by the
// spread of the repeated runs' peak memory.
func TestCompareMemorySpread(t *testing.T) {
	old, cur := staged(1, 1, 1, 1), staged(1, 1, 1, 1)
	cur.PeakRSSBytes = 140 << 20 // +40%
	if c := Compare(one(old), one(cur), 0.2); len(c.Regressions) != 1 || c.Regressions[0].Metric != "memory" {
		t.Errorf("single runs, memory +40%%: regressions %+v", c.Regressions)
	}
	old.RepeatPeakRSSBytes = []int64{100 << 20, 130 << 20, 100 << 20} // spread 30%: threshold 50%
	if c := Compare(one(old), one(cur), 0.2); len(c.Regressions) != 0 {
		t.Errorf("repeats 30%% apart, memory +40%%: regressions %+v", c.Regressions)
	}
}

// TestCompareZeroBaseline checks that a metric the earlier run has as 0 is
// reported as not compared (not divided by, not passed silently), and that
// a baseline with nothing comparable fails the gate.
func TestCompareZeroBaseline(t *testing.T) {
	old, cur := staged(1, 1, 1, 1), staged(1, 1, 1, 1)
	old.API.EstimatedCostUSD = 0
	c := Compare(one(old), one(cur), 0.2)
	var out bytes.Buffer
	c.Write(&out, "old.json")
	if c.Failed() || !strings.Contains(out.String(), "NOT COMPARED: baseline has 0 for cost: not compared") {
		t.Errorf("failed %v, table:\n%s", c.Failed(), out.String())
	}
	// 0 -> 0 is no change, not a note.
	cur.API.EstimatedCostUSD = 0
	if c := Compare(one(old), one(cur), 0.2); c.Failed() || c.Changes[3].NotCompared != "" {
		t.Errorf("cost 0 -> 0: %+v", c.Changes[3])
	}
	zero := measure.Scale{Scale: 1000, Conversations: 1000}
	c = Compare(one(zero), one(staged(1, 1, 1, 1)), 0.2)
	if !c.NothingCompared || c.Err() == nil || !strings.Contains(c.Err().Error(), "nothing compared") {
		t.Errorf("all-zero baseline: nothing compared %v, err %v", c.NothingCompared, c.Err())
	}
}

// TestCheck checks that numbers no measurement can have in a --compare
// file are refused, naming the scale and the field.
func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(s *measure.Scale)
		want string // "" = valid
	}{
		{"valid", func(s *measure.Scale) {}, ""},
		{"negative total time", func(s *measure.Scale) { s.TotalWallS = -1 }, "scales[0] (scale 1,000): total_wall_s is -1"},
		{"negative memory", func(s *measure.Scale) { s.PeakRSSBytes = -5 }, "peak_rss_bytes is -5"},
		{"negative stage CPU", func(s *measure.Scale) { s.Stages[0].CPUS = -0.5 }, "stages.embed.cpu_s is -0.5"},
		{"negative cost", func(s *measure.Scale) { s.API.EstimatedCostUSD = -1 }, "api.estimated_cost_usd is -1"},
		{"infinite throughput", func(s *measure.Scale) { s.ThroughputPerMin = math.Inf(1) }, "throughput_per_min is +Inf"},
		{"NaN repeat", func(s *measure.Scale) { s.RepeatWallS = []float64{1, math.NaN()} }, "repeat_wall_s[1] is NaN"},
		{"no conversations", func(s *measure.Scale) { s.Conversations = 0 }, "scales[0]: conversations is 0"},
		{"negative ARI is a score", func(s *measure.Scale) { s.Quality = &measure.Quality{ARI: -0.1} }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := staged(1, 1, 1, 1)
			tt.edit(&s)
			err := Check(one(s))
			if (err == nil) != (tt.want == "") || err != nil && !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check: %v, want %q", err, tt.want)
			}
		})
	}
}

func rel(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// TestCompareVectorDType: runs whose vectors were stored differently are
// still compared, with a note saying so; a file written before the option
// (no dtype recorded) counts as float32.
func TestCompareVectorDType(t *testing.T) {
	with := func(dt string) *loadtest.Results {
		s := staged(1, 1, 1, 1)
		s.Storage.VectorDType = dt
		return one(s)
	}
	for _, c := range []struct {
		old, cur string
		want     string // a note containing it; "" for no note about dtypes
	}{
		{"float32", "float16", "scale 1,000: vectors stored as float32 before, float16 now"},
		{"", "float16", "vectors stored as float32 before, float16 now"},
		{"float16", "float32", "vectors stored as float16 before, float32 now"},
		{"", "float32", ""},
		{"float16", "float16", ""},
	} {
		notes := strings.Join(Compare(with(c.old), with(c.cur), 0.2).Notes, "\n")
		if c.want == "" && strings.Contains(notes, "vectors stored") || c.want != "" && !strings.Contains(notes, c.want) {
			t.Errorf("%q -> %q: notes %q, want %q", c.old, c.cur, notes, c.want)
		}
	}
}

// TestWriteTable checks the comparison table as printed: scales written
// as the sentences write them (1,000), padded so the columns line up.
func TestWriteTable(t *testing.T) {
	run := func(t1000 float64, m1000 int64) *loadtest.Results {
		return &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 1, 30<<20, 10<<20, 0.001), measuretest.Scale(1000, t1000, m1000, 10<<20, 0.01)}}
	}
	c := Compare(run(10, 60<<20), run(13, 80<<20), 0.2)
	var out bytes.Buffer
	c.Write(&out, "old.json")
	want := `Comparison with old.json (regression threshold 20%)
  scale 100   time (wall)               1.000 s -> 1.000 s      0.0% worse  (threshold 40% with the noise)
  scale 100   memory                     30 MiB -> 30 MiB       0.0% worse
  scale 100   throughput (wall)       6,000/min -> 6,000/min    0.0% worse  (threshold 40% with the noise)
  scale 100   cost                      $0.0010 -> $0.0010      0.0% worse
  scale 1,000 time (wall)              10.000 s -> 13.000 s     30.0% worse  REGRESSION  (threshold 26% with the noise)
  scale 1,000 memory                     60 MiB -> 80 MiB       33.3% worse  REGRESSION
  scale 1,000 throughput (wall)       6,000/min -> 4,615/min    23.1% worse  REGRESSION  (threshold 26% with the noise)
  scale 1,000 cost                      $0.0100 -> $0.0100      0.0% worse
  (time: CPU time of stages that kept the CPU busy, wall time of those that
   waited; its threshold grows by 20%/√(seconds × repeats) or the repeats'
   spread; changes under 50 ms of that time, 1.0 MiB of memory or $0.000001
   are noise and never fail the gate)
`
	if got := out.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
}

func TestPct(t *testing.T) {
	for _, tt := range []struct {
		v    float64
		want string
	}{
		{0.3, "30.0% worse"}, {-0.25, "25.0% better"}, {0, "0.0% worse"},
		{-1e-12, "0.0% worse"}, {-0.0004, "0.0% worse"}, {-0.0006, "0.1% better"},
	} {
		if got := pct(tt.v); got != tt.want {
			t.Errorf("pct(%v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
