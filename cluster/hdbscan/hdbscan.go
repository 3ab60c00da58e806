package hdbscan

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
)

// Params are the HDBSCAN parameters. The zero value of each optional field
// selects its default; DefaultParams spells them out.
type Params struct {
	// MinClusterSize is the smallest group of points that counts as a
	// cluster (Python min_cluster_size). At least 2. Default 10.
	MinClusterSize int
	// MinSamples sets the density estimate: the core distance of a point is
	// its distance to its MinSamples-th nearest other point (Python
	// min_samples; scikit-learn's min_samples is this plus one). 0 means
	// MinClusterSize. Values of n or more are clamped to n-1.
	MinSamples int
	// Epsilon is cluster_selection_epsilon, in the metric's units: clusters
	// born at a distance below Epsilon are merged into their ancestor born
	// above it. 0 disables it.
	Epsilon float64
	// Alpha divides distances (not core distances) in the mutual
	// reachability, as in robust single linkage. 0 means 1. Must be > 0.
	Alpha float64
	// Method is the cluster selection method: "eom" (excess of mass, the
	// default) or "leaf".
	Method string
	// AllowSingleCluster lets the root of the condensed tree be selected.
	AllowSingleCluster bool
	// MaxClusterSize, when > 0, keeps EOM from selecting clusters larger
	// than this (their children are considered instead).
	MaxClusterSize int
	// Metric is "euclidean" (default) or "cosine" (1 − cos θ).
	Metric string
	// Workers is the number of goroutines; 0 means GOMAXPROCS. The result
	// does not depend on it.
	Workers int
	// Search chooses how neighbours are found: "exact" (the library's
	// result, O(n²·d) time above 16 dimensions), "approximate" (a k-NN
	// graph by NN-descent, see the package documentation) or "auto" (the
	// default, ""): approximate above 16 dimensions from 20,000 points.
	Search string
	// Seed seeds the approximate search; the same data, parameters and
	// Seed give the same labels, whatever Workers is.
	Seed uint64
}

// DefaultParams returns the defaults of the Python hdbscan library (and of
// Kura): min_cluster_size 10, min_samples unset (= min_cluster_size, so
// changing MinClusterSize alone behaves as in Python), alpha 1, EOM,
// euclidean.
func DefaultParams() Params {
	return Params{MinClusterSize: 10, Alpha: 1, Method: "eom", Metric: "euclidean"}
}

// CondensedEdge is one row of the condensed tree, as the Python library's
// condensed_tree_ exports it. Nodes 0..n-1 are points; n is the root
// cluster and n+1, n+2, ... are the other clusters (a child's id is always
// larger than its parent's). Lambda is 1/distance at which Child leaves
// Parent (+Inf for distance 0); Size is the number of points in Child.
type CondensedEdge struct {
	Parent, Child int
	Lambda        float64
	Size          int
}

// Result is the outcome of Cluster.
type Result struct {
	// Labels holds one cluster number per point, -1 for noise. Clusters are
	// numbered 0..NumClusters-1 in the order of their condensed-tree ids.
	Labels []int
	// Probabilities is the strength of each point's membership of its
	// cluster, in [0, 1]; 0 for noise.
	Probabilities []float64
	// OutlierScores are the GLOSH outlier scores, in [0, 1].
	OutlierScores []float64
	// Tree is the condensed tree.
	Tree []CondensedEdge
	// Persistence is the persistence (stability normalised to [0, 1]) of
	// each cluster, indexed by label.
	Persistence []float64
	// NumClusters is the number of clusters found.
	NumClusters int
}

// ErrInvalidInput is wrapped by every error about the data or the
// parameters passed to Cluster.
var ErrInvalidInput = errors.New("hdbscan: invalid input")

// Validate reports whether the parameters are usable, before any data is
// read; Cluster checks them again.
func (p Params) Validate() error {
	_, _, err := p.withDefaults(2)
	return err
}

