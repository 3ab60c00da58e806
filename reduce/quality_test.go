package reduce

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestUMAPQualityAgainstUwot runs UMAP on the data sets of
// testdata/uwot_scores.txt and compares its scores with R uwot's.
// Tolerances: trustworthiness at most 0.01 below uwot's, k-NN recall at
// most 0.02 below, ARI of HDBSCAN (min_cluster_size 10) on the embedding at
// most 0.05 below. UMAP is stochastic, so higher scores pass.
func TestUMAPQualityAgainstUwot(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("four UMAP runs of 5,000 points: skipped with -short and under the race detector (TestUMAPDeterministicWhateverTheWorkers covers the parallel code)")
	}
	f, err := os.Open("testdata/uwot_scores.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		fs := strings.Fields(line)
		name := fs[0]
		dims, _ := strconv.Atoi(fs[1])
		m, err := ParseMetric(fs[2])
		if err != nil {
			t.Fatal(err)
		}
		var want [3]float64
		for i := range want {
			if want[i], err = strconv.ParseFloat(fs[3+i], 64); err != nil {
				t.Fatal(err)
			}
		}
		t.Run(name+"/"+fs[1], func(t *testing.T) {
			var x []float32
			var truth []int
			var n, d int
			switch name {
			case "blobs5k_d50":
				x, truth, n, d = oracleBlobs()
			case "sample5k_d384":
				x, truth, n, d = sampleVectors(t, 5000)
			default:
				t.Fatalf("unknown data set %q", name)
			}
			p := DefaultUMAPParams()
			p.NComponents, p.Metric = dims, m
			emb, err := UMAP(context.Background(), x, n, d, p)
			if err != nil {
				t.Fatal(err)
			}
			q, err := EmbeddingQuality(context.Background(), x, n, d, emb, dims, QualityParams{K: 15, Metric: m})
			if err != nil {
				t.Fatal(err)
			}
			ari := hdbscanARI(t, emb, n, dims, truth)
			t.Logf("trustworthiness %.6f (uwot %.6f), k-NN recall %.6f (uwot %.6f), HDBSCAN ARI %.4f (uwot %.4f)",
				q.Trustworthiness, want[0], q.KNNRecall, want[1], ari, want[2])
			if q.Trustworthiness < want[0]-0.01 {
				t.Errorf("trustworthiness %.6f more than 0.01 below uwot's %.6f", q.Trustworthiness, want[0])
			}
			if q.KNNRecall < want[1]-0.02 {
				t.Errorf("k-NN recall %.6f more than 0.02 below uwot's %.6f", q.KNNRecall, want[1])
			}
			if ari < want[2]-0.05 {
				t.Errorf("HDBSCAN ARI %.4f more than 0.05 below uwot's %.4f", ari, want[2])
			}
		})
	}
}
