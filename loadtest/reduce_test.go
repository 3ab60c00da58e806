package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/kura-go/kura/cluster"
	"github.com/kura-go/kura/knn"
	"github.com/kura-go/kura/loadtest/measure"
	"github.com/kura-go/kura/loadtest/scaledata"
	"github.com/kura-go/kura/reduce"
)

// A load test with a reduction runs it as its own stage, between embed and
// cluster: measured at every scale, fitted by the analysis and planned. The
// topics of the built-in sample corpus (13 topics, hash-embedded at 256
// dims) survive it. The runs are seeded, so the ARI is reproducible; the
// floors leave room for a change of UMAP or PCA that moves a few points
// (measured at 600: UMAP + HDBSCAN 1.000, PCA + K-means 0.924).
func TestRunReduce(t *testing.T) {
	for _, tt := range []struct {
		name    string
		spec    cluster.Spec
		minARI  float64 // at the largest scale
		relabel string  // the clusterer's name in the results
	}{
		{"umap", cluster.Spec{Algorithm: "hdbscan", MinClusterSize: 10,
			Reduce: reduce.Spec{Method: reduce.MethodUMAP, Dims: 5, Metric: knn.Cosine}}, 0.9, "umap:5 + hdbscan(min_cluster_size=10,min_samples=10)"},
		{"pca", cluster.Spec{Algorithm: "kmeans", K: 13,
			Reduce: reduce.Spec{Method: reduce.MethodPCA, Dims: 10}}, 0.85, "pca:10 + kmeans(k=13)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.Scales = []int{150, 300, 600}
			cfg.SampleConversations, cfg.SampleTopics = 300, 13
			cfg.Cluster = tt.spec
			cfg.Cluster.Seed = 1
			tk := testToolkit()
			tk.Sample = scaledata.Sample
			res, doc, err := runAndWrite(t, context.Background(), &Runner{Toolkit: tk}, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Scales) != 3 {
				t.Fatalf("%d scales ran", len(res.Scales))
			}
			for _, s := range res.Scales {
				if got := strings.Join(s.Stages.Names(), ","); got != "load,embed,reduce,cluster,write" {
					t.Errorf("scale %d: stages %s", s.Scale, got)
				}
				st := s.Stages.Of(measure.Reduce)
				if st.WallS <= 0 || st.CPUS < 0 || st.PeakRSSBytes <= 0 {
					t.Errorf("scale %d: reduce stage %+v", s.Scale, st)
				}
				if s.Clusterer != tt.relabel || s.Dims != 256 {
					t.Errorf("scale %d: clusterer %q, dims %d; want %q on 256 (the embedding's)", s.Scale, s.Clusterer, s.Dims, tt.relabel)
				}
				t.Logf("scale %d: ARI %.3f, %d clusters, %d noise, reduce %.3f s, cluster %.3f s", s.Scale, s.Quality.ARI, s.Clusters, s.Noise,
					st.WallS, s.Stages.Of(measure.Cluster).WallS)
			}
			if q := res.Scales[2].Quality; q == nil || q.ARI < tt.minARI {
				t.Errorf("quality at 600: %+v, want ARI ≥ %.2f", q, tt.minARI)
			}
			if res.Analysis == nil || res.Analysis.Fit("reduce_time") == nil || res.Analysis.Ratio("reduce_time") == nil {
				t.Fatalf("analysis without the reduce stage: %+v", res.Analysis)
			}
			if p := res.Planning; p == nil || p.StageModels["reduce"] == "" || p.StageTimesAtTargetS["reduce"] <= 0 {
				t.Errorf("planning without the reduce stage: %+v", p)
			}
			var back struct {
				Config struct {
					Cluster struct {
						Reduce struct {
							Method string `json:"method"`
							Dims   int    `json:"dims"`
						} `json:"reduce"`
					} `json:"cluster"`
				} `json:"config"`
			}
			if err := json.Unmarshal(doc, &back); err != nil {
				t.Fatal(err)
			}
			if r := back.Config.Cluster.Reduce; r.Method != tt.spec.Reduce.Method || r.Dims != tt.spec.Reduce.Dims {
				t.Errorf("the results' config records the reduction as %+v", r)
			}
		})
	}
}

// The reduction travels to a worker process with the cluster spec (JSON).
func TestRunReduceChildProcess(t *testing.T) {
	cfg := testConfig(t)
	cfg.InProcess = false
	cfg.Scales = []int{30, 90}
	cfg.Cluster.Reduce = reduce.Spec{Method: reduce.MethodPCA, Dims: 3}
	var log bytes.Buffer
	res, _, err := runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit(), Worker: workerCmd(), Log: &log}, cfg)
	if err != nil {
		t.Fatalf("%v\nlog:\n%s", err, log.String())
	}
	for i := range res.Scales {
		s := &res.Scales[i]
		checkScale(t, s)
		if _, ok := s.Stages.Lookup(measure.Reduce); !ok || s.Clusterer != "pca:3 + kmeans(k=4)" {
			t.Errorf("scale %d: stages %v, clusterer %q", s.Scale, s.Stages.Names(), s.Clusterer)
		}
	}
}

// Without a reduction there is no reduce stage, and nothing of it in the
// analysis (no ratio or fit of a stage that did not run).
func TestRunWithoutReduce(t *testing.T) {
	cfg := testConfig(t)
	cfg.Cluster.Reduce = reduce.Spec{Method: reduce.MethodNone, Dims: 5}
	res, doc, err := runAndWrite(t, context.Background(), &Runner{Toolkit: testToolkit()}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Scales {
		if _, ok := s.Stages.Lookup(measure.Reduce); ok {
			t.Errorf("scale %d: a reduce stage without a reduction", s.Scale)
		}
	}
	if res.Analysis.Fit("reduce_time") != nil || res.Analysis.Ratio("reduce_time") != nil || res.Planning.StageModels["reduce"] != "" {
		t.Error("the analysis or the planning has a reduce stage that did not run")
	}
	if bytes.Contains(doc, []byte(`"reduce": {
          "wall_s"`)) || !bytes.Contains(doc, []byte(`"cluster": {
          "wall_s"`)) {
		t.Error("the results have a reduce stage, or the test looks for the wrong layout")
	}
}
