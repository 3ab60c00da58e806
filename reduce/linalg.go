package reduce

import (
	"context"
	"math"

	"github.com/kura-go/kura/internal/parallel"
)

// Dense helpers for tall, skinny float64 blocks stored row-major (n rows of
// b values): the subspaces of the spectral initialisation and of the
// randomised SVD. Sums over rows are taken in fixed chunks and combined in
// chunk order, so results do not depend on the number of workers.

const rowChunk = 4096

// gram returns the b×b matrix xᵀy of two n×b blocks (row-major).
func gram(ctx context.Context, x, y []float64, n, b, workers int) ([]float64, error) {
	chunks := (n + rowChunk - 1) / rowChunk
	part := make([]float64, chunks*b*b)
	err := parallel.For(ctx, n, rowChunk, workers, func(_, lo, hi int) {
		acc := part[(lo/rowChunk)*b*b:][:b*b]
		for r := lo; r < hi; r++ {
			xr, yr := x[r*b:(r+1)*b], y[r*b:(r+1)*b]
			for i, xv := range xr {
				if xv == 0 {
					continue
				}
				row := acc[i*b : (i+1)*b]
				for j, yv := range yr {
					row[j] += xv * yv
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]float64, b*b)
	for c := range chunks {
		for i, v := range part[c*b*b : (c+1)*b*b] {
			out[i] += v
		}
	}
	return out, nil
}

// mulSmall sets dst = x·m for an n×b block x and a b×c matrix m; dst (n×c)
// must not overlap x.
func mulSmall(ctx context.Context, dst, x []float64, n, b int, m []float64, c, workers int) error {
	return parallel.For(ctx, n, rowChunk, workers, func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			xr, dr := x[r*b:(r+1)*b], dst[r*c:(r+1)*c]
			clear(dr)
			for i, xv := range xr {
				if xv == 0 {
					continue
				}
				for j, mv := range m[i*c : (i+1)*c] {
					dr[j] += xv * mv
				}
			}
		}
	})
}

// orthonormalize replaces the columns of the n×b block x by an orthonormal
// basis of their span, column by column (classical Gram–Schmidt, applied
// twice for stability). A column that is (numerically) a combination of the
// ones before it becomes zero; the number of non-zero columns is returned.
func orthonormalize(ctx context.Context, x []float64, n, b, workers int) (int, error) {
	chunks := (n + rowChunk - 1) / rowChunk
	part := make([]float64, chunks*(b+1))
	rank := 0
	for j := range b {
		// Squared norm before projection, to detect dependence.
		var before float64
		for r := range n {
			v := x[r*b+j]
			before += v * v
		}
		for pass := 0; pass < 2 && j > 0; pass++ {
			clear(part)
			err := parallel.For(ctx, n, rowChunk, workers, func(_, lo, hi int) {
				acc := part[(lo/rowChunk)*(b+1):][:j]
				for r := lo; r < hi; r++ {
					xr := x[r*b : (r+1)*b]
					v := xr[j]
					for c := range j {
						acc[c] += xr[c] * v
					}
				}
			})
			if err != nil {
				return 0, err
			}
			coef := make([]float64, j)
			for c := range chunks {
				for i := range j {
					coef[i] += part[c*(b+1)+i]
				}
			}
			err = parallel.For(ctx, n, rowChunk, workers, func(_, lo, hi int) {
				for r := lo; r < hi; r++ {
					xr := x[r*b : (r+1)*b]
					s := 0.0
					for c, cv := range coef {
						s += cv * xr[c]
					}
					xr[j] -= s
				}
			})
			if err != nil {
				return 0, err
			}
		}
		var nrm float64
		for r := range n {
			v := x[r*b+j]
			nrm += v * v
		}
		if nrm <= 1e-20*before || nrm == 0 || math.IsNaN(nrm) {
			for r := range n {
				x[r*b+j] = 0
			}
			continue
		}
		inv := 1 / math.Sqrt(nrm)
		for r := range n {
			x[r*b+j] *= inv
		}
		rank++
	}
	return rank, ctx.Err()
}
