package hdbscan

import (
	"context"
	"math"
	"slices"

	"github.com/kura-go/kura/internal/f32"
	"github.com/kura-go/kura/internal/parallel"
)

// The high-dimensional core-distance pass works on square tiles of the
// (never stored) distance matrix; a tile's squared distances are one
// f32.SqDistBlock call, which returns exactly the values of f32.SqDist (no
// |a|²+|b|²−2a·b shortcut), so every path sees the same distances.
const tile = 128

// tileSqDist fills out[r*nc+c] with the squared distance between rows
// r0+r and c0+c of x (nr rows, nc columns).
func tileSqDist(out []float32, x []float32, d, r0, nr, c0, nc int) {
	f32.SqDistBlock(out, x[r0*d:(r0+nr)*d], nr, x[c0*d:(c0+nc)*d], nc, d)
}

// knnSorted keeps the k smallest values seen, in ascending order.
type knnSorted struct {
	v []float32
	k int
}

func (h *knnSorted) push(v float32) {
	if len(h.v) < h.k {
		i, _ := slices.BinarySearch(h.v, v)
		h.v = slices.Insert(h.v, i, v)
		return
	}
	if v >= h.v[h.k-1] {
		return
	}
	i, _ := slices.BinarySearch(h.v, v)
	copy(h.v[i+1:], h.v[i:h.k-1])
	h.v[i] = v
}

// denseCore returns each point's core distance (distance to its k-th
// nearest other point) by a blocked brute-force pass over all pairs.
func denseCore(ctx context.Context, x []float32, n, d, k, workers int) ([]float64, error) {
	core := make([]float64, n)
	if k == 0 {
		return core, nil
	}
	nb := (n + tile - 1) / tile
	bufs := make([][]float32, workers)
	err := parallel.For(ctx, nb, 1, workers, func(w, bi, _ int) {
		if bufs[w] == nil {
			bufs[w] = make([]float32, tile*tile)
		}
		buf := bufs[w]
		r0 := bi * tile
		nr := min(tile, n-r0)
		heaps := make([]knnSorted, nr)
		for r := range heaps {
			heaps[r] = knnSorted{v: make([]float32, 0, k), k: k}
		}
		for c0 := 0; c0 < n; c0 += tile {
			nc := min(tile, n-c0)
			tileSqDist(buf, x, d, r0, nr, c0, nc)
			for r := 0; r < nr; r++ {
				h := &heaps[r]
				row := buf[r*nc : r*nc+nc]
				for c, v := range row {
					if c0+c == r0+r {
						continue
					}
					if len(h.v) < k || v < h.v[k-1] {
						h.push(v)
					}
				}
			}
		}
		for r := range heaps {
			core[r0+r] = math.Sqrt(float64(heaps[r].v[k-1]))
		}
	})
	return core, err
}

// computeMST computes core distances and the MST: with a KD-tree in low
// dimensions, by blocked brute force and Prim's algorithm on the fly
// otherwise. Both give the same tree.
func computeMST(ctx context.Context, x []float32, n, d, k int, alpha float64, workers int) ([]edge, error) {
	if d <= lowDimMax {
		return kdMST(ctx, x, n, d, k, alpha, workers)
	}
	core, err := denseCore(ctx, x, n, d, k, workers)
	if err != nil {
		return nil, err
	}
	return primMST(ctx, x, n, d, core, alpha, workers)
}
