package hdbscan

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/kura-go/kura/cluster/quality"
	"github.com/kura-go/kura/embed/hash"
	"github.com/kura-go/kura/sample"
	"github.com/kura-go/kura/vecfile"
)

// TestApproximateFixtures runs the approximate path (forced, so the k-NN
// graph is approximate even at 2,000 points) on every reference fixture and
// holds its labels to the reference by the adjusted Rand index (noise
// counted as one more group). Thresholds are the measured ARI rounded down
// to leave room for float32 rounding differences between kernels; the
// measured values are logged (-v) and recorded in docs/PERFORMANCE.md.
func TestApproximateFixtures(t *testing.T) {
	minARI := map[string]float64{
		"blobs2k_d10.mcs10.ms10.labels":     0.99,
		"blobs2k_d10.mcs10.ms9.labels":      0.99,
		"blobs2k_d384.mcs10.ms10.labels":    0.97,
		"overlap1500_d2.mcs10.ms10.labels":  0.99,
		"overlap1500_d2.mcs15.ms15.labels":  0.99,
		"overlap1500_d2.mcs5.ms5.labels":    0.99,
		"overlap1500_d2b.mcs10.ms10.labels": 0.99,
		"overlap1500_d2b.mcs25.ms25.labels": 0.99,
	}
	files, _ := filepath.Glob("testdata/*.mcs*.ms*.labels")
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	re := regexp.MustCompile(`^(.*)\.mcs(\d+)\.ms(\d+)\.labels$`)
	for _, f := range files {
		name := filepath.Base(f)
		m := re.FindStringSubmatch(name)
		mcs, _ := strconv.Atoi(m[2])
		ms, _ := strconv.Atoi(m[3])
		t.Run(name, func(t *testing.T) {
			want, ok := minARI[name]
			if !ok {
				t.Fatalf("no ARI threshold for fixture %s", name)
			}
			x, n, d := readNPY(t, filepath.Join("testdata", m[1]+".npy"))
			ref := readLabels(t, f)
			p := DefaultParams()
			p.MinClusterSize, p.MinSamples = mcs, ms
			p.Search = SearchApproximate
			res, err := Cluster(context.Background(), x, n, d, p)
			if err != nil {
				t.Fatal(err)
			}
			ari, err := quality.AdjustedRandIndex(ref, res.Labels)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("n=%d d=%d: ARI vs reference %.4f (clusters %d)", n, d, ari, res.NumClusters)
			if ari < want {
				t.Errorf("ARI %.4f, want >= %.2f", ari, want)
			}
		})
	}
}

// sampleVectors hash-embeds the summaries of n generated sample
// conversations (`kura sample` + `kura embed --embedder hash`, at a
// smaller dimension) and returns them with each one's topic.
func sampleVectors(t testing.TB, n, dims int) ([]float32, []int) {
	g, err := sample.NewGenerator(sample.Options{Conversations: n, Seed: sample.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, n)
	topic := make([]int, n)
	for i := range texts {
		s, tp := g.NextSummary()
		texts[i], topic[i] = s.Text(), tp
	}
	e := hash.New(hash.Options{Dims: dims})
	e.Fit(texts)
	vs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 0, n*dims)
	for _, v := range vs {
		x = append(x, v...)
	}
	return x, topic
}

