package reduce

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/kura-go/kura/internal/f32"
	"github.com/kura-go/kura/internal/parallel"
	"github.com/kura-go/kura/knn"
)

// Quality scores how well an embedding keeps the neighbourhoods of its
// input.
type Quality struct {
	// Trustworthiness is scikit-learn's sklearn.manifold.trustworthiness
	// (Venna and Kaski 2001): 1 − 2/(n·k·(2n − 3k − 1)) · Σ_i Σ_{j ∈ U_i}
	// (r(i, j) − k), where U_i are the embedded k nearest neighbours of i
	// that are not among its k nearest in the input and r(i, j) is j's rank
	// among i's input-space neighbours. 1 means no false neighbours.
	Trustworthiness float64
	// KNNRecall is the mean fraction of each point's k exact input-space
	// neighbours that are among its k exact neighbours in the embedding.
	KNNRecall float64
}

// QualityParams configures EmbeddingQuality.
type QualityParams struct {
	// K is the neighbourhood size (scikit-learn's n_neighbors; 15 in
	// umap_quality.py).
	K int
	// Metric is the input-space distance; the embedding's is Euclidean.
	Metric knn.Metric
	// Queries, if positive and below n, scores that many points chosen at
	// random (by Seed) instead of all: an unbiased estimate of both scores,
	// with ranks still taken among all n points, at Queries/n of the cost.
	Queries int
	Seed    uint64
	Workers int
}

// EmbeddingQuality scores the n×dim embedding emb of the n×d input x. It
// compares every scored point with every other: O(q·n·(d + dim)) time for q
// scored points (all n by default), O(n·workers) memory. Ties in distance
// rank the lower index first.
func EmbeddingQuality(ctx context.Context, x []float32, n, d int, emb []float32, dim int, p QualityParams) (Quality, error) {
	k, metric, workers := p.K, p.Metric, p.Workers
	if err := checkMatrix(x, n, d); err != nil {
		return Quality{}, err
	}
	if err := checkMatrix(emb, n, dim); err != nil {
		return Quality{}, fmt.Errorf("embedding: %w", err)
	}
	if k < 1 || 2*n-3*k-1 <= 0 {
		return Quality{}, fmt.Errorf("%w: k = %d neighbours needs k < n/2 (n = %d)", ErrInvalidInput, k, n)
	}
	workers = workerCount(workers)
	xs := x
	if metric == knn.Cosine {
		xs = make([]float32, len(x))
		copy(xs, x)
		for r := range n {
			row := xs[r*d : (r+1)*d]
			if nrm := math.Sqrt(float64(f32.Dot(row, row))); nrm > 0 {
				f32.Scale(float32(1/nrm), row)
			}
		}
	}
	type scratch struct {
		dx, de []float32
		cnt    []int
	}
	sc := make([]scratch, workers)
	for w := range sc {
		sc[w] = scratch{make([]float32, n), make([]float32, n), make([]int, k+1)}
	}
	queries := make([]int, n)
	for i := range queries {
		queries[i] = i
	}
	if p.Queries > 0 && p.Queries < n {
		rng := rand.New(rand.NewPCG(p.Seed, 0x7a57))
		rng.Shuffle(n, func(i, j int) { queries[i], queries[j] = queries[j], queries[i] })
		queries = queries[:p.Queries]
		sort.Ints(queries)
	}
	nq := len(queries)
	penalty := make([]float64, nq)
	recall := make([]float64, nq)
	err := parallel.For(ctx, nq, 16, workers, func(w, lo, hi int) {
		s := &sc[w]
		for qi := lo; qi < hi; qi++ {
			i := queries[qi]
			if metric == knn.Cosine {
				f32.Dots(s.dx, xs[i*d:(i+1)*d], xs)
				for m, v := range s.dx {
					s.dx[m] = 1 - v
				}
			} else {
				f32.SqDists(s.dx, xs[i*d:(i+1)*d], xs)
			}
			f32.SqDists(s.de, emb[i*dim:(i+1)*dim], emb)
			hiNN := nearest(s.dx, i, k)
			loNN := nearest(s.de, i, k)
			// Ranks in the input space of the embedded neighbours: count,
			// for each, the points ordered before it.
			sort.Slice(loNN, func(a, b int) bool { return before(s.dx, loNN[a], loNN[b]) })
			clear(s.cnt)
			for m := range n {
				if m == i {
					continue
				}
				// The first embedded neighbour that m is before.
				pos := sort.Search(k, func(t int) bool { return before(s.dx, m, loNN[t]) })
				s.cnt[pos]++
			}
			pen, acc := 0.0, 0
			for t := range k {
				acc += s.cnt[t]
				// acc points come before loNN[t]: its rank is acc+1.
				if r := acc + 1; r > k {
					pen += float64(r - k)
				}
			}
			penalty[qi] = pen
			inHi := map[int]bool{}
			for _, j := range hiNN {
				inHi[j] = true
			}
			hit := 0
			for _, j := range loNN {
				if inHi[j] {
					hit++
				}
			}
			recall[qi] = float64(hit) / float64(k)
		}
	})
	if err != nil {
		return Quality{}, err
	}
	var pen, rec float64
	for i := range nq {
		pen += penalty[i]
		rec += recall[i]
	}
	// The mean penalty per scored point stands for the mean over all n.
	fn, fk := float64(n), float64(k)
	return Quality{
		Trustworthiness: 1 - pen/float64(nq)*fn*2/(fn*fk*(2*fn-3*fk-1)),
		KNNRecall:       rec / float64(nq),
	}, nil
}

// before orders points by distance, then index.
func before(dist []float32, a, b int) bool {
	return dist[a] < dist[b] || (dist[a] == dist[b] && a < b)
}

// nearest returns the k points with the smallest dist other than self.
func nearest(dist []float32, self, k int) []int {
	// Max-heap of the best k so far.
	h := make([]int, 0, k)
	less := func(a, b int) bool { return before(dist, h[a], h[b]) }
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			big := l
			if r := l + 1; r < len(h) && less(l, r) {
				big = r
			}
			if !less(i, big) {
				return
			}
			h[i], h[big] = h[big], h[i]
			i = big
		}
	}
	for m := range dist {
		if m == self {
			continue
		}
		if len(h) < k {
			h = append(h, m)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !less(p, i) {
					break
				}
				h[p], h[i] = h[i], h[p]
				i = p
			}
			continue
		}
		if before(dist, m, h[0]) {
			h[0] = m
			down(0)
		}
	}
	return h
}
