package reduce

import (
	"bufio"
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/kura-go/kura/knn"
	"github.com/kura-go/kura/vecfile"
)

// The fixtures in testdata come from umap-learn 0.5.3 and scikit-learn 1.2
// (testdata/make_fixtures.py says how).

func readCSV(t *testing.T, path string) [][]float64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]float64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var row []float64
		for _, s := range strings.Split(sc.Text(), ",") {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	return rows
}

func loadBlobs300(t *testing.T) ([]float32, int, int) {
	t.Helper()
	x, n, d, err := vecfile.Read("testdata/blobs300_d5.npy", 0)
	if err != nil {
		t.Fatal(err)
	}
	return x, n, d
}

func exactNeighbours(t *testing.T, x []float32, n, d, k int, m knn.Metric) *neighbours {
	t.Helper()
	g, err := knn.Build(context.Background(), x, n, d, knn.Params{K: k, Metric: m, Exact: true})
	if err != nil {
		t.Fatal(err)
	}
	return &neighbours{n: n, k: g.K, idx: g.Index, dist: g.Dist}
}

func TestSmoothKNNMatchesUMAPLearn(t *testing.T) {
	x, n, d := loadBlobs300(t)
	nb := exactNeighbours(t, x, n, d, 14, knn.Euclidean)
	rho, sigma, err := smoothKNN(context.Background(), nb, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := readCSV(t, "testdata/blobs300_d5.sigma.csv")
	// Tolerance: the binary search stops within 1e-5 of its target sum, and
	// distances are float32 here, float64 rounded to float32 there.
	for i, w := range want {
		if math.Abs(sigma[i]-w[0]) > 1e-4*w[0] || math.Abs(rho[i]-w[1]) > 1e-5*w[1] {
			t.Fatalf("point %d: sigma, rho = %g, %g; umap-learn %g, %g", i, sigma[i], rho[i], w[0], w[1])
		}
	}
}

func TestFuzzySetMatchesUMAPLearn(t *testing.T) {
	x, n, d := loadBlobs300(t)
	nb := exactNeighbours(t, x, n, d, 14, knn.Euclidean)
	g, err := fuzzySet(context.Background(), nb, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := map[[2]int]float64{}
	for _, r := range readCSV(t, "testdata/blobs300_d5.fuzzy.csv") {
		want[[2]int{int(r[0]), int(r[1])}] = r[2]
	}
	got := map[[2]int]float64{}
	for i := range n {
		for p := g.start[i]; p < g.start[i+1]; p++ {
			key := [2]int{i, int(g.col[p])}
			if _, dup := got[key]; dup {
				t.Fatalf("edge %v stored twice", key)
			}
			got[key] = float64(g.w[p])
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d edges, umap-learn has %d", len(got), len(want))
	}
	// Tolerance 1e-4: float32 weights from sigmas that agree to 1e-4.
	for key, w := range want {
		if v, ok := got[key]; !ok || math.Abs(v-w) > 1e-4 {
			t.Errorf("edge %v: weight %g (present %v), umap-learn %g", key, v, ok, w)
		}
	}
}

func TestPCAMatchesScikitLearn(t *testing.T) {
	x, n, d := loadBlobs300(t)
	want := readCSV(t, "testdata/blobs300_d5.pca3.csv")
	for _, workers := range []int{1, 3} {
		got, err := PCA(context.Background(), x, n, d, PCAParams{NComponents: 3, Seed: 9, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		// Tolerance: float32 products; the randomised SVD with 4 power
		// iterations is exact here (rank 5 ≤ the sketch's 13 columns).
		for i := range n {
			for c := range 3 {
				if g, w := float64(got[i*3+c]), want[i][c]; math.Abs(g-w) > 1e-4*(1+math.Abs(w)) {
					t.Fatalf("workers %d: score[%d][%d] = %g, scikit-learn %g", workers, i, c, g, w)
				}
			}
		}
	}
}

func TestTrustworthinessMatchesScikitLearn(t *testing.T) {
	x, n, d := loadBlobs300(t)
	p := readCSV(t, "testdata/blobs300_d5.pca3.csv")
	emb := make([]float32, n*2)
	for i := range n {
		emb[2*i], emb[2*i+1] = float32(p[i][0]), float32(p[i][1])
	}
	raw, err := os.ReadFile("testdata/blobs300_d5.trust.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Fields(line)
		k, _ := strconv.Atoi(f[1])
		want, _ := strconv.ParseFloat(f[2], 64)
		m := knn.Euclidean
		if f[0] == "cosine" {
			m = knn.Cosine
		}
		q, err := EmbeddingQuality(context.Background(), x, n, d, emb, 2, QualityParams{K: k, Metric: m, Workers: 2})
		if err != nil {
			t.Fatal(err)
		}
		// Tolerance 1e-9: the same ranks give the same sum; float32 distances
		// could only move exact ties, which this data does not have.
		if math.Abs(q.Trustworthiness-want) > 1e-9 {
			t.Errorf("%s k=%d: trustworthiness %.12f, scikit-learn %.12f", f[0], k, q.Trustworthiness, want)
		}
	}
}
