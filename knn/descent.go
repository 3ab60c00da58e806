package knn

import (
	"context"
	"math"

	"github.com/kura-go/kura/internal/f32"
	"github.com/kura-go/kura/internal/parallel"
)

// Work is split into tasks whose number and boundaries depend only on the
// data and the parameters, never on the number of workers; tasks run in
// parallel and their results are applied in task order, so the graph is the
// same for any number of workers.
const (
	joinTaskPoints = 16 // points per local-join task
	leafTaskPoints = 64
	// roundTasks is how many tasks' proposals are buffered before they are
	// applied. A round of a few hundred points bounds the buffers: with 64
	// tasks of 64 (local join) and 256 points (leaves), a round held up to
	// 16,384 points' proposals, ~600 MiB of the 1,355 MiB that the load
	// test's 100,000-conversation scale peaked at; a round of 256 points
	// took it to 644 MiB, with the same recall (knn_test) and the
	// clustering ~6% faster, since later tasks see the earlier ones' updates.
	roundTasks = 16
	ownerParts = 64 // target partitions the updates are applied by
)

type tuning struct {
	trees, leaf, cand, iters int
	delta                    float64
}

func defaults(n, k int, p Params) tuning {
	t := tuning{trees: p.Trees, leaf: p.LeafSize, cand: p.MaxCandidates, iters: p.Iterations, delta: p.Delta}
	if t.trees == 0 {
		t.trees = min(32, 5+int(math.Round(math.Sqrt(float64(n))/20)))
	}
	if t.leaf == 0 {
		t.leaf = min(256, max(30, 2*k))
	}
	t.leaf = max(t.leaf, 2)
	if t.cand == 0 {
		t.cand = min(60, max(2*k, 20))
	}
	if t.iters == 0 {
		t.iters = max(5, int(math.Round(math.Log2(float64(n)))))
	}
	if t.delta == 0 {
		t.delta = 0.001
	}
	return t
}

// descent fills g with an approximate k-NN graph: leaves of a
// random-projection forest give each point its first neighbours, then
// NN-descent (Dong, Moses & Li 2011, in pynndescent's form) repeatedly joins
// neighbours of neighbours until few entries change.
func (s *space) descent(ctx context.Context, g *Graph, workers int, p Params) error {
	t := defaults(s.n, g.K, p)
	h := newHeaps(s.n, g.K, true)
	j := newJoiner(s, h, workers)

	// Forest: build `workers` trees at a time, join their leaves in tree order.
	for t0 := 0; t0 < t.trees; t0 += workers {
		t1 := min(t.trees, t0+workers)
		forest := make([]*rpTree, t1-t0)
		err := parallel.For(ctx, len(forest), 1, workers, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				forest[i] = s.buildTree(p.Seed, t0+i, t.leaf)
			}
		})
		if err != nil {
			return err
		}
		for _, tr := range forest {
			if _, err := j.run(ctx, len(tr.tasks)-1, func(sc *scratch, task int, emit func(a, b int32, sc float32)) {
				for l := tr.tasks[task]; l < tr.tasks[task+1]; l++ {
					leaf := tr.perm[tr.leaves[l]:tr.leaves[l+1]]
					sc.pack(s, leaf)
					for x, a := range leaf {
						for c, v := range sc.scoresAfter(s, leaf, x) {
							emit(a, leaf[x+1+c], v)
						}
					}
				}
			}); err != nil {
				return err
			}
		}
	}
	if err := s.fillRandom(ctx, h, p.Seed, workers); err != nil {
		return err
	}

	c := newCandidates(s.n, t.cand)
	for it := range t.iters {
		if err := c.build(ctx, h, p.Seed, uint64(it), workers); err != nil {
			return err
		}
		tasks := (s.n + joinTaskPoints - 1) / joinTaskPoints
		changed, err := j.run(ctx, tasks, func(sc *scratch, task int, emit func(a, b int32, sc float32)) {
			for i := task * joinTaskPoints; i < min(s.n, (task+1)*joinTaskPoints); i++ {
				nw, old := c.list(c.newIdx, c.newLen, i), c.list(c.oldIdx, c.oldLen, i)
				if len(nw) == 0 {
					continue
				}
				// Both lists packed one after the other: row x of the new
				// list against the rows after it covers the later new
				// candidates and every old one.
				sc.ids = append(append(sc.ids[:0], nw...), old...)
				sc.pack(s, sc.ids)
				for x, a := range nw {
					scores := sc.scoresAfter(s, sc.ids, x)
					for c, b := range nw[x+1:] {
						emit(a, b, scores[c])
					}
					for c, b := range old {
						if a != b {
							emit(a, b, scores[len(nw)-1-x+c])
						}
					}
				}
			}
		})
		if err != nil {
			return err
		}
		if t.delta > 0 && float64(changed) <= t.delta*float64(s.n)*float64(g.K) {
			break
		}
	}
	s.finish(g, h)
	return nil
}