// TestApproximateVsExact compares the approximate path's labels with the
// exact path's (ARI) on blobs and on hash-embedded sample conversations,
// cosine and euclidean.
func TestApproximateVsExact(t *testing.T) {
	bx, _ := blobs(3, 6000, 64, 12)
	sx, _ := sampleVectors(t, 5000, 256)
	for _, tt := range []struct {
		name   string
		x      []float32
		n, d   int
		metric string
		minARI float64
	}{
		{"blobs 6000x64", bx, 6000, 64, "euclidean", 0.98},
		{"sample hash 5000x256 cosine", sx, 5000, 256, "cosine", 0.98},
		{"sample hash 5000x256 euclidean", sx, 5000, 256, "euclidean", 0.98},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := DefaultParams()
			p.Metric = tt.metric
			p.Search = SearchExact
			ex, err := Cluster(context.Background(), tt.x, tt.n, tt.d, p)
			if err != nil {
				t.Fatal(err)
			}
			p.Search = SearchApproximate
			ap, err := Cluster(context.Background(), tt.x, tt.n, tt.d, p)
			if err != nil {
				t.Fatal(err)
			}
			ari, _ := quality.AdjustedRandIndex(ex.Labels, ap.Labels)
			t.Logf("ARI approximate vs exact %.4f (clusters %d vs %d)", ari, ap.NumClusters, ex.NumClusters)
			if ari < tt.minARI {
				t.Errorf("ARI %.4f, want >= %.2f", ari, tt.minARI)
			}
		})
	}
}

// TestApproximateSpanningTree checks, with an exact k-NN graph (so that
// only the graph restriction and the joins are tested), that the tree spans
// every point even when the graph falls apart into many components (far
// apart blobs), that its weight is never below the exact MST's and at most
// 1% above (measured: 0.73%: long edges of noise points missing from the
// 30-NN graph), and that the joins between blobs weigh within 2% of the
// exact ones.
func TestApproximateSpanningTree(t *testing.T) {
	const n, d, k = 3000, 20, 10
	x, _ := blobs(5, n, d, 40)
	for i := range x {
		x[i] *= 30 // blobs far apart: the 15-NN graph has about 40 components
	}
	exact, err := computeMST(context.Background(), x, n, d, k, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []int{1, 3} {
		mst, err := approxMST(context.Background(), x, n, d, k, 1, w, 7, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if len(mst) != n-1 {
			t.Fatalf("%d edges, want %d", len(mst), n-1)
		}
		u := newUnionFind(n)
		for _, e := range mst {
			if !u.union(e.a, e.b) {
				t.Fatalf("edge %v closes a cycle", e)
			}
		}
		sum := func(es []edge) (s float64) {
			for _, e := range es {
				s += e.w
			}
			return s
		}
		ratio := sum(mst) / sum(exact)
		t.Logf("workers=%d: total weight %.6g, exact %.6g (ratio %.5f)", w, sum(mst), sum(exact), ratio)
		if ratio < 1-1e-6 || ratio > 1.01 {
			t.Errorf("total weight ratio %.5f, want in [1, 1.01]", ratio)
		}
		// The heaviest edges (the joins between blobs) match the exact ones
		// within 2%.
		ws := func(es []edge) []float64 {
			v := make([]float64, len(es))
			for i, e := range es {
				v[i] = e.w
			}
			slices.Sort(v)
			return v[len(v)-39:]
		}
		a, b := ws(mst), ws(exact)
		for i := range a {
			if math.Abs(a[i]-b[i]) > 0.02*b[i] {
				t.Errorf("join %d: weight %.4g, exact %.4g", i, a[i], b[i])
			}
		}
	}
}

// TestApproximateLowDim checks the graph path in low dimensions (exact
// k-NN graph from the KD-tree) against the exact path: measured ARI 0.996 on
// 20,000 × 5 blobs with noise.
func TestApproximateLowDim(t *testing.T) {
	x, _ := blobs(4, 20000, 5, 10)
	p := DefaultParams()
	ex, err := Cluster(context.Background(), x, 20000, 5, p)
	if err != nil {
		t.Fatal(err)
	}
	p.Search = SearchApproximate
	ap, err := Cluster(context.Background(), x, 20000, 5, p)
	if err != nil {
		t.Fatal(err)
	}
	ari, _ := quality.AdjustedRandIndex(ex.Labels, ap.Labels)
	t.Logf("ARI approximate vs exact %.4f (clusters %d vs %d)", ari, ap.NumClusters, ex.NumClusters)
	if ari < 0.99 {
		t.Errorf("ARI %.4f, want >= 0.99", ari)
	}
}

func TestApproximateDeterministic(t *testing.T) {
	x, _ := blobs(8, 4000, 32, 6)
	var ref []int
	for _, w := range []int{1, 2, 4} {
		p := DefaultParams()
		p.Search, p.Workers, p.Seed = SearchApproximate, w, 3
		res, err := Cluster(context.Background(), x, 4000, 32, p)
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = res.Labels
		} else if !slices.Equal(ref, res.Labels) {
			t.Fatalf("workers=%d: labels differ from workers=1", w)
		}
	}
}

func TestSearchParam(t *testing.T) {
	p := DefaultParams()
	p.Search = "fast"
	if err := p.Validate(); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("Search %q: %v, want ErrInvalidInput", p.Search, err)
	}
	for _, tt := range []struct {
		search string
		n, d   int
		want   bool
	}{
		{"", 100_000, 384, true}, {"", 19_999, 384, false}, {"", 1_000_000, 5, true}, {"", 499_999, 5, false},
		{SearchExact, 100_000, 384, false}, {SearchApproximate, 100, 2, true},
	} {
		if got := useApprox(Params{Search: tt.search}, tt.n, tt.d); got != tt.want {
			t.Errorf("Search %q n=%d d=%d: approximate %v, want %v", tt.search, tt.n, tt.d, got, tt.want)
		}
	}
}

