package knn

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/kura-go/kura/embed/hash"
	"github.com/kura-go/kura/internal/f32"
	"github.com/kura-go/kura/sample"
)

// blobs returns n points in d dimensions around `centers` Gaussian centres.
func blobs(n, d, centers int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	c := make([]float64, centers*d)
	for i := range c {
		c[i] = r.NormFloat64() * 5
	}
	x := make([]float32, n*d)
	for i := range n {
		k := r.IntN(centers)
		for j := range d {
			x[i*d+j] = float32(c[k*d+j] + r.NormFloat64())
		}
	}
	return x
}

// sampleVectors hash-embeds the summaries of n generated sample
// conversations (the same path as `kura sample` + `kura embed --embedder
// hash`, at a smaller dimension).
func sampleVectors(t testing.TB, n, dims int) []float32 {
	g, err := sample.NewGenerator(sample.Options{Conversations: n, Seed: sample.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	texts := make([]string, n)
	for i := range texts {
		s, _ := g.NextSummary()
		texts[i] = s.Text()
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
	return x
}

// naive is the reference: float64 distances, full sort, ties by index.
func naive(x []float32, n, d, k int, m Metric) ([]int32, []float64) {
	idx := make([]int32, n*k)
	dist := make([]float64, n*k)
	norm := make([]float64, n)
	for i := range n {
		for c := range d {
			norm[i] += float64(x[i*d+c]) * float64(x[i*d+c])
		}
		norm[i] = math.Sqrt(norm[i])
	}
	type nd struct {
		j int
		d float64
	}
	row := make([]nd, 0, n)
	for i := range n {
		row = row[:0]
		for j := range n {
			if j == i {
				continue
			}
			var v float64
			if m == Euclidean {
				for c := range d {
					t := float64(x[i*d+c]) - float64(x[j*d+c])
					v += t * t
				}
				v = math.Sqrt(v)
			} else {
				switch {
				case norm[i] == 0 && norm[j] == 0:
					v = 0
				case norm[i] == 0 || norm[j] == 0:
					v = 1
				default:
					for c := range d {
						v += float64(x[i*d+c]) * float64(x[j*d+c])
					}
					v = max(0, 1-v/(norm[i]*norm[j]))
				}
			}
			row = append(row, nd{j, v})
		}
		sort.SliceStable(row, func(a, b int) bool { return row[a].d < row[b].d })
		for c := range k {
			idx[i*k+c] = int32(row[c].j)
			dist[i*k+c] = row[c].d
		}
	}
	return idx, dist
}

func TestExactMatchesNaive(t *testing.T) {
	ctx := context.Background()
	withZero := blobs(300, 7, 4, 3)
	clear(withZero[5*7 : 6*7]) // two zero rows: cosine's special case
	clear(withZero[9*7 : 10*7])
	for _, tt := range []struct {
		name    string
		x       []float32
		n, d, k int
		m       Metric
	}{
		{"euclid d=3", blobs(500, 3, 5, 1), 500, 3, 10, Euclidean},
		{"euclid d=64", blobs(400, 64, 6, 2), 400, 64, 15, Euclidean},
		{"euclid d=1000 tiles", blobs(150, 1000, 3, 9), 150, 1000, 5, Euclidean},
		{"cosine d=7 zero rows", withZero, 300, 7, 12, Cosine},
		{"cosine d=100", blobs(350, 100, 4, 4), 350, 100, 15, Cosine},
		{"k clamped", blobs(6, 4, 2, 5), 6, 4, 20, Euclidean},
		{"duplicates", make([]float32, 40*3), 40, 3, 5, Euclidean},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, w := range []int{1, 3} {
				g, err := Build(ctx, tt.x, tt.n, tt.d, Params{K: tt.k, Metric: tt.m, Exact: true, Workers: w})
				if err != nil {
					t.Fatal(err)
				}
				k := min(tt.k, tt.n-1)
				if g.N != tt.n || g.K != k || len(g.Index) != tt.n*k || len(g.Dist) != tt.n*k {
					t.Fatalf("shape N=%d K=%d len %d/%d, want %d, %d", g.N, g.K, len(g.Index), len(g.Dist), tt.n, k)
				}
				idx, dist := naive(tt.x, tt.n, tt.d, k, tt.m)
				checkAgainst(t, g, idx, dist, tt.x, tt.d, tt.m)
			}
		})
	}
}

// checkAgainst compares g with the naive reference. Tolerance: distances
// within 1e-4 relative (+1e-5 absolute: float32 sums); a neighbour may
// differ from the reference only where the reference distances tie within
// that tolerance, and then its true distance must equal the reference's.
func checkAgainst(t *testing.T, g *Graph, idx []int32, dist []float64, x []float32, d int, m Metric) {
	t.Helper()
	tol := func(v float64) float64 { return 1e-4*math.Abs(v) + 1e-5 }
	for i := range g.N {
		for c := range g.K {
			e := i*g.K + c
			if g.Index[e] == int32(i) {
				t.Fatalf("point %d lists itself", i)
			}
			if math.Abs(float64(g.Dist[e])-dist[e]) > tol(dist[e]) {
				t.Fatalf("point %d rank %d: distance %g, reference %g", i, c, g.Dist[e], dist[e])
			}
			if c > 0 && g.Dist[e] < g.Dist[e-1] {
				t.Fatalf("point %d: row not sorted", i)
			}
			if g.Index[e] != idx[e] {
				j := int(g.Index[e])
				_, dj := naive1(x, d, i, j, m)
				if math.Abs(dj-dist[e]) > tol(dist[e]) {
					t.Fatalf("point %d rank %d: neighbour %d at %g, reference %d at %g", i, c, j, dj, idx[e], dist[e])
				}
			}
		}
		row := slices.Clone(g.Index[i*g.K : (i+1)*g.K])
		slices.Sort(row)
		if len(slices.Compact(row)) != g.K {
			t.Fatalf("point %d: repeated neighbour in %v", i, g.Index[i*g.K:(i+1)*g.K])
		}
	}
}

func naive1(x []float32, d, i, j int, m Metric) (int, float64) {
	sub := append(slices.Clone(x[i*d:(i+1)*d]), x[j*d:(j+1)*d]...)
	_, dist := naive(sub, 2, d, 1, m)
	return j, dist[0]
}

// recall is the fraction of the exact neighbours that g found.
func recall(exact, g *Graph) float64 {
	hit := 0
	for i := range g.N {
		want := exact.Index[i*exact.K : (i+1)*exact.K]
		for _, j := range g.Index[i*g.K : (i+1)*g.K] {
			if slices.Contains(want, j) {
				hit++
			}
		}
	}
	return float64(hit) / float64(g.N*g.K)
}

// TestApproximateRecall holds the approximate search to recall@15 ≥ 0.9
// against the exact search (measured values are in docs/PERFORMANCE.md and
// logged with -v), and checks that each listed distance is the true one.
func TestApproximateRecall(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		x    []float32
		n, d int
		m    Metric
	}{
		{"blobs euclid 6000x32", blobs(6000, 32, 20, 11), 6000, 32, Euclidean},
		{"blobs cosine 6000x32", blobs(6000, 32, 20, 12), 6000, 32, Cosine},
		{"uniform euclid 5000x16", uniform(5000, 16, 13), 5000, 16, Euclidean},
		{"sample hash cosine 4000x256", sampleVectors(t, 4000, 256), 4000, 256, Cosine},
		{"sample hash euclid 4000x256", sampleVectors(t, 4000, 256), 4000, 256, Euclidean},
	} {
		t.Run(tt.name, func(t *testing.T) {
			const k = 15
			ex, err := Build(ctx, tt.x, tt.n, tt.d, Params{K: k, Metric: tt.m, Exact: true})
			if err != nil {
				t.Fatal(err)
			}
			ap, err := Build(ctx, tt.x, tt.n, tt.d, Params{K: k, Metric: tt.m, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			r := recall(ex, ap)
			t.Logf("recall@%d = %.4f", k, r)
			if r < 0.9 {
				t.Errorf("recall@%d = %.4f, want >= 0.9", k, r)
			}
			sp, _ := newSpace(tt.x, tt.n, tt.d, Params{K: k, Metric: tt.m})
			for i := range ap.N {
				for c := range ap.K {
					j := int(ap.Index[i*k+c])
					want := sp.distance(sp.score(i, j))
					if j == i || ap.Dist[i*k+c] != want || (c > 0 && ap.Dist[i*k+c] < ap.Dist[i*k+c-1]) {
						t.Fatalf("point %d rank %d: neighbour %d distance %g (true %g)", i, c, j, ap.Dist[i*k+c], want)
					}
				}
			}
		})
	}
}

func uniform(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = r.Float32()
	}
	return x
}

// TestApproximateDeterministic checks that the graph depends on the seed
// but not on the number of workers.
func TestApproximateDeterministic(t *testing.T) {
	ctx := context.Background()
	x := blobs(5000, 24, 10, 21)
	var ref *Graph
	for _, w := range []int{1, 2, 5} {
		g, err := Build(ctx, x, 5000, 24, Params{K: 10, Seed: 9, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if ref == nil {
			ref = g
			continue
		}
		if !slices.Equal(g.Index, ref.Index) || !slices.Equal(g.Dist, ref.Dist) {
			t.Fatalf("workers=%d gives a different graph than workers=1", w)
		}
	}
	other, err := Build(ctx, x, 5000, 24, Params{K: 10, Seed: 10, Trees: 1, Iterations: 1})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(other.Index, ref.Index) {
		t.Errorf("a different seed (and tuning) gave the same graph")
	}
}

// TestSquared checks that Params.Squared reports f32.SqDist's values bit
// for bit, and the same neighbours as without it.
func TestSquared(t *testing.T) {
	ctx := context.Background()
	const n, d = 3000, 12
	x := blobs(n, d, 6, 4)
	for _, exact := range []bool{true, false} {
		p := Params{K: 8, Seed: 3, Exact: exact}
		plain, err := Build(ctx, x, n, d, p)
		if err != nil {
			t.Fatal(err)
		}
		p.Squared = true
		sq, err := Build(ctx, x, n, d, p)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(sq.Index, plain.Index) {
			t.Fatalf("exact=%v: squared distances changed the neighbours", exact)
		}
		for e, j := range sq.Index {
			i := e / sq.K
			if want := f32.SqDist(x[i*d:(i+1)*d], x[int(j)*d:int(j+1)*d]); sq.Dist[e] != want {
				t.Fatalf("exact=%v: point %d neighbour %d: squared distance %g, f32.SqDist %g", exact, i, j, sq.Dist[e], want)
			}
		}
	}
}

func TestDuplicatesApproximate(t *testing.T) {
	// Many identical rows: trees cannot split them by hyperplanes.
	x := make([]float32, 3000*8)
	for i := 1500; i < 3000; i++ {
		for c := range 8 {
			x[i*8+c] = float32(i % 7)
		}
	}
	g, err := Build(context.Background(), x, 3000, 8, Params{K: 5, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1500 {
		if g.Dist[i*5+4] != 0 {
			t.Fatalf("point %d among 1500 copies has a neighbour at %g", i, g.Dist[i*5+4])
		}
	}
}

func TestBuildErrors(t *testing.T) {
	ctx := context.Background()
	nan := []float32{1, 2, float32(math.NaN()), 4}
	for _, tt := range []struct {
		name string
		x    []float32
		n, d int
		p    Params
	}{
		{"no points", nil, 0, 3, Params{K: 1}},
		{"no dims", nil, 3, 0, Params{K: 1}},
		{"length", make([]float32, 5), 2, 3, Params{K: 1}},
		{"k zero", make([]float32, 6), 2, 3, Params{}},
		{"metric", make([]float32, 6), 2, 3, Params{K: 1, Metric: 7}},
		{"nan", nan, 2, 2, Params{K: 1}},
		{"negative tuning", make([]float32, 6), 2, 3, Params{K: 1, Trees: -1}},
		{"squared cosine", make([]float32, 6), 2, 3, Params{K: 1, Metric: Cosine, Squared: true}},
	} {
		if _, err := Build(ctx, tt.x, tt.n, tt.d, tt.p); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err %v, want ErrInvalidInput", tt.name, err)
		}
	}
	g, err := Build(ctx, []float32{1, 2}, 1, 2, Params{K: 3})
	if err != nil || g.K != 0 || len(g.Index) != 0 {
		t.Errorf("one point: %+v, %v; want an empty graph", g, err)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	x := blobs(3000, 8, 3, 1)
	for _, exact := range []bool{true, false} {
		if _, err := Build(ctx, x, 3000, 8, Params{K: 5, Exact: exact}); !errors.Is(err, context.Canceled) {
			t.Errorf("exact=%v: err %v, want context.Canceled", exact, err)
		}
	}
}
