package knn

import (
	"context"

	"github.com/kura-go/kura/internal/f32"
	"github.com/kura-go/kura/internal/parallel"
)

// exactQueryRows is the number of query rows a task compares at once with
// each tile of the data.
const exactQueryRows = 64

// exact fills g by comparing every pair of rows: blocks of query rows in
// parallel, each against the whole data in tiles (f32.SqDistBlock for
// Euclidean, a GEMM of dot products for Cosine).
func (s *space) exact(ctx context.Context, g *Graph, workers int) error {
	k, d := g.K, s.d
	h := newHeaps(s.n, k, false)
	tile := max(32, min(512, (64<<10)/d))
	bufs := make([][]float32, workers)
	err := parallel.For(ctx, s.n, exactQueryRows, workers, func(w, lo, hi int) {
		if bufs[w] == nil {
			bufs[w] = make([]float32, exactQueryRows*tile)
		}
		buf := bufs[w]
		qn := hi - lo
		q := s.x[lo*d : hi*d]
		for t0 := 0; t0 < s.n; t0 += tile {
			if ctx.Err() != nil {
				return
			}
			t1 := min(s.n, t0+tile)
			tn := t1 - t0
			if s.metric == Euclidean {
				f32.SqDistBlock(buf, q, qn, s.x[t0*d:t1*d], tn, d)
			} else {
				f32.GemmWorkers(1, false, true, qn, tn, d, 1, q, d, s.x[t0*d:t1*d], d, 0, buf, tn)
			}
			for a := range qn {
				i := lo + a
				row := buf[a*tn : (a+1)*tn]
				thr := h.threshold(i)
				for b, v := range row {
					j := t0 + b
					if s.metric == Cosine {
						v = s.cosine(v, i, j)
					}
					if v > thr || j == i {
						continue
					}
					if h.push(i, int32(j), v, false) {
						thr = h.threshold(i)
					}
				}
			}
		}
	})
	if err != nil {
		return err
	}
	s.finish(g, h)
	return nil
}

// finish sorts every heap and hands its arrays to g, the scores turned
// into distances in place (no second n×K copy).
func (s *space) finish(g *Graph, h *heaps) {
	k := g.K
	for i := range s.n {
		h.sortRow(i)
		for e := i * k; e < (i+1)*k; e++ {
			h.score[e] = s.distance(h.score[e])
		}
	}
	g.Index, g.Dist = h.idx, h.score
	h.idx, h.score, h.isNew = nil, nil, nil
}
