// Package cluster chooses and runs kura's clusterers from one Spec: an
// optional reduction first (package reduce: UMAP or PCA), then HDBSCAN
// (package cluster/hdbscan: euclidean or cosine, EOM or leaf, as the Python
// hdbscan library) or K-means (package cluster/kmeans: k-means++ and Lloyd
// or mini-batch, k fixed or Kura's ceil(n / items per cluster)). kura
// cluster and the load test both run clusterers through Run.
package cluster

import (
	"context"
	"errors"
	"fmt"

	"github.com/kura-go/kura/cluster/hdbscan"
	"github.com/kura-go/kura/cluster/kmeans"
	"github.com/kura-go/kura/reduce"
)

// Algorithms are the values of Spec.Algorithm.
var Algorithms = []string{"hdbscan", "kmeans"}

// Spec is a clusterer and its parameters, as a plain value (it travels as
// JSON to the load test's workers). A zero parameter means the algorithm's
// default, as in hdbscan.Params and kmeans.Params.
type Spec struct {
	Algorithm string `json:"algorithm"` // "hdbscan" or "kmeans"

	// HDBSCAN.
	MinClusterSize     int     `json:"min_cluster_size"`
	MinSamples         int     `json:"min_samples"` // 0 = MinClusterSize
	Epsilon            float64 `json:"cluster_selection_epsilon,omitempty"`
	Alpha              float64 `json:"alpha,omitempty"`                    // 0 = 1
	Method             string  `json:"cluster_selection_method,omitempty"` // eom or leaf; "" = eom
	AllowSingleCluster bool    `json:"allow_single_cluster,omitempty"`
	MaxClusterSize     int     `json:"max_cluster_size,omitempty"` // 0 = no limit
	Metric             string  `json:"metric,omitempty"`           // euclidean or cosine; "" = euclidean
	// Search is HDBSCAN's neighbour search: auto, exact or approximate
	// ("" = auto); the approximate search is seeded with Seed.
	Search string `json:"neighbor_search,omitempty"`

	// K-means.
	K               int     `json:"k"`                 // 0 = ceil(n / ItemsPerCluster)
	ItemsPerCluster int     `json:"items_per_cluster"` // Kura's rule when K is 0
	NInit           int     `json:"n_init,omitempty"`
	MaxIter         int     `json:"max_iter,omitempty"`
	Tol             float64 `json:"tol,omitempty"`
	MiniBatch       int     `json:"mini_batch,omitempty"` // 0 = full-batch Lloyd
	// Seed seeds K-means and HDBSCAN's approximate neighbour search.
	Seed int64 `json:"seed"`

	// Reduce is the reduction applied to the vectors before clustering; the
	// zero value (Method "") means none, as does reduce.MethodNone. It is
	// seeded with Seed (Reduce.Seed is ignored); see ReduceSpec.
	Reduce reduce.Spec `json:"reduce,omitzero"`
}

// DefaultSpec is HDBSCAN with the Python Kura library's settings
// (min_cluster_size 10), and for K-means Kura's k = ceil(n/10), one
// k-means++ start of at most 300 Lloyd iterations; seed 42.
func DefaultSpec() Spec {
	return Spec{Algorithm: "hdbscan", MinClusterSize: hdbscan.DefaultParams().MinClusterSize,
		ItemsPerCluster: 10, NInit: 1, MaxIter: 300, Tol: 1e-4, Seed: 42}
}

// ErrInvalid is matched (errors.Is) by the errors of a wrong Spec: the
// caller's to fix.
var ErrInvalid = errors.New("invalid clusterer settings")

type invalidError struct{ err error }

func (e *invalidError) Error() string        { return e.err.Error() }
func (e *invalidError) Unwrap() error        { return e.err }
func (e *invalidError) Is(target error) bool { return target == ErrInvalid }

func invalidf(format string, a ...any) error { return &invalidError{fmt.Errorf(format, a...)} }

// Reduces reports whether s reduces the vectors before clustering.
func (s Spec) Reduces() bool { return s.Reduce.Method != "" && s.Reduce.Method != reduce.MethodNone }

// ReduceSpec returns the reduction to run before clustering, seeded with
// s.Seed: reduce.MethodNone when s has none.
func (s Spec) ReduceSpec() reduce.Spec {
	if !s.Reduces() {
		return reduce.Spec{Method: reduce.MethodNone}
	}
	r := s.Reduce
	r.Seed = uint64(s.Seed)
	return r
}

