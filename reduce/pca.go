package reduce

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/kura-go/kura/internal/f32"
	"github.com/kura-go/kura/internal/parallel"
	"gonum.org/v1/gonum/mat"
)

// PCAParams configures PCA.
type PCAParams struct {
	// NComponents is the output dimension (1 ≤ NComponents ≤ min(n, d)).
	NComponents int
	// Oversample is the number of extra random directions of the sketch
	// (Halko et al.'s p; 0 means 10).
	Oversample int
	// PowerIters is the number of power (subspace) iterations, which sharpen
	// the sketch when the spectrum decays slowly (0 means 4; −1 means none).
	PowerIters int
	// Seed seeds the random sketch.
	Seed uint64
	// Workers bounds the goroutines (0 means GOMAXPROCS).
	Workers int
}

// DefaultPCAParams returns PCA to 5 components with the defaults above.
func DefaultPCAParams() PCAParams { return PCAParams{NComponents: 5, Seed: 42} }

// PCA projects the n×d row-major matrix x onto its first NComponents
// principal components: the rows are centred (on the column means) and
// multiplied by the leading right singular vectors, found by randomised SVD
// (Halko, Martinsson and Tropp 2011, algorithms 4.4 and 5.1: a Gaussian
// sketch of NComponents+Oversample columns, PowerIters re-orthonormalised
// power iterations, then an exact SVD of the small projected matrix with
// gonum). Each component's sign is fixed as scikit-learn's svd_flip does:
// its largest-magnitude score is positive. The result is n×NComponents,
// row-major. x is only read (it may be memory-mapped); extra memory is
// O((n + d)·(NComponents + Oversample)).
func PCA(ctx context.Context, x []float32, n, d int, p PCAParams) ([]float32, error) {
	if err := checkMatrix(x, n, d); err != nil {
		return nil, err
	}
	k := p.NComponents
	if k < 1 || k > min(n, d) {
		return nil, fmt.Errorf("%w: PCA NComponents %d must be between 1 and min(n, d) = %d", ErrInvalidInput, k, min(n, d))
	}
	over := p.Oversample
	if over == 0 {
		over = 10
	}
	iters := p.PowerIters
	if iters == 0 {
		iters = 4
	}
	iters = max(iters, 0)
	workers := workerCount(p.Workers)
	l := min(k+over, min(n, d))

	mu, err := columnMeans(ctx, x, n, d, workers)
	if err != nil {
		return nil, err
	}
	mu32 := make([]float32, d)
	for j, v := range mu {
		mu32[j] = float32(v)
	}
	// Random d×l Gaussian sketch.
	rng := rand.New(rand.NewPCG(p.Seed, 0x9ca))
	omega := make([]float64, d*l)
	for i := range omega {
		omega[i] = rng.NormFloat64()
	}
	yq := make([]float64, n*l) // n×l: the range sketch, then its basis Q
	zd := make([]float64, d*l) // d×l: the co-range
	// mulRight sets yq = (x − 1·muᵀ)·m for a d×l matrix m.
	b32 := make([]float32, d*l)
	c32 := make([]float32, n*l)
	mulRight := func(m []float64) error {
		for i, v := range m {
			b32[i] = float32(v)
		}
		off := make([]float64, l)
		for j := range d {
			for c := range l {
				off[c] += mu[j] * m[j*l+c]
			}
		}
		f32.GemmWorkers(workers, false, false, n, l, d, 1, x, d, b32, l, 0, c32, l)
		return parallel.For(ctx, n, rowChunk, workers, func(_, lo, hi int) {
			for r := lo; r < hi; r++ {
				for c := range l {
					yq[r*l+c] = float64(c32[r*l+c]) - off[c]
				}
			}
		})
	}
	// mulLeft sets zd = (x − 1·muᵀ)ᵀ·yq.
	mulLeft := func() {
		for i, v := range yq {
			c32[i] = float32(v)
		}
		colSum := make([]float64, l)
		for r := range n {
			for c := range l {
				colSum[c] += yq[r*l+c]
			}
		}
		f32.GemmWorkers(workers, true, false, d, l, n, 1, x, d, c32, l, 0, b32, l)
		for j := range d {
			for c := range l {
				zd[j*l+c] = float64(b32[j*l+c]) - mu[j]*colSum[c]
			}
		}
	}
	if err := mulRight(omega); err != nil {
		return nil, err
	}
	for range iters {
		if _, err := orthonormalize(ctx, yq, n, l, workers); err != nil {
			return nil, err
		}
		mulLeft()
		if _, err := orthonormalize(ctx, zd, d, l, workers); err != nil {
			return nil, err
		}
		if err := mulRight(zd); err != nil {
			return nil, err
		}
	}
	if _, err := orthonormalize(ctx, yq, n, l, workers); err != nil {
		return nil, err
	}
	// B = Qᵀ(x − 1·muᵀ) is l×d; zd holds its transpose.
	mulLeft()
	bt := mat.NewDense(d, l, zd)
	var svd mat.SVD
	if !svd.Factorize(bt, mat.SVDThin) {
		return nil, errors.New("reduce: PCA: SVD of the projected matrix did not converge")
	}
	// Bᵀ = U·S·Vᵀ: the principal axes are the columns of U (d×l).
	var u mat.Dense
	svd.UTo(&u)
	axes := make([]float64, d*k)
	for j := range d {
		for c := range k {
			axes[j*k+c] = u.At(j, c)
		}
	}
	// Scores: (x − 1·muᵀ)·axes, through the float32 GEMM.
	a32 := make([]float32, d*k)
	off := make([]float64, k)
	for j := range d {
		for c := range k {
			a32[j*k+c] = float32(axes[j*k+c])
			off[c] += mu[j] * axes[j*k+c]
		}
	}
	out := make([]float32, n*k)
	f32.GemmWorkers(workers, false, false, n, k, d, 1, x, d, a32, k, 0, out, k)
	for c := range k {
		big, at := 0.0, 0
		for r := range n {
			v := float64(out[r*k+c]) - off[c]
			out[r*k+c] = float32(v)
			if math.Abs(v) > big {
				big, at = math.Abs(v), r
			}
		}
		if out[at*k+c] < 0 {
			for r := range n {
				out[r*k+c] = -out[r*k+c]
			}
		}
	}
	return out, ctx.Err()
}

// columnMeans returns the mean of each column of the n×d matrix x.
func columnMeans(ctx context.Context, x []float32, n, d, workers int) ([]float64, error) {
	chunks := (n + rowChunk - 1) / rowChunk
	part := make([]float64, chunks*d)
	err := parallel.For(ctx, n, rowChunk, workers, func(_, lo, hi int) {
		acc := part[(lo/rowChunk)*d:][:d]
		for r := lo; r < hi; r++ {
			for j, v := range x[r*d : (r+1)*d] {
				acc[j] += float64(v)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	mu := make([]float64, d)
	for c := range chunks {
		for j := range d {
			mu[j] += part[c*d+j]
		}
	}
	for j := range mu {
		mu[j] /= float64(n)
	}
	return mu, nil
}
