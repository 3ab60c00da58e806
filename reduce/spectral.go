package reduce

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/kura-go/kura/internal/parallel"
	"gonum.org/v1/gonum/mat"
)

// components returns the number of connected components of g.
func (g *graph) components() int {
	parent := make([]int32, g.n)
	for i := range parent {
		parent[i] = int32(i)
	}
	var find func(int32) int32
	find = func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	c := g.n
	for i := range g.n {
		for _, j := range g.col[g.start[i]:g.start[i+1]] {
			a, b := find(int32(i)), find(j)
			if a != b {
				parent[a] = b
				c--
			}
		}
	}
	return c
}

// spectralLayout returns the eigenvectors 2..dim+1 (n×dim, row-major) of the
// normalised Laplacian I − D^−½·W·D^−½ of the connected graph g, as
// umap-learn's spectral_layout does (its eigsh with tolerance 1e-4). They are
// the leading eigenvectors of M = D^−½·W·D^−½ after the trivial one
// (D^½·1, eigenvalue 1), found by Chebyshev-filtered subspace iteration with
// Rayleigh–Ritz steps (Zhou and Saad, 2007) on a block of dim+6 vectors kept
// orthogonal to the trivial one. ok is false if the iteration did not
// converge within its budget; the caller then falls back to another
// initialisation.
func spectralLayout(ctx context.Context, g *graph, dim int, seed uint64, workers int) (emb []float64, ok bool, err error) {
	n := g.n
	const (
		degree   = 10   // Chebyshev filter degree
		maxOuter = 60   // filter + Rayleigh–Ritz rounds
		tol      = 1e-4 // residual ‖Mq − θq‖ of the wanted pairs
	)
	b := dim + 6
	if b >= n-1 {
		return nil, false, nil
	}
	dinv := make([]float64, n)
	v0 := make([]float64, n)
	var vn float64
	for i := range n {
		var s float64
		for _, w := range g.w[g.start[i]:g.start[i+1]] {
			s += float64(w)
		}
		if s <= 0 {
			return nil, false, nil
		}
		dinv[i] = 1 / math.Sqrt(s)
		v0[i] = math.Sqrt(s)
		vn += s
	}
	vn = math.Sqrt(vn)
	for i := range v0 {
		v0[i] /= vn
	}
	// deflate removes the trivial eigenvector's component from every column.
	deflate := func(x []float64) error {
		c, err := gramVec(ctx, v0, x, n, b, workers)
		if err != nil {
			return err
		}
		return parallel.For(ctx, n, rowChunk, workers, func(_, lo, hi int) {
			for r := lo; r < hi; r++ {
				xr := x[r*b : (r+1)*b]
				for j := range xr {
					xr[j] -= c[j] * v0[r]
				}
			}
		})
	}
	// apply sets y = (M·x − shift·x)·scale.
	apply := func(y, x []float64, shift, scale float64) error {
		return parallel.For(ctx, n, 1024, workers, func(_, lo, hi int) {
			for r := lo; r < hi; r++ {
				yr := y[r*b : (r+1)*b]
				clear(yr)
				for p := g.start[r]; p < g.start[r+1]; p++ {
					c := int(g.col[p])
					w := float64(g.w[p]) * dinv[c]
					xc := x[c*b : (c+1)*b]
					for j, v := range xc {
						yr[j] += w * v
					}
				}
				xr := x[r*b : (r+1)*b]
				for j := range yr {
					yr[j] = (yr[j]*dinv[r] - shift*xr[j]) * scale
				}
			}
		})
	}

	rng := rand.New(rand.NewPCG(seed, 0x5eed_5bec))
	x := make([]float64, n*b)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	y := make([]float64, n*b)
	z := make([]float64, n*b)
	if err := deflate(x); err != nil {
		return nil, false, err
	}
	if _, err := orthonormalize(ctx, x, n, b, workers); err != nil {
		return nil, false, err
	}
	// Rayleigh–Ritz on the current basis x: rotate x to the Ritz vectors
	// (largest Ritz value first) and report the values and the largest
	// residual among the wanted ones.
	theta := make([]float64, b)
	rayleighRitz := func() (float64, error) {
		if err := apply(y, x, 0, 1); err != nil {
			return 0, err
		}
		h, err := gram(ctx, x, y, n, b, workers)
		if err != nil {
			return 0, err
		}
		hs := mat.NewSymDense(b, nil)
		for i := range b {
			for j := i; j < b; j++ {
				hs.SetSym(i, j, (h[i*b+j]+h[j*b+i])/2)
			}
		}
		var es mat.EigenSym
		if !es.Factorize(hs, true) {
			return math.Inf(1), nil
		}
		vals := es.Values(nil)
		var vecs mat.Dense
		es.VectorsTo(&vecs)
		order := make([]int, b)
		for i := range order {
			order[i] = i
		}
		sort.SliceStable(order, func(i, j int) bool { return vals[order[i]] > vals[order[j]] })
		rot := make([]float64, b*b)
		for c, o := range order {
			theta[c] = vals[o]
			for r := range b {
				rot[r*b+c] = vecs.At(r, o)
			}
		}
		if err := mulSmall(ctx, z, x, n, b, rot, b, workers); err != nil {
			return 0, err
		}
		x, z = z, x
		if err := mulSmall(ctx, z, y, n, b, rot, b, workers); err != nil {
			return 0, err
		}
		// z = M·x for the rotated x: residuals of the wanted pairs.
		res := make([]float64, dim)
		for r := range n {
			for j := range dim {
				d := z[r*b+j] - theta[j]*x[r*b+j]
				res[j] += d * d
			}
		}
		worst := 0.0
		for _, v := range res {
			worst = max(worst, math.Sqrt(v))
		}
		return worst, nil
	}
	worst, err := rayleighRitz()
	if err != nil {
		return nil, false, err
	}
	for outer := 0; outer < maxOuter && worst > tol; outer++ {
		// Filter: damp the spectrum below the smallest Ritz value of the
		// block (an estimate of the unwanted part) down to −1, amplify above.
		cut := min(theta[b-1], 0.999)
		e := (cut + 1) / 2
		center := (cut - 1) / 2
		// Chebyshev recurrence: x0 = x, x1 = (M − c)x/e, x_{k+1} = 2(M − c)x_k/e − x_{k−1}.
		prev := x
		cur := y
		if err := apply(cur, prev, center, 1/e); err != nil {
			return nil, false, err
		}
		for range degree - 1 {
			if err := apply(z, cur, center, 2/e); err != nil {
				return nil, false, err
			}
			for i := range z {
				z[i] -= prev[i]
			}
			prev, cur, z = cur, z, prev
		}
		// cur holds the filtered block; make it x, keeping three distinct buffers.
		x, y = cur, prev
		if err := deflate(x); err != nil {
			return nil, false, err
		}
		if _, err := orthonormalize(ctx, x, n, b, workers); err != nil {
			return nil, false, err
		}
		if worst, err = rayleighRitz(); err != nil {
			return nil, false, err
		}
	}
	if worst > tol {
		return nil, false, nil
	}
	emb = make([]float64, n*dim)
	for r := range n {
		copy(emb[r*dim:(r+1)*dim], x[r*b:r*b+dim])
	}
	return emb, true, nil
}

// gramVec returns vᵀx for a vector v (length n) and an n×b block x.
func gramVec(ctx context.Context, v, x []float64, n, b, workers int) ([]float64, error) {
	chunks := (n + rowChunk - 1) / rowChunk
	part := make([]float64, chunks*b)
	err := parallel.For(ctx, n, rowChunk, workers, func(_, lo, hi int) {
		acc := part[(lo/rowChunk)*b:][:b]
		for r := lo; r < hi; r++ {
			for j, xv := range x[r*b : (r+1)*b] {
				acc[j] += v[r] * xv
			}
		}
	})
	out := make([]float64, b)
	for c := range chunks {
		for j := range b {
			out[j] += part[c*b+j]
		}
	}
	return out, err
}