func (p Params) withDefaults(n int) (Params, int, error) {
	if p.MinClusterSize == 0 {
		p.MinClusterSize = 10
	}
	if p.MinClusterSize < 2 {
		return p, 0, fmt.Errorf("%w: min cluster size %d, must be at least 2", ErrInvalidInput, p.MinClusterSize)
	}
	if p.MinSamples == 0 {
		p.MinSamples = p.MinClusterSize
	}
	if p.MinSamples < 0 {
		return p, 0, fmt.Errorf("%w: min samples %d, must be positive", ErrInvalidInput, p.MinSamples)
	}
	if p.Alpha == 0 {
		p.Alpha = 1
	}
	if !(p.Alpha > 0) || math.IsInf(p.Alpha, 0) {
		return p, 0, fmt.Errorf("%w: alpha %v, must be a positive finite number", ErrInvalidInput, p.Alpha)
	}
	if !(p.Epsilon >= 0) || math.IsInf(p.Epsilon, 0) {
		return p, 0, fmt.Errorf("%w: cluster selection epsilon %v, must be finite and >= 0", ErrInvalidInput, p.Epsilon)
	}
	if p.MaxClusterSize < 0 {
		return p, 0, fmt.Errorf("%w: max cluster size %d, must be >= 0", ErrInvalidInput, p.MaxClusterSize)
	}
	switch p.Method {
	case "":
		p.Method = "eom"
	case "eom", "leaf":
	default:
		return p, 0, fmt.Errorf("%w: cluster selection method %q, want eom or leaf", ErrInvalidInput, p.Method)
	}
	switch p.Metric {
	case "":
		p.Metric = "euclidean"
	case "euclidean", "cosine":
	default:
		return p, 0, fmt.Errorf("%w: metric %q, want euclidean or cosine", ErrInvalidInput, p.Metric)
	}
	switch p.Search {
	case "":
		p.Search = SearchAuto
	case SearchAuto, SearchExact, SearchApproximate:
	default:
		return p, 0, fmt.Errorf("%w: neighbour search %q, want auto, exact or approximate", ErrInvalidInput, p.Search)
	}
	if p.Workers <= 0 {
		p.Workers = runtime.GOMAXPROCS(0)
	}
	k := p.MinSamples
	if k > n-1 {
		k = n - 1
	}
	return p, k, nil
}

// Cluster runs HDBSCAN on the n×d row-major matrix x (float32). It never
// allocates an n×n matrix: memory is O(n·d + n). The labels do not depend
// on p.Workers nor, up to relabelling and exact distance ties, on the row
// order.
func Cluster(ctx context.Context, x []float32, n, d int, p Params) (*Result, error) {
	if n <= 0 {
		return nil, fmt.Errorf("%w: no points (n = %d)", ErrInvalidInput, n)
	}
	if d <= 0 {
		return nil, fmt.Errorf("%w: dimension %d, must be positive", ErrInvalidInput, d)
	}
	if len(x) != n*d {
		return nil, fmt.Errorf("%w: data has %d values, want n×d = %d×%d = %d", ErrInvalidInput, len(x), n, d, n*d)
	}
	p, k, err := p.withDefaults(n)
	if err != nil {
		return nil, err
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("%w: row %d, column %d: value %v is not finite", ErrInvalidInput, i/d, i%d, v)
		}
	}
	alpha := p.Alpha
	if p.Metric == "cosine" {
		x, err = normalizeRows(x, n, d)
		if err != nil {
			return nil, err
		}
		// Cosine distance is ||u−v||²/2 on unit vectors, a monotone map of
		// the Euclidean distance; d_cos/α = f(d_euc/√α).
		alpha = math.Sqrt(alpha)
	}
	if n == 1 {
		return &Result{Labels: []int{-1}, Probabilities: []float64{0}, OutlierScores: []float64{0}, Tree: []CondensedEdge{}, Persistence: []float64{}}, nil
	}

	var mst []edge
	if useApprox(p, n, d) {
		// Forced, the graph is approximate even where brute force would be
		// as fast (under 2,048 points), so that small data shows its effect.
		exactBelow := 0
		if p.Search == SearchApproximate {
			exactBelow = -1
		}
		mst, err = approxMST(ctx, x, n, d, k, alpha, p.Workers, p.Seed, exactBelow)
	} else {
		mst, err = computeMST(ctx, x, n, d, k, alpha, p.Workers)
	}
	if err != nil {
		return nil, err
	}
	if p.Metric == "cosine" {
		for i := range mst {
			mst[i].w = mst[i].w * mst[i].w / 2
		}
	}
	return fromMST(mst, n, p), nil
}

// normalizeRows returns a copy of x with every row scaled to unit length.
func normalizeRows(x []float32, n, d int) ([]float32, error) {
	out := make([]float32, len(x))
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		if s == 0 {
			return nil, fmt.Errorf("%w: row %d is all zeros: cosine distance is undefined", ErrInvalidInput, i)
		}
		inv := 1 / math.Sqrt(s)
		o := out[i*d : (i+1)*d]
		for j, v := range row {
			o[j] = float32(float64(v) * inv)
		}
	}
	return out, nil
}
