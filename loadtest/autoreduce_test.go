package loadtest

import (
	"testing"

	"github.com/kura-go/kura/cluster/hdbscan"
	"github.com/kura-go/kura/reduce"
)

func TestAutoReduce(t *testing.T) {
	for _, tt := range []struct {
		name    string
		edit    func(c *Config)
		reduces bool
	}{
		{"default scales", func(c *Config) {}, false},
		{"100k and 1M", func(c *Config) { c.Scales = []int{100000, 1000000} }, true},
		{"planned for 200k", func(c *Config) { c.PlanFor = []int{AutoReduceFrom} }, true},
		{"target just under", func(c *Config) { c.TargetConversations = AutoReduceFrom - 1 }, false},
		{"reduction asked for", func(c *Config) { c.Scales = []int{100000, 1000000}; c.AutoReduce = false }, false},
		{"umap asked for", func(c *Config) {
			c.Scales = []int{100000, 1000000}
			c.Cluster.Reduce = reduce.Spec{Method: reduce.MethodUMAP, Dims: 5}
		}, false},
		{"small vectors", func(c *Config) { c.Scales = []int{100000, 1000000}; c.Embedder.Dims = AutoReduceDims }, false},
		{"a scale too small for PCA", func(c *Config) { c.Scales = []int{AutoReduceDims, 1000000} }, false},
		{"full pipeline", func(c *Config) { c.Scales = []int{100000, 1000000}; c.Pipeline = PipelineFull }, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.edit(&c)
			before := c.Cluster.Reduce
			said := autoReduce(&c)
			if !tt.reduces {
				if said != "" || c.Cluster.Reduce.String() != before.String() || c.Cluster.Reduce.Method != before.Method {
					t.Errorf("reduced (%q, %+v), want no change", said, c.Cluster.Reduce)
				}
				return
			}
			if r := c.Cluster.ReduceSpec(); r.Method != reduce.MethodPCA || r.Dims != AutoReduceDims || r.Seed != uint64(c.Seed) {
				t.Errorf("reduction %+v, want PCA to %d seeded with %d", r, AutoReduceDims, c.Seed)
			}
			if err := c.Cluster.Validate(); err != nil {
				t.Error(err)
			}
			if said != "PCA to 32 dims (auto from 200,000 conversations; --reduce none: off)" {
				t.Errorf("said %q", said)
			}
			if c.Cluster.Name() != "pca:32 + hdbscan(min_cluster_size=10,min_samples=10)" {
				t.Errorf("clusterer recorded as %q", c.Cluster.Name())
			}
		})
	}
}

// pinSearch sees the reduced dimension: HDBSCAN on 5 UMAP dimensions takes
// the low-dimensional rule (approximate only from 500,000 points), not the
// 1,024-dimensional one.
func TestPinSearchSeesReducedDims(t *testing.T) {
	c := DefaultConfig()
	c.Scales = []int{1000, 100000}
	c.Cluster.Reduce = reduce.Spec{Method: reduce.MethodUMAP, Dims: 5}
	if said := pinSearch(&c); said != "" || c.Cluster.Search != "" {
		t.Errorf("pinned %q (%q): both scales take the exact low-dimensional path", c.Cluster.Search, said)
	}
	c.Cluster.Reduce = reduce.Spec{}
	if said := pinSearch(&c); said == "" || c.Cluster.Search != hdbscan.SearchApproximate {
		t.Errorf("full vectors: pinned %q (%q), want approximate", c.Cluster.Search, said)
	}
}
