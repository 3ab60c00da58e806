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
			wantErr:  []string{"time at scale 1000 worse by 30.0%", "memory at scale 1000 worse by 33.3%"}},
		{name: "cost, and a scale missing from the new run", old: old,
			cur:      &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 1.0, 30<<20, 10<<20, 0.002)}},
			wantRegs: []string{"cost@100"}, wantMissing: []int{1000},
			wantErr: []string{"cost at scale 100 worse by 100.0%", "scale 1000 of the earlier run did not complete"}},
		{name: "a missing scale alone fails", old: old,
			cur:         &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 1.0, 30<<20, 10<<20, 0.001)}},
			wantMissing: []int{1000}, wantErr: []string{"scale 1000 of the earlier run"}},
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
		{name: "12 ms to 30 ms is not", old: &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.012, 30<<20, 10<<20, 0.001)}},
			cur:      &loadtest.Results{Scales: []measure.Scale{measuretest.Scale(100, 0.030, 30<<20, 10<<20, 0.001)}},
			wantRegs: []string{"time@100", "throughput@100"}, wantErr: []string{"time at scale 100 worse by 150.0%"}},
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

func TestThroughputFloor(t *testing.T) {
	for _, tt := range []struct {
		n           int
		oldPM, want float64
	}{
		{100, 500000, 500000 - 6000/0.022}, // 12 ms: the 10 ms floor is most of it
		{1000, 6000, 6000 - 60000/10.01},   // 10 s: a tiny fraction
		{100, 0, 0},
	} {
		if got := throughputFloor(tt.n, tt.oldPM); rel(got, tt.want) > 1e-12 && got != tt.want {
			t.Errorf("throughputFloor(%d, %v) = %v, want %v", tt.n, tt.oldPM, got, tt.want)
		}
	}
}

func rel(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}
