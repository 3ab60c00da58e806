package loadtest

import (
	"strings"
	"testing"

	"github.com/kura-go/kura/loadtest/measure"
)

// The line printed after each scale fits the width: on one line when it
// can, else the stages' times on a line of their own.
func TestScaleLine(t *testing.T) {
	const mib = 1 << 20
	scale := func(n int, total, embed, reduce, clu float64, peak int64, clusters int) *measure.Scale {
		s := &measure.Scale{Conversations: n, TotalWallS: total, PeakRSSBytes: peak, Clusters: clusters}
		s.Stages = append(s.Stages, measure.Stage{Name: measure.Embed, WallS: embed})
		if reduce > 0 {
			s.Stages = append(s.Stages, measure.Stage{Name: measure.Reduce, WallS: reduce})
		}
		s.Stages = append(s.Stages, measure.Stage{Name: measure.Cluster, WallS: clu})
		return s
	}
	for _, tt := range []struct {
		name  string
		s     *measure.Scale
		width int
		want  string
	}{
		{"no reduce stage", scale(2000, 0.574, 0.117, 0, 0.331, 48*mib, 13), 80,
			"scale 2,000: 0.57s (embed 0.12s, cluster 0.33s), peak 48 MiB, 13 clusters"},
		{"pca at 100 (was 84 columns)", scale(100, 0.08, 0.01, 0.03, 0.01, 29*mib, 0), 80,
			"scale 100: 0.08s, peak 29 MiB, 0 clusters\n  embed 0.01s, reduce 0.03s, cluster 0.01s"},
		{"pca, wide terminal", scale(2000, 0.8, 0.13, 0.11, 0.29, 43*mib, 14), 120,
			"scale 2,000: 0.80s (embed 0.13s, reduce 0.11s, cluster 0.29s), peak 43 MiB, 14 clusters"},
		{"a million", scale(1000000, 444, 72, 45, 192, 7800*mib, 13), 80,
			"scale 1,000,000: 7.4 min, peak 7.6 GiB, 13 clusters\n  embed 72s, reduce 45s, cluster 3.2 min"},
		{"narrow terminal", scale(1000000, 444, 72, 45, 192, 7800*mib, 13), 40,
			"scale 1,000,000: 7.4 min, peak 7.6 GiB,\n  13 clusters\n  embed 72s, reduce 45s, cluster 3.2 min"},
	} {
		got := scaleLine(tt.s, tt.width)
		if got != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, got, tt.want)
		}
		for _, l := range strings.Split(got, "\n") {
			if len(l) > tt.width {
				t.Errorf("%s: %d columns, over %d: %q", tt.name, len(l), tt.width, l)
			}
		}
	}
}