// Validate checks the reduction, the algorithm and its parameters.
func (s Spec) Validate() error {
	if err := s.ReduceSpec().Validate(); err != nil {
		return &invalidError{err}
	}
	switch s.Algorithm {
	case "hdbscan":
		if s.MinClusterSize < 2 {
			return invalidf("min cluster size %d: must be at least 2", s.MinClusterSize)
		}
		if s.MinSamples < 0 {
			return invalidf("min samples %d: must be at least 1 (0 = min cluster size)", s.MinSamples)
		}
		if err := s.HDBSCAN().Validate(); err != nil {
			return &invalidError{err}
		}
	case "kmeans":
		if s.K < 0 {
			return invalidf("k %d: must be positive (0 = ceil(n / items per cluster))", s.K)
		}
		if s.K == 0 && s.ItemsPerCluster < 1 {
			return invalidf("items per cluster %d: must be at least 1", s.ItemsPerCluster)
		}
	default:
		return invalidf("clusterer %q: want hdbscan or kmeans", s.Algorithm)
	}
	return nil
}

// Name describes the clusterer, e.g. "hdbscan(min_cluster_size=10,min_samples=10)",
// after the reduction when there is one ("umap:5 + hdbscan(...)").
func (s Spec) Name() string {
	if s.Reduces() {
		return s.Reduce.String() + " + " + s.clustererName()
	}
	return s.clustererName()
}

func (s Spec) clustererName() string {
	if s.Algorithm == "kmeans" {
		if s.K > 0 {
			return fmt.Sprintf("kmeans(k=%d)", s.K)
		}
		return fmt.Sprintf("kmeans(k=ceil(n/%d))", s.ItemsPerCluster)
	}
	ms := s.MinSamples
	if ms == 0 {
		ms = s.MinClusterSize
	}
	return fmt.Sprintf("hdbscan(min_cluster_size=%d,min_samples=%d)", s.MinClusterSize, ms)
}

// HDBSCAN returns the HDBSCAN parameters of s.
func (s Spec) HDBSCAN() hdbscan.Params {
	p := hdbscan.DefaultParams()
	p.MinClusterSize, p.MinSamples = s.MinClusterSize, s.MinSamples
	if p.MinSamples == 0 {
		p.MinSamples = s.MinClusterSize
	}
	p.Epsilon, p.AllowSingleCluster, p.MaxClusterSize = s.Epsilon, s.AllowSingleCluster, s.MaxClusterSize
	if s.Alpha != 0 {
		p.Alpha = s.Alpha
	}
	if s.Method != "" {
		p.Method = s.Method
	}
	if s.Metric != "" {
		p.Metric = s.Metric
	}
	if s.Search != "" {
		p.Search = s.Search
	}
	p.Seed = uint64(s.Seed)
	return p
}

// KMeans returns the K-means parameters of s for n points.
func (s Spec) KMeans(n int) kmeans.Params {
	k := s.K
	if k == 0 {
		k = kmeans.KForItems(n, s.ItemsPerCluster)
	}
	return kmeans.Params{K: k, NInit: s.NInit, MaxIter: s.MaxIter, Tol: s.Tol, MiniBatch: s.MiniBatch, Seed: uint64(s.Seed)}
}

// Result is a clustering: a label per point (-1 = noise), and the full
// result of the algorithm that ran.
type Result struct {
	Labels  []int
	HDBSCAN *hdbscan.Result // when the algorithm was hdbscan
	KMeans  *kmeans.Result  // when it was kmeans
}

// Run clusters n points of d dimensions (row-major x) as s says: the
// reduction first, when s has one, then the clusterer on its output.
func Run(ctx context.Context, s Spec, x []float32, n, d int) (*Result, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if s.Reduces() {
		var err error
		if x, d, err = s.ReduceSpec().Apply(ctx, x, n, d); err != nil {
			return nil, fmt.Errorf("reduce (%s): %w", s.Reduce, err)
		}
	}
	switch s.Algorithm {
	case "hdbscan":
		r, err := hdbscan.Cluster(ctx, x, n, d, s.HDBSCAN())
		if err != nil {
			return nil, err
		}
		return &Result{Labels: r.Labels, HDBSCAN: r}, nil
	default:
		r, err := kmeans.Cluster(ctx, x, n, d, s.KMeans(n))
		if err != nil {
			return nil, err
		}
		return &Result{Labels: r.Labels, KMeans: r}, nil
	}
}