// update proposes other as a neighbour of target.
type update struct {
	target, other int32
	score         float32
}

// joiner runs tasks that propose pairs and applies the proposals to the
// heaps: a round of up to roundTasks tasks runs in parallel against a
// frozen graph, each task sorting its proposals into buckets by target
// partition; then the partitions are updated in parallel, each applying its
// buckets in task order.
type joiner struct {
	s       *space
	h       *heaps
	workers int
	scratch []scratch  // per worker
	buckets [][]update // [task in round][partition]
	part    int        // points per partition
	changed []int      // per partition
}

func newJoiner(s *space, h *heaps, workers int) *joiner {
	return &joiner{
		s: s, h: h, workers: workers,
		scratch: make([]scratch, workers),
		buckets: make([][]update, roundTasks*ownerParts),
		part:    (s.n + ownerParts - 1) / ownerParts,
		changed: make([]int, ownerParts),
	}
}

// run runs tasks 0..tasks-1 and returns the number of heap entries changed.
func (j *joiner) run(ctx context.Context, tasks int, gen func(sc *scratch, task int, emit func(a, b int32, sc float32))) (int, error) {
	h := j.h
	k := h.k
	total := 0
	for r0 := 0; r0 < tasks; r0 += roundTasks {
		r1 := min(tasks, r0+roundTasks)
		err := parallel.For(ctx, r1-r0, 1, j.workers, func(w, lo, hi int) {
			for t := lo; t < hi; t++ {
				b := j.buckets[t*ownerParts : (t+1)*ownerParts]
				for i := range b {
					b[i] = b[i][:0]
				}
				gen(&j.scratch[w], r0+t, func(x, y int32, sc float32) {
					if x == y {
						return
					}
					if above(h.score[int(x)*k], h.idx[int(x)*k], sc, y) {
						p := int(x) / j.part
						b[p] = append(b[p], update{x, y, sc})
					}
					if above(h.score[int(y)*k], h.idx[int(y)*k], sc, x) {
						p := int(y) / j.part
						b[p] = append(b[p], update{y, x, sc})
					}
				})
			}
		})
		if err != nil {
			return total, err
		}
		clear(j.changed)
		err = parallel.For(ctx, ownerParts, 1, j.workers, func(_, lo, hi int) {
			for p := lo; p < hi; p++ {
				c := 0
				for t := range r1 - r0 {
					for _, u := range j.buckets[t*ownerParts+p] {
						if h.push(int(u.target), u.other, u.score, true) {
							c++
						}
					}
				}
				j.changed[p] = c
			}
		})
		if err != nil {
			return total, err
		}
		for _, c := range j.changed {
			total += c
		}
	}
	return total, nil
}

// scratch is a worker's space for scoring a list of points against itself
// with the multi-row kernels: the rows packed contiguously.
type scratch struct {
	ids    []int32
	rows   []float32
	scores []float32
}

// pack copies the rows of ids into sc.rows.
func (sc *scratch) pack(s *space, ids []int32) {
	d := s.d
	if cap(sc.rows) < len(ids)*d {
		sc.rows = make([]float32, len(ids)*d)
	}
	sc.rows = sc.rows[:len(ids)*d]
	for r, i := range ids {
		copy(sc.rows[r*d:(r+1)*d], s.row(int(i)))
	}
	if cap(sc.scores) < len(ids) {
		sc.scores = make([]float32, len(ids))
	}
}

// scoresAfter returns the scores of ids[x] (packed) against ids[x+1:],
// exactly space.score's values.
func (sc *scratch) scoresAfter(s *space, ids []int32, x int) []float32 {
	d := s.d
	out := sc.scores[:len(ids)-x-1]
	if len(out) == 0 {
		return out
	}
	q, rest := sc.rows[x*d:(x+1)*d], sc.rows[(x+1)*d:len(ids)*d]
	if s.metric == Euclidean {
		f32.SqDists(out, q, rest)
		return out
	}
	f32.Dots(out, q, rest)
	for c := range out {
		out[c] = s.cosine(out[c], int(ids[x]), int(ids[x+1+c]))
	}
	return out
}

// fillRandom gives points whose heap is not full (their leaves were
// small) random neighbours.
func (s *space) fillRandom(ctx context.Context, h *heaps, seed uint64, workers int) error {
	k := h.k
	return parallel.For(ctx, s.n, 1024, workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			for a := uint64(0); h.idx[i*k] < 0 && a < uint64(8*k+64); a++ {
				j := int(mix(seed, 0x5eed, uint64(i), a) % uint64(s.n))
				if j != i {
					h.push(i, int32(j), s.score(i, j), true)
				}
			}
		}
	})
}

