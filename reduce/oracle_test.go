package reduce

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kura-go/kura/cluster/hdbscan"
	"github.com/kura-go/kura/cluster/quality"
	"github.com/kura-go/kura/embed/hash"
	"github.com/kura-go/kura/sample"
	"github.com/kura-go/kura/vecfile"
)

// Data sets compared with R's uwot (testdata/uwot_scores.txt; see
// testdata/README.md for the commands).

// oracleBlobs: 5,000 points in 50 dimensions around 10 centres in
// [−10, 10]^50 with noise of standard deviation 3 (groups that overlap in
// their tails).
func oracleBlobs() ([]float32, []int, int, int) {
	x, y := blobs(2026, 5000, 50, 10, 3)
	return x, y, 5000, 50
}

// sampleVectors embeds the first n summaries of the built-in sample corpus
// (seed 42, 27 topics) with the hash embedder at 384 dimensions, as
// `kura sample -n N` followed by `kura embed --embedder hash --dims 384`
// does, and returns them with their topics.
func sampleVectors(tb testing.TB, n int) ([]float32, []int, int, int) {
	tb.Helper()
	g, err := sample.NewGenerator(sample.Options{Conversations: n, Seed: 42})
	if err != nil {
		tb.Fatal(err)
	}
	texts := make([]string, n)
	topics := make([]int, n)
	for i := range n {
		s, t := g.NextSummary()
		texts[i] = s.Text()
		topics[i] = t
	}
	e := hash.New(hash.Options{Dims: 384})
	e.Fit(texts)
	rows, err := e.Embed(context.Background(), texts)
	if err != nil {
		tb.Fatal(err)
	}
	x := make([]float32, 0, n*384)
	for _, r := range rows {
		x = append(x, r...)
	}
	return x, topics, n, 384
}

// TestExportOracleInputs writes the data sets for the oracle scripts when
// KURA_REDUCE_EXPORT names a directory: NAME.f32 (raw float32) and
// NAME.labels (one topic per line).
func TestExportOracleInputs(t *testing.T) {
	dir := os.Getenv("KURA_REDUCE_EXPORT")
	if dir == "" {
		t.Skip("set KURA_REDUCE_EXPORT=DIR to write the oracle inputs")
	}
	write := func(name string, x []float32, y []int, n, d int) {
		if err := vecfile.Write(filepath.Join(dir, name+".f32"), x, n, d); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, l := range y {
			fmt.Fprintln(&b, l)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".labels"), []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	x, y, n, d := oracleBlobs()
	write("blobs5k_d50", x, y, n, d)
	x, y, n, d = sampleVectors(t, 5000)
	write("sample5k_d384", x, y, n, d)
}

// TestScoreEmbedding prints EmbeddingQuality for files named by
// KURA_REDUCE_SCORE="INPUT.f32:DIMS:EMBEDDING(.csv|.npy):METRIC[:QUERIES[:LABELS]]",
// to score uwot's output and ours the same way; with LABELS (one integer per
// line) also the ARI of HDBSCAN (min_cluster_size 10) on the embedding.
func TestScoreEmbedding(t *testing.T) {
	spec := os.Getenv("KURA_REDUCE_SCORE")
	if spec == "" {
		t.Skip("set KURA_REDUCE_SCORE=INPUT.f32:DIMS:EMBEDDING:METRIC[:QUERIES] to score an embedding")
	}
	f := strings.Split(spec, ":")
	dims, _ := strconv.Atoi(f[1])
	x, n, d, err := vecfile.Read(f[0], dims)
	if err != nil {
		t.Fatal(err)
	}
	var emb []float32
	var dim int
	if strings.HasSuffix(f[2], ".csv") {
		rows := readCSV(t, f[2])
		dim = len(rows[0])
		for _, r := range rows {
			for _, v := range r {
				emb = append(emb, float32(v))
			}
		}
	} else if emb, _, dim, err = vecfile.Read(f[2], 0); err != nil {
		t.Fatal(err)
	}
	m, err := ParseMetric(f[3])
	if err != nil {
		t.Fatal(err)
	}
	q := 0
	if len(f) > 4 {
		q, _ = strconv.Atoi(f[4])
	}
	res, err := EmbeddingQuality(context.Background(), x, n, d, emb, dim, QualityParams{K: 15, Metric: m, Queries: q, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("trustworthiness=%.6f knn_recall=%.6f n=%d queries=%d", res.Trustworthiness, res.KNNRecall, n, q)
	if len(f) > 5 {
		raw, err := os.ReadFile(f[5])
		if err != nil {
			t.Fatal(err)
		}
		var truth []int
		for _, s := range strings.Fields(string(raw)) {
			v, _ := strconv.Atoi(s)
			truth = append(truth, v)
		}
		fmt.Printf(" hdbscan_ari=%.4f", hdbscanARI(t, emb, n, dim, truth))
	}
	fmt.Println()
}

// hdbscanARI clusters emb with HDBSCAN (min_cluster_size 10, Kura's
// default) and returns the ARI of the labels against truth, noise counted
// as one more label.
func hdbscanARI(tb testing.TB, emb []float32, n, dim int, truth []int) float64 {
	tb.Helper()
	r, err := hdbscan.Cluster(context.Background(), emb, n, dim, hdbscan.DefaultParams())
	if err != nil {
		tb.Fatal(err)
	}
	ari, err := quality.AdjustedRandIndex(truth, r.Labels)
	if err != nil {
		tb.Fatal(err)
	}
	return ari
}
