package reduce

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/kura-go/kura/knn"
)

// ErrInvalidInput marks errors caused by the caller's data or parameters.
var ErrInvalidInput = errors.New("reduce: invalid input")

// Initialisations of the UMAP layout.
const (
	InitSpectral = "spectral"
	InitPCA      = "pca"
	InitRandom   = "random"
)

// UMAPParams configures UMAP. The defaults are umap-learn's.
type UMAPParams struct {
	// NNeighbors is the size of the local neighbourhood, counting the point
	// itself as umap-learn does (15): the k-NN graph has NNeighbors−1
	// neighbours per point.
	NNeighbors int
	// MinDist is the smallest distance between embedded points (0.1) and
	// Spread the scale of the embedded points (1).
	MinDist, Spread float64
	// NComponents is the output dimension (2 by default; 1 to 64).
	NComponents int
	// Metric is the input-space distance (Euclidean or Cosine).
	Metric knn.Metric
	// Epochs is the number of SGD epochs; 0 chooses as umap-learn does: 500
	// if n ≤ 10,000, else 200.
	Epochs int
	// NegativeSampleRate is the number of negative samples per positive
	// sample (5); RepulsionStrength weighs them (1); LearningRate is the
	// initial SGD step (1).
	NegativeSampleRate int
	RepulsionStrength  float64
	LearningRate       float64
	// Init is the initial layout: InitSpectral (default), InitPCA or
	// InitRandom. Spectral falls back to PCA when the k-NN graph is not
	// connected, when n exceeds SpectralMaxN, or when the eigensolver does
	// not converge (logged at debug level).
	Init string
	// SpectralMaxN is the largest n for the spectral initialisation
	// (0 means 2,000,000); PCA initialises larger inputs.
	SpectralMaxN int
	// ExactKNN computes the k-NN graph by brute force (O(n²)) instead of
	// NN-descent.
	ExactKNN bool
	// Seed makes the result reproducible; Workers bounds the goroutines
	// (0 means GOMAXPROCS). The result depends on Seed, not on Workers.
	Seed    uint64
	Workers int
	// Progress, if set, is called after every SGD epoch with the number of
	// epochs done and the total.
	Progress func(done, total int)
}

// DefaultUMAPParams returns umap-learn's defaults (n_neighbors 15, min_dist
// 0.1, spread 1, 2 components, euclidean, negative_sample_rate 5,
// learning_rate 1, repulsion_strength 1, spectral initialisation), seed 42.
func DefaultUMAPParams() UMAPParams {
	return UMAPParams{
		NNeighbors:         15,
		MinDist:            0.1,
		Spread:             1,
		NComponents:        2,
		Metric:             knn.Euclidean,
		NegativeSampleRate: 5,
		RepulsionStrength:  1,
		LearningRate:       1,
		Init:               InitSpectral,
		Seed:               42,
	}
}

// Validate reports the first invalid parameter, wrapping ErrInvalidInput.
func (p UMAPParams) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: UMAP "+format, append([]any{ErrInvalidInput}, a...)...)
	}
	switch {
	case p.NNeighbors < 2:
		return bad("NNeighbors must be at least 2, not %d", p.NNeighbors)
	case p.NComponents < 1 || p.NComponents > maxDims:
		return bad("NComponents must be between 1 and %d, not %d", maxDims, p.NComponents)
	case !(p.Spread > 0) || math.IsInf(p.Spread, 0):
		return bad("Spread must be positive, not %g", p.Spread)
	case !(p.MinDist >= 0) || p.MinDist > p.Spread:
		return bad("MinDist must be between 0 and Spread (%g), not %g", p.Spread, p.MinDist)
	case p.Metric != knn.Euclidean && p.Metric != knn.Cosine:
		return bad("unknown metric %v", p.Metric)
	case p.Epochs < 0:
		return bad("Epochs must not be negative, not %d", p.Epochs)
	case p.NegativeSampleRate < 0:
		return bad("NegativeSampleRate must not be negative, not %d", p.NegativeSampleRate)
	case !(p.LearningRate > 0):
		return bad("LearningRate must be positive, not %g", p.LearningRate)
	case !(p.RepulsionStrength >= 0):
		return bad("RepulsionStrength must not be negative, not %g", p.RepulsionStrength)
	case p.Init != "" && p.Init != InitSpectral && p.Init != InitPCA && p.Init != InitRandom:
		return bad("Init must be spectral, pca or random, not %q", p.Init)
	}
	return nil
}

// UMAP embeds the n rows of the row-major n×d matrix x in NComponents
// dimensions as umap-learn does (McInnes, Healy and Melville 2018); see the
// package documentation for the steps and where they differ. It returns the
// n×NComponents embedding, row-major. x is only read (it may be memory-mapped).
func UMAP(ctx context.Context, x []float32, n, d int, p UMAPParams) ([]float32, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if err := checkMatrix(x, n, d); err != nil {
		return nil, err
	}
	workers := workerCount(p.Workers)
	dim := p.NComponents
	if n == 1 {
		return make([]float32, dim), nil
	}
	k := min(p.NNeighbors-1, n-1)
	t0 := time.Now()
	g, err := knn.Build(ctx, x, n, d, knn.Params{K: k, Metric: p.Metric, Seed: p.Seed, Workers: workers, Exact: p.ExactKNN})
	if err != nil {
		return nil, fmt.Errorf("reduce: k-NN graph: %w", err)
	}
	slog.Debug("umap: k-NN graph", "n", n, "k", g.K, "seconds", time.Since(t0).Seconds())
	return layoutFromNeighbours(ctx, &neighbours{n: n, k: g.K, idx: g.Index, dist: g.Dist}, x, d, p, workers)
}