// candidates holds, per point, up to cap new and cap old candidates for the
// local join, chosen among its forward and reverse neighbours by a hash of
// the pair and the iteration (a deterministic random sample).
type candidates struct {
	cap            int
	newIdx, oldIdx []int32
	newLen, oldLen []int32
	key            uint64 // hash of the seed and the iteration
}

func newCandidates(n, cap int) *candidates {
	return &candidates{
		cap:    cap,
		newIdx: make([]int32, n*cap), oldIdx: make([]int32, n*cap),
		newLen: make([]int32, n), oldLen: make([]int32, n),
	}
}

func (c *candidates) list(idx, ln []int32, i int) []int32 {
	return idx[i*c.cap : i*c.cap+int(ln[i])]
}

func (c *candidates) prio(a, b int32) uint64 {
	if a > b {
		a, b = b, a
	}
	z := (uint64(a)<<32 | uint64(b)) ^ c.key
	z *= 0x9e3779b97f4a7c15
	z ^= z >> 29
	z *= 0xbf58476d1ce4e5b9
	return z ^ z>>32
}

// add offers j to point i's list (a max-heap on (prio, index) of up to cap
// entries).
func (c *candidates) add(idx, ln []int32, i int, j int32) {
	o := i * c.cap
	l := int(ln[i])
	list := idx[o : o+c.cap]
	pj := c.prio(int32(i), j)
	// ranks reports whether (pa, a) ranks before (pb, b).
	ranks := func(pa uint64, a int32, pb uint64, b int32) bool {
		return pa < pb || (pa == pb && a < b)
	}
	if l == c.cap {
		// Full: j must rank before the root (then it cannot be the root,
		// and a copy of j elsewhere in the list is found below).
		root := list[0]
		if !ranks(pj, j, c.prio(int32(i), root), root) {
			return
		}
	}
	for _, v := range list[:l] {
		if v == j {
			return
		}
	}
	if l < c.cap {
		// Sift up.
		p := l
		for p > 0 {
			q := (p - 1) / 2
			if !ranks(c.prio(int32(i), list[q]), list[q], pj, j) {
				break
			}
			list[p] = list[q]
			p = q
		}
		list[p] = j
		ln[i]++
		return
	}
	p := 0
	for {
		q := 2*p + 1
		if q >= c.cap {
			break
		}
		pq := c.prio(int32(i), list[q])
		if q+1 < c.cap {
			if pr := c.prio(int32(i), list[q+1]); ranks(pq, list[q], pr, list[q+1]) {
				q, pq = q+1, pr
			}
		}
		if !ranks(pj, j, pq, list[q]) {
			break
		}
		list[p] = list[q]
		p = q
	}
	list[p] = j
}

// build samples the candidate lists from the graph and marks the forward
// entries sampled as new candidates old. Each of `parts` ranges of points
// scans every graph entry for the lists it owns; the lists do not depend on
// the number of parts.
func (c *candidates) build(ctx context.Context, h *heaps, seed, iter uint64, workers int) error {
	c.key = mix(seed, iter)
	n := len(c.newLen)
	k := h.k
	parts := workers
	size := (n + parts - 1) / parts
	err := parallel.For(ctx, parts, 1, workers, func(_, lo, hi int) {
		for part := lo; part < hi; part++ {
			a, b := part*size, min(n, (part+1)*size)
			clear(c.newLen[a:b])
			clear(c.oldLen[a:b])
			for i := range n {
				for e := i * k; e < (i+1)*k; e++ {
					j := h.idx[e]
					if j < 0 {
						continue
					}
					idx, ln := c.oldIdx, c.oldLen
					if h.isNew[e] {
						idx, ln = c.newIdx, c.newLen
					}
					if i >= a && i < b {
						c.add(idx, ln, i, j)
					}
					if int(j) >= a && int(j) < b {
						c.add(idx, ln, int(j), int32(i))
					}
				}
			}
		}
	})
	if err != nil {
		return err
	}
	return parallel.For(ctx, n, 1024, workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			nw := c.list(c.newIdx, c.newLen, i)
			for e := i * k; e < (i+1)*k; e++ {
				if !h.isNew[e] {
					continue
				}
				for _, v := range nw {
					if v == h.idx[e] {
						h.isNew[e] = false
						break
					}
				}
			}
		}
	})
}

// mix hashes its arguments (splitmix64 finalisers chained).
func mix(vs ...uint64) uint64 {
	var z uint64 = 0x9e3779b97f4a7c15
	for _, v := range vs {
		z ^= v + 0x9e3779b97f4a7c15 + (z << 6) + (z >> 2)
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
	}
	return z
}