// TestGraphPrimOrder checks that renumbering the graph by a locality order
// (the KD-tree's) leaves Prim's tree unchanged, edge by edge, on data full
// of exact ties (small integer coordinates, duplicates) and with extra
// joining edges.
func TestGraphPrimOrder(t *testing.T) {
	const n, d, k = 4000, 3, 5
	r := rand.New(rand.NewPCG(3, 9))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.IntN(12))
	}
	nb, perm, err := kdGraph(context.Background(), x, n, d, 12, 2)
	if err != nil {
		t.Fatal(err)
	}
	K := nb.K
	core := make([]float64, n)
	for i := range n {
		core[i] = math.Sqrt(float64(nb.sq[i*K+k-1]))
	}
	var joins []wedge
	for range 20 {
		a, b := int32(r.IntN(n)), int32(r.IntN(n))
		if a != b {
			joins = append(joins, wedge{float64(r.IntN(4)), min(a, b), max(a, b)})
		}
	}
	for _, alpha := range []float64{1, 1.3} {
		want, err := graphPrim(context.Background(), n, K, slices.Clone(nb.ids), slices.Clone(nb.sq), core, alpha, joins, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		got, err := graphPrim(context.Background(), n, K, slices.Clone(nb.ids), slices.Clone(nb.sq), core, alpha, joins, perm, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("alpha %g: edge %d is %v with the order, %v without", alpha, i, got[i], want[i])
				}
			}
		}
	}
}

// TestApproximateReadOnlyMapping clusters vectors memory-mapped read-only
// from a .npy file (as kura does at scale): the approximate path, Euclidean
// or cosine, must never write into its input (a write would fault), and
// gives the labels it gives on a copy in memory.
func TestApproximateReadOnlyMapping(t *testing.T) {
	const n, d = 3000, 24
	x, _ := blobs(8, n, d, 6)
	path := filepath.Join(t.TempDir(), "x.npy")
	if err := vecfile.Write(path, x, n, d); err != nil {
		t.Fatal(err)
	}
	m, err := vecfile.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.Mapped() {
		t.Skip("vecfile cannot memory-map here")
	}
	for _, metric := range []string{"euclidean", "cosine"} {
		p := DefaultParams()
		p.Metric, p.Search = metric, SearchApproximate
		got, err := Cluster(context.Background(), m.Data, n, d, p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := Cluster(context.Background(), slices.Clone(x), n, d, p)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Labels, want.Labels) {
			t.Errorf("%s: labels from the mapping differ from those of a copy", metric)
		}
	}
}