// layoutFromNeighbours runs everything after the k-NN graph.
func layoutFromNeighbours(ctx context.Context, nb *neighbours, x []float32, d int, p UMAPParams, workers int) ([]float32, error) {
	n, dim := nb.n, p.NComponents
	t0 := time.Now()
	fs, err := fuzzySet(ctx, nb, workers)
	if err != nil {
		return nil, err
	}
	epochs := p.Epochs
	if epochs == 0 {
		epochs = 200
		if n <= 10000 {
			epochs = 500
		}
	}
	fs.prune(epochs)
	slog.Debug("umap: fuzzy simplicial set", "edges", fs.nnz(), "seconds", time.Since(t0).Seconds())
	t0 = time.Now()
	emb, err := initialLayout(ctx, fs, x, d, p, workers)
	if err != nil {
		return nil, err
	}
	slog.Debug("umap: initial layout", "seconds", time.Since(t0).Seconds())
	t0 = time.Now()
	a, b, err := findAB(p.Spread, p.MinDist)
	if err != nil {
		return nil, err
	}
	lp := layout{
		a: a, b: b, epochs: epochs, negRate: p.NegativeSampleRate,
		gamma: p.RepulsionStrength, alpha0: p.LearningRate, seed: p.Seed, workers: workers,
	}
	if p.Progress != nil {
		lp.onEpoch = func(e int) { p.Progress(e+1, epochs) }
	}
	if err := optimize(ctx, fs, emb, dim, lp); err != nil {
		return nil, err
	}
	slog.Debug("umap: SGD", "epochs", epochs, "seconds", time.Since(t0).Seconds())
	return emb, nil
}

// initialLayout returns the starting positions, each coordinate scaled to
// [0, 10] as umap-learn does before the SGD.
func initialLayout(ctx context.Context, g *graph, x []float32, d int, p UMAPParams, workers int) ([]float32, error) {
	n, dim := g.n, p.NComponents
	rng := rand.New(rand.NewPCG(p.Seed, 0x1417))
	emb := make([]float32, n*dim)
	init := p.Init
	if init == "" {
		init = InitSpectral
	}
	maxN := p.SpectralMaxN
	if maxN == 0 {
		maxN = 2_000_000
	}
	if init == InitSpectral {
		reason := ""
		switch c := g.components(); {
		case n > maxN:
			reason = fmt.Sprintf("n = %d is above SpectralMaxN %d", n, maxN)
		case c > 1:
			reason = fmt.Sprintf("the k-NN graph has %d connected components", c)
		default:
			vec, ok, err := spectralLayout(ctx, g, dim, p.Seed, workers)
			if err != nil {
				return nil, err
			}
			if ok {
				noisyScale(emb, vec, rng)
				break
			}
			reason = "the eigensolver did not converge"
		}
		if reason != "" {
			slog.Debug("umap: spectral initialisation replaced by PCA", "reason", reason)
			init = InitPCA
		}
	}
	switch init {
	case InitPCA:
		if dim > min(n, d) {
			init = InitRandom
			break
		}
		pc, err := PCA(ctx, x, n, d, PCAParams{NComponents: dim, Seed: p.Seed, Workers: workers})
		if err != nil {
			return nil, err
		}
		v := make([]float64, len(pc))
		for i, f := range pc {
			v[i] = float64(f)
		}
		noisyScale(emb, v, rng)
	}
	if init == InitRandom {
		for i := range emb {
			emb[i] = float32(rng.Float64()*20 - 10)
		}
	}
	// umap-learn: each coordinate scaled to [0, 10].
	for c := range dim {
		lo, hi := math.Inf(1), math.Inf(-1)
		for r := range n {
			v := float64(emb[r*dim+c])
			lo, hi = min(lo, v), max(hi, v)
		}
		s := 0.0
		if hi > lo {
			s = 10 / (hi - lo)
		}
		for r := range n {
			emb[r*dim+c] = float32((float64(emb[r*dim+c]) - lo) * s)
		}
	}
	return emb, ctx.Err()
}

// noisyScale sets dst to src scaled so that its largest magnitude is 10,
// plus Gaussian noise of standard deviation 0.0001 (umap-learn's treatment
// of spectral and PCA initialisations).
func noisyScale(dst []float32, src []float64, rng *rand.Rand) {
	big := 0.0
	for _, v := range src {
		big = max(big, math.Abs(v))
	}
	s := 0.0
	if big > 0 {
		s = 10 / big
	}
	for i, v := range src {
		dst[i] = float32(v*s) + float32(rng.NormFloat64()*1e-4)
	}
}

// checkMatrix checks the shape and values of an input matrix.
func checkMatrix(x []float32, n, d int) error {
	if n < 1 || d < 1 {
		return fmt.Errorf("%w: need at least one row and one column, got %d×%d", ErrInvalidInput, n, d)
	}
	if len(x) != n*d {
		return fmt.Errorf("%w: data has %d values, not n·d = %d·%d", ErrInvalidInput, len(x), n, d)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: row %d, column %d is %v", ErrInvalidInput, i/d, i%d, v)
		}
	}
	return nil
}

func workerCount(w int) int {
	if w <= 0 {
		return runtime.GOMAXPROCS(0)
	}
	return w
}
