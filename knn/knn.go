package knn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"

	"github.com/kura-go/kura/internal/f32"
)

// Metric is the distance between two rows.
type Metric int

const (
	// Euclidean is the L2 distance.
	Euclidean Metric = iota
	// Cosine is 1 − cos(a, b). A row of zeros is at distance 1 from every
	// other row and at 0 from another row of zeros (pynndescent's rule).
	Cosine
)

// String returns the metric's name as the command line spells it.
func (m Metric) String() string {
	switch m {
	case Euclidean:
		return "euclidean"
	case Cosine:
		return "cosine"
	}
	return fmt.Sprintf("Metric(%d)", int(m))
}

// MarshalText writes the metric's name, so that settings holding a Metric
// read as "euclidean" or "cosine" in JSON.
func (m Metric) MarshalText() ([]byte, error) {
	if m != Euclidean && m != Cosine {
		return nil, fmt.Errorf("%w: unknown metric %d", ErrInvalidInput, int(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads a metric's name ("euclidean" or "cosine").
func (m *Metric) UnmarshalText(b []byte) error {
	switch string(b) {
	case "euclidean":
		*m = Euclidean
	case "cosine":
		*m = Cosine
	default:
		return fmt.Errorf("%w: metric must be euclidean or cosine, not %q", ErrInvalidInput, b)
	}
	return nil
}

// ErrInvalidInput marks errors caused by the caller's data or parameters.
var ErrInvalidInput = errors.New("knn: invalid input")

// Params configure Build. The zero value of every tuning field selects a
// default that depends on n and K (see the package documentation).
type Params struct {
	// K is the number of neighbours per point, the point itself excluded.
	// At least 1; values of n or more are clamped to n−1 (Graph.K says
	// which was used).
	K      int
	Metric Metric
	// Seed makes the approximate search reproducible: the same data, Seed
	// and parameters give the same graph, whatever the number of workers.
	Seed uint64
	// Workers is the number of goroutines; 0 means GOMAXPROCS. The result
	// does not depend on it.
	Workers int
	// Exact selects brute force: every pair of rows is compared.
	Exact bool
	// Squared makes Graph.Dist hold squared Euclidean distances, exactly
	// the float32 values f32.SqDist returns for the two rows, instead of
	// their square roots. Euclidean only.
	Squared bool

	// Trees is the number of random-projection trees that seed the
	// approximate search. 0 means min(32, 5 + round(√n / 20)).
	Trees int
	// LeafSize is the largest leaf of a random-projection tree. 0 means
	// max(2K, 30) capped at 256.
	LeafSize int
	// MaxCandidates bounds the new and the old candidate lists of a point
	// in each NN-descent iteration. 0 means min(60, max(2K, 20)).
	MaxCandidates int
	// Iterations bounds the NN-descent iterations. 0 means
	// max(5, round(log₂ n)).
	Iterations int
	// Delta stops NN-descent early once an iteration changes fewer than
	// Delta·n·K neighbour entries. 0 means 0.001; a negative value disables
	// the early stop.
	Delta float64
	// ExactBelow is the number of points under which the approximate
	// search runs brute force instead (it is exact and no slower there).
	// 0 means 2048; a negative value never falls back.
	ExactBelow int
}

// Graph is a k-nearest-neighbour graph: row i of Index holds the K
// neighbours of point i, nearest first (ties by lower index), never i
// itself; Dist holds their distances (Euclidean: the true distance, or its
// square with Params.Squared; Cosine: 1 − cosine similarity).
type Graph struct {
	N, K  int
	Index []int32
	Dist  []float32
}

// Neighbors returns row i of the graph.
func (g *Graph) Neighbors(i int) ([]int32, []float32) {
	return g.Index[i*g.K : (i+1)*g.K], g.Dist[i*g.K : (i+1)*g.K]
}

// Build returns the K nearest neighbours of each of the n rows of the
// row-major n×d matrix x. x is only read, never copied (it may be a
// memory-mapped file).
func Build(ctx context.Context, x []float32, n, d int, p Params) (*Graph, error) {
	sp, err := newSpace(x, n, d, p)
	if err != nil {
		return nil, err
	}
	k := p.K
	if k >= n {
		k = n - 1
	}
	workers := p.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	g := &Graph{N: n, K: k}
	if k == 0 {
		g.Index, g.Dist = []int32{}, []float32{}
		return g, nil
	}
	exactBelow := p.ExactBelow
	if exactBelow == 0 {
		exactBelow = 2048
	}
	if p.Exact || n < exactBelow {
		err = sp.exact(ctx, g, workers)
	} else {
		err = sp.descent(ctx, g, workers, p)
	}
	if err != nil {
		return nil, err
	}
	return g, nil
}

// space holds the data and the metric. Internally distances are compared
// as scores, a monotone function of the distance: the squared distance for
// Euclidean, the distance itself for Cosine.
type space struct {
	x      []float32
	n, d   int
	metric Metric
	inv    []float32 // cosine: 1/‖row‖ (0 for a zero row)
	sq     bool      // report scores (squared Euclidean distances) as they are
}

func newSpace(x []float32, n, d int, p Params) (*space, error) {
	switch {
	case n < 1:
		return nil, fmt.Errorf("%w: n = %d, need at least one point", ErrInvalidInput, n)
	case d < 1:
		return nil, fmt.Errorf("%w: d = %d, need at least one dimension", ErrInvalidInput, d)
	case len(x) != n*d:
		return nil, fmt.Errorf("%w: %d values for %d×%d", ErrInvalidInput, len(x), n, d)
	case p.K < 1:
		return nil, fmt.Errorf("%w: K = %d, need at least 1", ErrInvalidInput, p.K)
	case p.Metric != Euclidean && p.Metric != Cosine:
		return nil, fmt.Errorf("%w: unknown metric %d", ErrInvalidInput, int(p.Metric))
	case p.Squared && p.Metric != Euclidean:
		return nil, fmt.Errorf("%w: squared distances need the euclidean metric, not %v", ErrInvalidInput, p.Metric)
	case p.Trees < 0 || p.LeafSize < 0 || p.MaxCandidates < 0 || p.Iterations < 0:
		return nil, fmt.Errorf("%w: negative tuning parameter", ErrInvalidInput)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w: row %d, column %d is %v", ErrInvalidInput, i/d, i%d, v)
		}
	}
	sp := &space{x: x, n: n, d: d, metric: p.Metric, sq: p.Squared}
	if p.Metric == Cosine {
		sp.inv = make([]float32, n)
		for i := range n {
			r := x[i*d : (i+1)*d]
			if s := f32.Dot(r, r); s > 0 {
				sp.inv[i] = float32(1 / math.Sqrt(float64(s)))
			}
		}
	}
	return sp, nil
}

func (s *space) row(i int) []float32 { return s.x[i*s.d : (i+1)*s.d : (i+1)*s.d] }

// score is the internal, monotone stand-in for the distance of rows i, j.
func (s *space) score(i, j int) float32 {
	if s.metric == Euclidean {
		return f32.SqDist(s.row(i), s.row(j))
	}
	return s.cosine(f32.Dot(s.row(i), s.row(j)), i, j)
}

// cosine turns a dot product of rows i and j into 1 − cos.
func (s *space) cosine(dot float32, i, j int) float32 {
	a, b := s.inv[i], s.inv[j]
	if a == 0 || b == 0 {
		if a == b {
			return 0
		}
		return 1
	}
	c := 1 - dot*(a*b) // symmetric in i, j
	if c < 0 {
		return 0
	}
	return c
}

// distance turns a score into the distance the Graph reports.
func (s *space) distance(score float32) float32 {
	if s.metric == Euclidean && !s.sq {
		return float32(math.Sqrt(float64(score)))
	}
	return score
}
