package loadtest

import (
	"strings"
	"testing"

	"github.com/kura-go/kura/cluster"
)

func TestPinSearch(t *testing.T) {
	tests := []struct {
		name    string
		scales  []int
		target  int
		planFor []int
		dims    int
		search  string
		want    string // Search after pinning
		said    bool
	}{
		{"default run: exact everywhere", []int{100, 2000}, 10000, nil, 0, "", "", false},
		{"target beyond auto's threshold", []int{100, 2000}, 100000, nil, 0, "", "approximate", true},
		{"--plan-for beyond it", []int{100, 2000}, 10000, []int{1000000}, 0, "auto", "approximate", true},
		{"scales on both sides", []int{1000, 50000}, 10000, nil, 0, "", "approximate", true},
		{"all scales approximate already", []int{30000, 50000}, 100000, nil, 0, "", "", false},
		{"chosen by the user", []int{100, 2000}, 100000, nil, 0, "exact", "exact", false},
		{"low-dimensional vectors", []int{100, 2000}, 100000, nil, 8, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Scales: tt.scales, TargetConversations: tt.target, PlanFor: tt.planFor,
				Cluster: cluster.Spec{Algorithm: "hdbscan", MinClusterSize: 10, Search: tt.search}}
			cfg.Embedder.Dims = tt.dims
			said := pinSearch(&cfg)
			if cfg.Cluster.Search != tt.want || (said != "") != tt.said {
				t.Errorf("search %q, said %q; want %q, said=%v", cfg.Cluster.Search, said, tt.want, tt.said)
			}
			if tt.said && !strings.HasPrefix(said, "HDBSCAN's approximate search (auto: exact at ") {
				t.Errorf("message %q", said)
			}
		})
	}
	km := Config{Scales: []int{100, 2000}, TargetConversations: 1000000, Cluster: cluster.Spec{Algorithm: "kmeans", ItemsPerCluster: 10}}
	if pinSearch(&km) != "" || km.Cluster.Search != "" {
		t.Error("K-means has no neighbour search to pin")
	}
}

func TestPlanForGivesAPlanPerVolume(t *testing.T) {
	cfg := testConfig(t)
	cfg.Cluster = cluster.Spec{Algorithm: "hdbscan", MinClusterSize: 5}
	cfg.PlanFor = []int{50000, 1000000}
	res, _, err := runAndWrite(t, t.Context(), &Runner{Toolkit: testToolkit()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Plans) != 2 || res.Plans[0].TargetConversations != 50000 || res.Plans[1].TargetConversations != 1000000 {
		t.Fatalf("plans %+v", res.Plans)
	}
	if res.Config.Cluster.Search != "approximate" {
		t.Errorf("the results' config says neighbour search %q, but the run was pinned to approximate", res.Config.Cluster.Search)
	}
	// Said once, as a note of the planning.
	said := 0
	for _, n := range res.Planning.Notes {
		if strings.HasPrefix(n, "every scale ran HDBSCAN's approximate search (auto: exact at ") &&
			strings.HasSuffix(n, ", approximate at 1,000,000; one fit cannot plan both; --neighbor-search)") {
			said++
		}
	}
	if said != 1 {
		t.Errorf("notes %q: want the pinned search said once", res.Planning.Notes)
	}
	if res.Plans[1].TimeForTargetS <= res.Plans[0].TimeForTargetS {
		t.Errorf("1,000,000 planned at %.1f s, 50,000 at %.1f s", res.Plans[1].TimeForTargetS, res.Plans[0].TimeForTargetS)
	}
}
