package reduce

import (
	"context"
	"fmt"

	"github.com/kura-go/kura/knn"
)

// Methods of reduction, as the command line names them.
const (
	MethodUMAP = "umap"
	MethodPCA  = "pca"
	MethodNone = "none"
)

// Spec is a reduction chosen by name and dimension, as `kura reduce`,
// `kura cluster --reduce` and the load test take it. The zero Spec is not
// valid; see DefaultSpec. It is a plain value in JSON (the load test sends
// it to its workers inside cluster.Spec); Workers and Progress stay local.
type Spec struct {
	// Method is MethodUMAP, MethodPCA or MethodNone (vectors unchanged).
	Method string `json:"method"`
	// Dims is the output dimension (UMAP: 1 to 64; PCA: at least 1 and at
	// most the input's). Ignored by MethodNone.
	Dims int `json:"dims,omitempty"`
	// Metric is UMAP's input-space distance.
	Metric knn.Metric `json:"metric"`
	// NNeighbors is UMAP's n_neighbors (0 means umap-learn's 15). Larger
	// values keep more of the global structure: see docs/reduce.md for the
	// value to use before clustering.
	NNeighbors int `json:"n_neighbors,omitempty"`
	// Seed and Workers as in UMAPParams; the result depends on Seed only.
	Seed    uint64 `json:"seed"`
	Workers int    `json:"-"`
	// Progress, if set, reports UMAP's SGD epochs (see UMAPParams.Progress).
	Progress func(done, total int) `json:"-"`
}

// DefaultSpec returns UMAP to 5 dimensions (BERTopic's choice before
// HDBSCAN), euclidean, seed 42.
func DefaultSpec() Spec { return Spec{Method: MethodUMAP, Dims: 5, Seed: 42} }

// Validate reports an unknown method or an impossible dimension, wrapping
// ErrInvalidInput. The input's own dimension is checked by Apply.
func (s Spec) Validate() error {
	switch s.Method {
	case MethodNone:
		return nil
	case MethodUMAP:
		if s.Dims < 1 || s.Dims > maxDims {
			return fmt.Errorf("%w: UMAP dimension must be between 1 and %d, not %d", ErrInvalidInput, maxDims, s.Dims)
		}
		if s.NNeighbors < 0 || s.NNeighbors == 1 {
			return fmt.Errorf("%w: UMAP n_neighbors must be at least 2 (0 = 15), not %d", ErrInvalidInput, s.NNeighbors)
		}
		if s.Metric != knn.Euclidean && s.Metric != knn.Cosine {
			return fmt.Errorf("%w: unknown metric %v", ErrInvalidInput, s.Metric)
		}
	case MethodPCA:
		if s.Dims < 1 {
			return fmt.Errorf("%w: PCA dimension must be at least 1, not %d", ErrInvalidInput, s.Dims)
		}
	default:
		return fmt.Errorf("%w: reduction method must be umap, pca or none, not %q", ErrInvalidInput, s.Method)
	}
	return nil
}

// String describes the spec ("umap:5", "pca:10", "none").
func (s Spec) String() string {
	if s.Method == MethodNone {
		return MethodNone
	}
	return fmt.Sprintf("%s:%d", s.Method, s.Dims)
}

// UMAPParams returns umap-learn's defaults with the spec's dimension,
// metric, n_neighbors, seed and workers.
func (s Spec) UMAPParams() UMAPParams {
	p := DefaultUMAPParams()
	p.NComponents, p.Metric, p.Seed, p.Workers, p.Progress = s.Dims, s.Metric, s.Seed, s.Workers, s.Progress
	if s.NNeighbors > 0 {
		p.NNeighbors = s.NNeighbors
	}
	return p
}

// Apply reduces the n×d row-major matrix x and returns the result and its
// dimension. MethodNone returns x itself.
func (s Spec) Apply(ctx context.Context, x []float32, n, d int) ([]float32, int, error) {
	if err := s.Validate(); err != nil {
		return nil, 0, err
	}
	switch s.Method {
	case MethodUMAP:
		out, err := UMAP(ctx, x, n, d, s.UMAPParams())
		return out, s.Dims, err
	case MethodPCA:
		out, err := PCA(ctx, x, n, d, PCAParams{NComponents: s.Dims, Seed: s.Seed, Workers: s.Workers})
		return out, s.Dims, err
	}
	return x, d, nil
}

// ParseMetric returns the metric named "euclidean" or "cosine".
func ParseMetric(name string) (knn.Metric, error) {
	switch name {
	case "euclidean":
		return knn.Euclidean, nil
	case "cosine":
		return knn.Cosine, nil
	}
	return 0, fmt.Errorf("%w: metric must be euclidean or cosine, not %q", ErrInvalidInput, name)
}
