package hdbscan

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/kura-go/kura/internal/f32"
	"github.com/kura-go/kura/internal/parallel"
)

// lowDimMax is the largest dimension for which the KD-tree path is used;
// above it a KD-tree prunes too little to pay for itself.
const lowDimMax = 16

// kdLeaf is the largest number of points in a KD-tree leaf.
const kdLeaf = 16

// distSlack makes box lower bounds safe against the rounding of the float32
// distance kernel: a point's computed distance can be below the exact one
// by a few units in the last place, so bounds are shrunk by this factor
// before pruning.
const distSlack = 1 - 1e-5

// kdTree is a KD-tree over a permuted copy of the points. Node v covers
// tree positions lo[v]..hi[v]-1; leaves have left[v] == -1; children have
// larger ids than their parents.
type kdTree struct {
	n, d        int
	pts         []float32 // n×d, tree order
	perm        []int32   // tree position -> original index
	lo, hi      []int32
	left, right []int32
	parent      []int32
	bmin, bmax  []float64 // node×d bounding boxes (build only)
	lo32, hi32  []float32 // the same boxes as float32 (exact: they are data values)
	leafOf      []int32   // original index -> leaf node
	pos         []int32   // original index -> tree position
}

func buildKD(x []float32, n, d int) *kdTree {
	t := &kdTree{n: n, d: d, perm: make([]int32, n), leafOf: make([]int32, n)}
	for i := range t.perm {
		t.perm[i] = int32(i)
	}
	t.build(x, 0, n, -1)
	t.lo32 = make([]float32, len(t.bmin))
	t.hi32 = make([]float32, len(t.bmax))
	for i := range t.bmin {
		t.lo32[i], t.hi32[i] = float32(t.bmin[i]), float32(t.bmax[i])
	}
	t.bmin, t.bmax = nil, nil
	t.pts = make([]float32, n*d)
	t.pos = make([]int32, n)
	for i, j := range t.perm {
		t.pos[j] = int32(i)
		copy(t.pts[i*d:(i+1)*d], x[int(j)*d:int(j+1)*d])
	}
	return t
}

func (t *kdTree) build(x []float32, lo, hi int, parent int32) int32 {
	d := t.d
	v := int32(len(t.lo))
	t.lo = append(t.lo, int32(lo))
	t.hi = append(t.hi, int32(hi))
	t.left = append(t.left, -1)
	t.right = append(t.right, -1)
	t.parent = append(t.parent, parent)
	bmin := make([]float64, d)
	bmax := make([]float64, d)
	for j := range bmin {
		bmin[j], bmax[j] = math.Inf(1), math.Inf(-1)
	}
	for _, p := range t.perm[lo:hi] {
		for j, c := range x[int(p)*d : int(p+1)*d] {
			bmin[j] = min(bmin[j], float64(c))
			bmax[j] = max(bmax[j], float64(c))
		}
	}
	t.bmin = append(t.bmin, bmin...)
	t.bmax = append(t.bmax, bmax...)
	if hi-lo <= kdLeaf {
		for _, p := range t.perm[lo:hi] {
			t.leafOf[p] = v
		}
		return v
	}
	dim, width := 0, -1.0
	for j := 0; j < d; j++ {
		if w := bmax[j] - bmin[j]; w > width {
			dim, width = j, w
		}
	}
	if width <= 0 { // all points identical: keep as one (large) leaf
		for _, p := range t.perm[lo:hi] {
			t.leafOf[p] = v
		}
		return v
	}
	mid := (lo + hi) / 2
	selectKth(t.perm[lo:hi], mid-lo, func(p int32) float32 { return x[int(p)*d+dim] })
	l := t.build(x, lo, mid, v)
	r := t.build(x, mid, hi, v)
	t.left[v], t.right[v] = l, r
	return v
}

// selectKth partially orders a so that a[k] has the k-th smallest key, with
// smaller-or-equal keys before it and greater-or-equal after (quickselect;
// ties broken by value of the element for determinism).
func selectKth(a []int32, k int, key func(int32) float32) {
	less := func(p, q int32) bool {
		kp, kq := key(p), key(q)
		if kp != kq {
			return kp < kq
		}
		return p < q
	}
	lo, hi := 0, len(a)-1
	for hi > lo {
		// Median of three as pivot.
		m := lo + (hi-lo)/2
		if less(a[m], a[lo]) {
			a[m], a[lo] = a[lo], a[m]
		}
		if less(a[hi], a[lo]) {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if less(a[hi], a[m]) {
			a[hi], a[m] = a[m], a[hi]
		}
		pivot := a[m]
		i, j := lo, hi
		for i <= j {
			for less(a[i], pivot) {
				i++
			}
			for less(pivot, a[j]) {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}

// boxSqDist is the squared distance from q to node v's bounding box,
// computed in float32 (its relative error, below 1e-6 for d ≤ 16, is
// covered by distSlack).
func (t *kdTree) boxSqDist(v int32, q []float32) float64 {
	return boxSqDist(t.lo32, t.hi32, v, q)
}

// boxSqDist is the squared distance from q to box v of the boxes lo32,
// hi32 (node×d), as kdTree.boxSqDist.
func boxSqDist(lo32, hi32 []float32, v int32, q []float32) float64 {
	off := int(v) * len(q)
	lo := lo32[off : off+len(q)]
	hi := hi32[off : off+len(q)]
	var s float32
	for j, c := range q {
		e := max(lo[j]-c, c-hi[j], 0)
		s += e * e
	}
	return float64(s)
}

// kdNeighbours holds, for every point (original index), its K nearest
// other points: ids and squared distances (exactly f32.SqDist's values),
// ascending.
type kdNeighbours struct {
	K   int
	ids []int32
	sq  []float32
}

// knnList keeps the K smallest (squared distance, id) pairs seen.
type knnList struct {
	sq  []float32
	ids []int32
	K   int
	buf []float32
}

// leafDists returns the squared distances from q to the points at tree
// positions lo..hi-1 (exactly f32.SqDist's values, by one batch call),
// in *buf, grown as needed.
func leafDists(buf *[]float32, t *kdTree, lo, hi int32, q []float32) []float32 {
	n := int(hi - lo)
	if cap(*buf) < n {
		*buf = make([]float32, n)
	}
	b := (*buf)[:n]
	f32.SqDists(b, q, t.pts[int(lo)*t.d:int(hi)*t.d])
	return b
}

func (h *knnList) full() bool { return len(h.sq) == h.K }

func (h *knnList) push(s float32, id int32) {
	if h.full() {
		if s >= h.sq[h.K-1] {
			return
		}
		h.sq, h.ids = h.sq[:h.K-1], h.ids[:h.K-1]
	}
	i := len(h.sq)
	h.sq, h.ids = append(h.sq, s), append(h.ids, id)
	for i > 0 && s < h.sq[i-1] {
		h.sq[i], h.ids[i] = h.sq[i-1], h.ids[i-1]
		i--
	}
	h.sq[i], h.ids[i] = s, id
}

// kdCore returns the core distance of every point (distance to its k-th
// nearest other point) and its K >= k nearest neighbours, by KD-tree
// queries in parallel.
func kdCore(ctx context.Context, t *kdTree, k, K, workers int) ([]float64, *kdNeighbours, error) {
	n, d := t.n, t.d
	K = min(max(K, k), n-1)
	core := make([]float64, n)
	nb := &kdNeighbours{K: K, ids: make([]int32, n*K), sq: make([]float32, n*K)}
	if K == 0 {
		return core, nb, nil
	}
	const block = 256
	err := parallel.For(ctx, (n+block-1)/block, 1, workers, func(_, b, _ int) {
		h := &knnList{sq: make([]float32, 0, K), ids: make([]int32, 0, K), K: K}
		for pos := b * block; pos < min(n, (b+1)*block); pos++ {
			h.sq, h.ids = h.sq[:0], h.ids[:0]
			q := t.pts[pos*d : (pos+1)*d]
			// Start with the smallest subtree around the point that
			// holds K others: the list is full from the start, so the
			// search from the root prunes hard (it skips that subtree).
			seed := t.leafOf[t.perm[pos]]
			for t.hi[seed]-t.lo[seed] <= int32(K) && t.parent[seed] >= 0 {
				seed = t.parent[seed]
			}
			lo, hi := t.lo[seed], t.hi[seed]
			for i, s := range leafDists(&h.buf, t, lo, hi, q) {
				if p := lo + int32(i); p != int32(pos) {
					h.push(s, p)
				}
			}
			t.knn(0, 0, q, int32(pos), seed, h)
			i := int(t.perm[pos])
			if k > 0 {
				core[i] = math.Sqrt(float64(h.sq[k-1]))
			}
			copy(nb.sq[i*K:(i+1)*K], h.sq)
			for j, p := range h.ids {
				nb.ids[i*K+j] = t.perm[p]
			}
		}
	})
	return core, nb, err
}

// kdGraph returns the exact K nearest neighbours of every point (original
// indices, squared distances) by KD-tree queries, and the tree's order of
// the points (position -> original index), which keeps near points near.
func kdGraph(ctx context.Context, x []float32, n, d, K, workers int) (*kdNeighbours, []int32, error) {
	t := buildKD(x, n, d)
	_, nb, err := kdCore(ctx, t, 0, K, workers)
	return nb, t.perm, err
}

// knn visits node v, whose box is at squared distance boxSq from q,
// skipping node skip (already searched).
func (t *kdTree) knn(v int32, boxSq float64, q []float32, self, skip int32, h *knnList) {
	if v == skip || h.full() && boxSq*distSlack*distSlack >= float64(h.sq[h.K-1]) {
		return
	}
	if t.left[v] < 0 {
		lo, hi := t.lo[v], t.hi[v]
		buf := leafDists(&h.buf, t, lo, hi, q)
		for pos := lo; pos < hi; pos++ {
			if pos == self {
				continue
			}
			s := buf[pos-lo]
			if !h.full() || s < h.sq[h.K-1] {
				h.push(s, pos)
			}
		}
		return
	}
	l, r := t.left[v], t.right[v]
	bl, br := t.boxSqDist(l, q), t.boxSqDist(r, q)
	if br < bl {
		l, r, bl, br = r, l, br, bl
	}
	t.knn(l, bl, q, self, skip, h)
	t.knn(r, br, q, self, skip, h)
}

// kdMST runs the same Prim's algorithm as primMST (the Python library's
// order, see there) with KD-tree queries instead of a full update per
// step. The library's next point is the remaining v minimising (distance
// to the tree, v), i.e. the smallest (mr(u,v), v) over tree points u.
// Pairs split in two classes. List pairs (one point in the other's
// neighbour list) are tracked per remaining point in keyA, exactly. Long
// pairs weigh at least B of both ends (see kdSearch.b); each source (a
// tree point, or a completed node covering its points) keeps in a heap its
// best remaining long partner, or a lower bound of it that is searched
// only when it ranks before the best list pair. The smaller of the two
// candidates is the next point.
func kdMST(ctx context.Context, x []float32, n, d, k int, alpha float64, workers int) ([]edge, error) {
	t := buildKD(x, n, d)
	core, nbr, err := kdCore(ctx, t, k, kdListLen, workers)
	if err != nil {
		return nil, err
	}
	nn := len(t.lo)
	s := &kdSearch{t: t, core: core, nbr: nbr, alpha: alpha, inTree: make([]bool, n),
		nd: make([]kdNode, nn)}
	// Long pairs: B(j) = max(core(j), r_K(j)/alpha) where r_K(j) is the
	// distance to j's K-th listed neighbour.
	K := nbr.K
	s.b = make([]float64, n)
	s.inP, s.bP, s.sqKP = make([]bool, n), make([]float64, n), make([]float32, n)
	for pos, j := range t.perm {
		var sqK float32
		if K > 0 {
			sqK = nbr.sq[int(j)*K+K-1]
		}
		s.b[j] = max(core[j], math.Sqrt(float64(sqK))/alpha)
		s.bP[pos], s.sqKP[pos] = s.b[j], sqK
	}
	s.coreAll, s.bAll = make([]float64, nn), make([]float64, nn)
	for v := nn - 1; v >= 0; v-- { // children have larger ids than parents
		s.nd[v] = kdNode{left: t.hi[v] - t.lo[v], l: t.left[v], r: t.right[v], lo: t.lo[v], hi: t.hi[v]}
		if t.left[v] < 0 {
			m, mb, mi := math.Inf(1), math.Inf(1), int32(math.MaxInt32)
			for pos := t.lo[v]; pos < t.hi[v]; pos++ {
				j := t.perm[pos]
				m = min(m, core[j])
				mb = min(mb, s.bP[pos])
				mi = min(mi, j)
			}
			s.coreAll[v], s.bAll[v] = m, mb
			s.nd[v].minB, s.nd[v].minIdx = mb, mi
		} else {
			l, r := t.left[v], t.right[v]
			s.coreAll[v] = min(s.coreAll[l], s.coreAll[r])
			s.bAll[v] = min(s.bAll[l], s.bAll[r])
			s.nd[v].minB = s.bAll[v]
			s.nd[v].minIdx = min(s.nd[l].minIdx, s.nd[r].minIdx)
		}
	}
	s.rlo, s.rhi = slices.Clone(t.lo32), slices.Clone(t.hi32)
	s.val = make([]float64, n+nn)
	s.cand = make([]nnCand, (n+nn)*nnCache)
	s.ncand, s.cur = make([]uint8, n+nn), make([]uint8, n+nn)
	// Reverse neighbour lists: for each point c, the slots (i*K + r) of
	// the lists that contain c.
	s.revOff = make([]int32, n+1)
	for _, j := range nbr.ids {
		s.revOff[j+1]++
	}
	for i := 0; i < n; i++ {
		s.revOff[i+1] += s.revOff[i]
	}
	s.rev = make([]int32, len(nbr.ids))
	fill := slices.Clone(s.revOff[:n])
	for slot, j := range nbr.ids {
		s.rev[fill[j]] = int32(slot)
		fill[j]++
	}
	s.keyA = make([]float64, n)
	for i := range s.keyA {
		s.keyA[i] = math.Inf(1)
	}
	h := &nnHeap{}  // sources' entries: long pairs
	ha := &nnHeap{} // remaining points' list-pair keys
	mst := make([]edge, 0, n-1)
	srch := make([]*searcher, max(workers, 1))
	for i := range srch {
		srch[i] = &searcher{kdSearch: s}
	}
	var batch []int32
	var found []nnEntry
	var ok []bool
	// A pool of workers-1 goroutines shares the searches of each batch
	// with this one.
	jobs := make(chan *batchJob, len(srch))
	defer close(jobs)
	for _, sr := range srch[1:] {
		go func() {
			for job := range jobs {
				job.run(sr)
				job.wg.Done()
			}
		}()
	}
	c := int32(0)
	// Late in the run the remaining points are few and scattered (noise),
	// where tree searches are slow; the last ones are finished by the
	// plain update-all-remaining Prim's step, seeded with their exact
	// distances to the tree.
	finish := max(kdFinishMin, min(n/16, kdFinishMax))
	for step := 1; step < n; step++ {
		if n-step+1 <= finish {
			return s.finish(ctx, x, c, mst, workers)
		}
		if step&4095 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		s.updateA(c, ha)
		if g := s.add(c); g >= 0 {
			// c completed node g: its points are covered by one entry
			// from now on, whose lower bound is the smallest of the
			// entries it replaces (c's own is B(c)).
			h.push(s.setVal(nnEntry{w: s.groupBound(g, c), v: -1, u: -g - 1}))
		} else {
			h.push(s.setVal(nnEntry{w: s.b[c], v: -1, u: c}))
		}
		// The best list pair, from the top of ha (stale entries dropped).
		for len(ha.items) > 0 {
			e := ha.items[0]
			if !s.inTree[e.v] && s.keyA[e.v] == e.w {
				break
			}
			ha.pop()
		}
		a := nnEntry{w: math.Inf(1), v: math.MaxInt32}
		if len(ha.items) > 0 {
			a = ha.items[0]
		}
		// Pop stale entries: advance their cached lists, or leave a lazy
		// lower bound. Lazy entries reaching the top are searched in
		// batches (in parallel when large) unless the best list pair
		// ranks before them; the minimum does not depend on the order.
		for {
			batch = batch[:0]
			for len(h.items) > 0 {
				e := h.items[0]
				if !s.live(e.u) {
					h.pop()
					continue
				}
				if e.v >= 0 && !s.inTree[e.v] {
					break
				}
				if e.v < 0 && !(e.w < a.w || (e.w == a.w && e.v < a.v)) {
					break
				}
				h.pop()
				if e.v >= 0 {
					h.push(s.setVal(s.next(e.u)))
				} else {
					batch = append(batch, e.u)
				}
			}
			if len(batch) == 0 {
				break
			}
			found = slices.Grow(found[:0], len(batch))[:len(batch)]
			ok = slices.Grow(ok[:0], len(batch))[:len(batch)]
			nw := min(len(srch), len(batch))
			if nw <= 1 {
				for i, u := range batch {
					found[i], ok[i] = srch[0].query(u)
				}
			} else {
				// Items are handed out one by one (their costs vary);
				// each result lands at its item's index.
				job := &batchJob{batch: batch, found: found, ok: ok}
				job.wg.Add(nw - 1)
				for w := 1; w < nw; w++ {
					jobs <- job
				}
				job.run(srch[0])
				job.wg.Wait()
			}
			for i := range batch {
				if ok[i] {
					h.push(s.setVal(found[i]))
				}
			}
		}
		e := a
		if len(h.items) > 0 {
			if f := h.items[0]; f.v >= 0 && (f.w < a.w || (f.w == a.w && f.v < a.v)) {
				e = f
			}
		}
		mst = append(mst, edge{a: c, b: e.v, w: e.w})
		c = e.v
	}
	return mst, nil
}

// updateA lowers the list-pair key of every remaining point paired with c
// by a neighbour list (c's list, or a list containing c).
func (s *kdSearch) updateA(c int32, ha *nnHeap) {
	K := s.nbr.K
	cc := s.core[c]
	lower := func(v int32, sq float32) {
		if s.inTree[v] {
			return
		}
		w := max(cc, s.core[v], math.Sqrt(float64(sq))/s.alpha)
		if w < s.keyA[v] {
			s.keyA[v] = w
			ha.push(nnEntry{w: w, v: v, u: v})
		}
	}
	for i, j := range s.nbr.ids[int(c)*K : int(c+1)*K] {
		lower(j, s.nbr.sq[int(c)*K+i])
	}
	for _, slot := range s.rev[s.revOff[c]:s.revOff[c+1]] {
		lower(slot/int32(K), s.nbr.sq[slot])
	}
}

// batchJob is one batch of searches shared by the pool.
type batchJob struct {
	batch []int32
	found []nnEntry
	ok    []bool
	next  atomic.Int64
	wg    sync.WaitGroup
}

func (j *batchJob) run(sr *searcher) {
	for {
		i := int(j.next.Add(1) - 1)
		if i >= len(j.batch) {
			return
		}
		j.found[i], j.ok[i] = sr.query(j.batch[i])
	}
}

// kdNode gathers what a search reads at each node.
type kdNode struct {
	minB   float64 // smallest B of the node's remaining points
	left   int32   // number of remaining points (not yet in the tree)
	minIdx int32   // smallest index of the node's remaining points
	l, r   int32   // children, -1 for a leaf
	lo, hi int32   // tree positions covered
}

// kdSearch answers "nearest remaining point in mutual reachability".
type kdSearch struct {
	t      *kdTree
	core   []float64
	nbr    *kdNeighbours
	alpha  float64
	inTree []bool
	// Pairs of points of which one is in the other's neighbour list ("list
	// pairs") are handled through keyA, each remaining point's smallest
	// list-pair weight to the tree, updated as points join; searches only
	// consider the other ("long") pairs, whose weight is at least B of
	// both ends: b, by point.
	b       []float64
	keyA    []float64
	rev     []int32 // reverse neighbour lists (slots i*K + r), by revOff
	revOff  []int32
	bAll    []float64 // per node: smallest B of all its points
	inP     []bool    // inTree by tree position
	bP      []float64 // b by tree position
	sqKP    []float32 // squared distance to the K-th neighbour, by tree position
	nd      []kdNode  // per node: hot summaries, one cache line per few nodes
	coreAll []float64 // per node: smallest core distance of all its points
	// rlo, rhi (node×d) bound each node's remaining points: the boxes
	// shrink as points join the tree, so searches from deep inside
	// absorbed regions skip leaves whose few remaining points are far.
	rlo, rhi []float32
	// Per source (slot: point u, or n+g for node g), the cached best
	// remaining neighbours, their count and the cursor.
	cand  []nnCand
	ncand []uint8
	cur   []uint8
	// val is the weight of the latest heap entry of each source: a lower
	// bound of its best.
	val []float64
}

// add moves c into the tree and refreshes the summaries of its leaf and
// the leaf's ancestors. If c was the last remaining point of its leaf, it
// returns the largest node that c completed (all its points now in the
// tree), otherwise -1.
func (s *kdSearch) add(c int32) int32 {
	t := s.t
	s.inTree[c] = true
	s.inP[t.pos[c]] = true
	v := t.leafOf[c]
	m, mi := math.Inf(1), int32(math.MaxInt32)
	for pos := t.lo[v]; pos < t.hi[v]; pos++ {
		if !s.inP[pos] {
			m = min(m, s.bP[pos])
			mi = min(mi, t.perm[pos])
		}
	}
	s.nd[v].left--
	s.nd[v].minB, s.nd[v].minIdx = m, mi
	d := t.d
	if s.nd[v].left > 0 {
		lo, hi := s.rlo[int(v)*d:int(v+1)*d], s.rhi[int(v)*d:int(v+1)*d]
		first := true
		for pos := t.lo[v]; pos < t.hi[v]; pos++ {
			if s.inP[pos] {
				continue
			}
			p := t.pts[int(pos)*d : int(pos+1)*d]
			if first {
				copy(lo, p)
				copy(hi, p)
				first = false
				continue
			}
			for j, c := range p {
				lo[j] = min(lo[j], c)
				hi[j] = max(hi[j], c)
			}
		}
	}
	leaf := v
	for v = t.parent[v]; v >= 0; v = t.parent[v] {
		nv := &s.nd[v]
		nv.left--
		nv.minB = min(s.nd[nv.l].minB, s.nd[nv.r].minB)
		nv.minIdx = min(s.nd[nv.l].minIdx, s.nd[nv.r].minIdx)
		if nv.left == 0 {
			continue
		}
		lo, hi := s.rlo[int(v)*d:int(v+1)*d], s.rhi[int(v)*d:int(v+1)*d]
		switch {
		case s.nd[nv.l].left == 0:
			copy(lo, s.rlo[int(nv.r)*d:int(nv.r+1)*d])
			copy(hi, s.rhi[int(nv.r)*d:int(nv.r+1)*d])
		case s.nd[nv.r].left == 0:
			copy(lo, s.rlo[int(nv.l)*d:int(nv.l+1)*d])
			copy(hi, s.rhi[int(nv.l)*d:int(nv.l+1)*d])
		default:
			ll, lh := s.rlo[int(nv.l)*d:int(nv.l+1)*d], s.rhi[int(nv.l)*d:int(nv.l+1)*d]
			rl, rh := s.rlo[int(nv.r)*d:int(nv.r+1)*d], s.rhi[int(nv.r)*d:int(nv.r+1)*d]
			for j := range lo {
				lo[j] = min(ll[j], rl[j])
				hi[j] = max(lh[j], rh[j])
			}
		}
	}
	if s.nd[leaf].left > 0 {
		return -1
	}
	g := leaf
	for p := t.parent[g]; p >= 0 && s.nd[p].left == 0; p = t.parent[g] {
		g = p
	}
	return g
}

// Sources. Every tree point is covered by exactly one heap entry's
// source: its own (u >= 0) while its leaf still has remaining points,
// otherwise that of the largest completed node g containing it (u = -g-1),
// whose best is the best over all its points. Entries of covered sources
// are dropped when they reach the top of the heap.

// slot returns the index of source u in the per-source arrays.
func (s *kdSearch) slot(u int32) int {
	if u >= 0 {
		return int(u)
	}
	return s.t.n + int(-u-1)
}

// live reports whether source u still covers its points.
func (s *kdSearch) live(u int32) bool {
	if u >= 0 {
		return s.nd[s.t.leafOf[u]].left > 0
	}
	p := s.t.parent[-u-1]
	return p < 0 || s.nd[p].left > 0
}

// setVal records e's weight as its source's bound and returns e.
func (s *kdSearch) setVal(e nnEntry) nnEntry {
	s.val[s.slot(e.u)] = e.w
	return e
}

// groupBound returns a lower bound of the best of node g, just completed
// by c: the smallest bound of the sources g replaces, i.e. the points of
// c's leaf (c's own bound being core(c)) and the completed siblings along
// the path from that leaf up to g.
func (s *kdSearch) groupBound(g, c int32) float64 {
	t := s.t
	v := t.leafOf[c]
	b := s.b[c]
	for _, j := range t.perm[t.lo[v]:t.hi[v]] {
		if j != c {
			b = min(b, s.val[j])
		}
	}
	for v != g {
		p := t.parent[v]
		sib := t.left[p]
		if sib == v {
			sib = t.right[p]
		}
		b = min(b, s.val[t.n+int(sib)])
		v = p
	}
	return b
}

// query runs the search of source u: nearest for a point, groupNearest
// for a node.
func (s *searcher) query(u int32) (nnEntry, bool) {
	if u >= 0 {
		return s.nearest(u)
	}
	return s.groupNearest(-u - 1)
}

// groupNearest searches the best remaining neighbours of completed node g:
// the remaining points v with the smallest min over g's points u of
// mr(u, v), by a dual traversal of g's subtree and the tree.
func (s *searcher) groupNearest(g int32) (nnEntry, bool) {
	sl := s.t.n + int(g)
	s.best = s.cand[sl*nnCache : (sl+1)*nnCache][:0]
	s.cur[sl] = 0
	s.dual(g, 0, s.boxBoxSqDist(g, 0))
	s.ncand[sl] = uint8(len(s.best))
	if len(s.best) == 0 {
		return nnEntry{}, false
	}
	return nnEntry{w: s.best[0].w, v: s.best[0].v, u: -g - 1}, true
}

// boxBoxSqDist is the squared distance between the box of all points of
// node q and the box of the remaining points of node r, in float32 (as
// boxSqDist, covered by distSlack).
func (s *searcher) boxBoxSqDist(q, r int32) float64 {
	d := s.t.d
	qlo, qhi := s.t.lo32[int(q)*d:int(q+1)*d], s.t.hi32[int(q)*d:int(q+1)*d]
	rlo, rhi := s.rlo[int(r)*d:int(r+1)*d], s.rhi[int(r)*d:int(r+1)*d]
	var sum float32
	for j := range qlo {
		e := max(rlo[j]-qhi[j], qlo[j]-rhi[j], 0)
		sum += e * e
	}
	return float64(sum)
}

// dual visits the pair (q, r): q a node of the completed group, r any
// node, bb = boxBoxSqDist(q, r).
func (s *searcher) dual(q, r int32, bb float64) {
	t := s.t
	nr := &s.nd[r]
	if nr.left == 0 {
		return
	}
	lb := max(s.bAll[q], nr.minB)
	if s.pruned(lb, nr.minIdx) {
		return
	}
	if box := math.Sqrt(bb) * distSlack / s.alpha; box > lb {
		if s.pruned(box, nr.minIdx) {
			return
		}
	}
	qLeaf, rLeaf := t.left[q] < 0, nr.l < 0
	switch {
	case qLeaf && rLeaf:
		d := t.d
		cq := s.bAll[q]
		for pos := nr.lo; pos < nr.hi; pos++ {
			if s.inP[pos] {
				continue
			}
			v, cv, sqv := t.perm[pos], s.bP[pos], s.sqKP[pos]
			lbv := max(cq, cv)
			if s.pruned(lbv, v) {
				continue
			}
			pv := t.pts[int(pos)*d : int(pos+1)*d]
			if box := math.Sqrt(t.boxSqDist(q, pv)) * distSlack / s.alpha; box > lbv && s.pruned(box, v) {
				continue
			}
			w := math.Inf(1)
			qlo := t.lo[q]
			buf := leafDists(&s.buf, t, qlo, t.hi[q], pv)
			for qp := qlo; qp < t.hi[q]; qp++ {
				wu := max(s.bP[qp], cv)
				if wu >= w {
					continue
				}
				sq := buf[qp-qlo]
				if sq < sqv || sq < s.sqKP[qp] { // a list pair
					continue
				}
				w = min(w, max(wu, math.Sqrt(float64(sq))/s.alpha))
			}
			if w < math.Inf(1) {
				s.offerDedup(nnCand{w, v})
			}
		}
	case rLeaf || (!qLeaf && t.hi[q]-t.lo[q] > nr.hi-nr.lo):
		a, b := t.left[q], t.right[q]
		ba, bb := s.boxBoxSqDist(a, r), s.boxBoxSqDist(b, r)
		if bb < ba {
			a, b, ba, bb = b, a, bb, ba
		}
		s.dual(a, r, ba)
		s.dual(b, r, bb)
	default:
		a, b := nr.l, nr.r
		ba, bb := s.boxBoxSqDist(q, a), s.boxBoxSqDist(q, b)
		if bb < ba {
			a, b, ba, bb = b, a, bb, ba
		}
		s.dual(q, a, ba)
		s.dual(q, b, bb)
	}
}

// offerDedup offers c, replacing the entry of the same point if c is
// better.
func (s *searcher) offerDedup(c nnCand) {
	for i, o := range s.best {
		if o.v == c.v {
			if !candLess(c, o) {
				return
			}
			s.best = append(s.best[:i], s.best[i+1:]...)
			break
		}
	}
	s.offer(c)
}

// searcher holds one goroutine's query state.
type searcher struct {
	*kdSearch
	q    []float32
	qc   float64 // B of the query point
	qK   float32 // its squared distance to its K-th neighbour
	buf  []float32
	best []nnCand
}

// next returns u's cached best remaining neighbour. When the cache is
// used up it returns a lazy entry (v = -1) whose weight is a lower bound
// of u's best (every remaining point ranks after the whole cached list);
// the search runs only if that entry reaches the top of the heap.
func (s *kdSearch) next(u int32) nnEntry {
	sl := s.slot(u)
	list := s.cand[sl*nnCache : (sl+1)*nnCache]
	for s.cur[sl] < s.ncand[sl] {
		c := list[s.cur[sl]]
		if !s.inTree[c.v] {
			return nnEntry{w: c.w, v: c.v, u: u}
		}
		s.cur[sl]++
	}
	if s.ncand[sl] == 0 {
		return nnEntry{w: math.Inf(-1), v: -1, u: u}
	}
	return nnEntry{w: list[s.ncand[sl]-1].w, v: -1, u: u}
}

// nearest searches u's best remaining neighbours, or returns false if none
// remain. Queries for different points may run concurrently while the
// tree does not change.
func (s *searcher) nearest(u int32) (nnEntry, bool) {
	list := s.cand[int(u)*nnCache : int(u+1)*nnCache]
	s.qc = s.b[u]
	s.qK = s.sqKP[s.t.pos[u]]
	s.best = list[:0]
	s.cur[u] = 0
	s.q = s.t.x(u, s.t.d)
	s.search(0, boxSqDist(s.rlo, s.rhi, 0, s.q))
	s.ncand[u] = uint8(len(s.best))
	if len(s.best) == 0 {
		return nnEntry{}, false
	}
	return nnEntry{w: s.best[0].w, v: s.best[0].v, u: u}, true
}

// pruned reports whether a candidate (or a node) with lower bound lb and
// smallest index idx cannot enter the best list.
func (s *searcher) pruned(lb float64, idx int32) bool {
	if len(s.best) < nnCache {
		return false
	}
	worst := s.best[nnCache-1]
	return lb > worst.w || (lb == worst.w && idx > worst.v)
}

func (s *searcher) offer(c nnCand) {
	b := s.best
	if len(b) == nnCache {
		if !candLess(c, b[nnCache-1]) {
			return
		}
		b = b[:nnCache-1]
	}
	i := len(b)
	b = append(b, c)
	for i > 0 && candLess(c, b[i-1]) {
		b[i] = b[i-1]
		i--
	}
	b[i] = c
	s.best = b
}

// search visits node v, whose box is at squared distance boxSq from the
// query.
func (s *searcher) search(v int32, boxSq float64) {
	t := s.t
	nv := &s.nd[v]
	if nv.left == 0 {
		return
	}
	lb := max(s.qc, nv.minB)
	if s.pruned(lb, nv.minIdx) {
		return
	}
	if box := math.Sqrt(boxSq) * distSlack / s.alpha; box > lb {
		if s.pruned(box, nv.minIdx) {
			return
		}
	}
	if nv.l < 0 {
		buf := leafDists(&s.buf, t, nv.lo, nv.hi, s.q)
		for pos := nv.lo; pos < nv.hi; pos++ {
			if s.inP[pos] {
				continue
			}
			j := t.perm[pos]
			lbj := max(s.qc, s.bP[pos])
			if s.pruned(lbj, j) {
				continue
			}
			sq := buf[pos-nv.lo]
			if sq < s.qK || sq < s.sqKP[pos] { // a list pair
				continue
			}
			s.offer(nnCand{max(lbj, math.Sqrt(float64(sq))/s.alpha), j})
		}
		return
	}
	// Children ruled out by their counts or bounds alone are skipped
	// before their box distances are computed.
	l, r := nv.l, nv.r
	okL, okR := s.open(l), s.open(r)
	switch {
	case okL && okR:
		bl, br := boxSqDist(s.rlo, s.rhi, l, s.q), boxSqDist(s.rlo, s.rhi, r, s.q)
		if br < bl {
			l, r, bl, br = r, l, br, bl
		}
		s.search(l, bl)
		s.search(r, br)
	case okL:
		s.search(l, boxSqDist(s.rlo, s.rhi, l, s.q))
	case okR:
		s.search(r, boxSqDist(s.rlo, s.rhi, r, s.q))
	}
}

// open reports whether node v may still hold a candidate, from its count
// and core bound (search repeats the test with the box distance).
func (s *searcher) open(v int32) bool {
	nv := &s.nd[v]
	return nv.left > 0 && !s.pruned(max(s.qc, nv.minB), nv.minIdx)
}

// x returns the coordinates of original point i.
func (t *kdTree) x(i int32, d int) []float32 {
	pos := t.pos[i]
	return t.pts[int(pos)*d : int(pos+1)*d]
}

type nnEntry struct {
	w    float64
	v, u int32
}

func (a nnEntry) less(b nnEntry) bool {
	if a.w != b.w {
		return a.w < b.w
	}
	if a.v != b.v {
		return a.v < b.v
	}
	return a.u < b.u
}

// nnHeap is a binary min-heap of entries.
type nnHeap struct{ items []nnEntry }

func (h *nnHeap) push(e nnEntry) {
	h.items = append(h.items, e)
	i := len(h.items) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !h.items[i].less(h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *nnHeap) pop() {
	last := len(h.items) - 1
	h.items[0] = h.items[last]
	h.items = h.items[:last]
	i := 0
	for {
		l := 2*i + 1
		if l >= last {
			return
		}
		m := l
		if r := l + 1; r < last && h.items[r].less(h.items[l]) {
			m = r
		}
		if !h.items[m].less(h.items[i]) {
			return
		}
		h.items[i], h.items[m] = h.items[m], h.items[i]
		i = m
	}
}

// nnCache is how many best remaining neighbours a search keeps: when the
// best joins the tree, the next one still remaining is the new best (any
// point not in the list ranks after the whole list). Measured on seeded
// blobs (100000×5), keeping only the best was fastest: a search for one
// neighbour prunes much harder, and the next search then starts from a
// tighter lower bound.
const nnCache = 1

// kdFinishMin is the smallest number of remaining points handed over to
// primFinish (a variable so tests can exercise both regimes).
var kdFinishMin = 256

// kdFinishMax caps the points handed over to primFinish, whose cost is
// quadratic in their number: n/16 of 1,000,000 points took 46 s of CPU.
var kdFinishMax = 16384

// kdListLen is the number of nearest neighbours kept per point (at least
// MinSamples): pairs within these lists are followed without tree searches.
const kdListLen = 24

type nnCand struct {
	w float64
	v int32
}

func candLess(a, b nnCand) bool { return a.w < b.w || (a.w == b.w && a.v < b.v) }

// finish hands the remaining points to primFinish, c being the point about
// to be added.
func (s *kdSearch) finish(ctx context.Context, x []float32, c int32, mst []edge, workers int) ([]edge, error) {
	t := s.t
	n, d := t.n, t.d
	var rem []int32
	for i := 0; i < n; i++ {
		if !s.inTree[i] {
			rem = append(rem, int32(i))
		}
	}
	cur := make([]float64, n)
	// Exact distance to the tree (c excluded) of every remaining point.
	err := parallel.For(ctx, len(rem), 1, workers, func(_, i, _ int) {
		j := rem[i]
		cur[j] = s.toTree(j, c)
	})
	if err != nil {
		return nil, err
	}
	inTree := s.inTree
	return primFinish(ctx, x, d, s.core, s.alpha, workers, cur, inTree, rem, c, mst)
}

// toTree returns min over tree points u (not c) of mr(u, j).
func (s *kdSearch) toTree(j, c int32) float64 {
	t := s.t
	d := t.d
	q := t.x(j, d)
	cj := s.core[j]
	best := math.Inf(1)
	var walk func(v int32, boxSq float64)
	walk = func(v int32, boxSq float64) {
		if t.hi[v]-t.lo[v] == s.nd[v].left { // no tree points
			return
		}
		lb := max(cj, max(s.coreAll[v], math.Sqrt(boxSq)*distSlack/s.alpha))
		if lb >= best {
			return
		}
		if t.left[v] < 0 {
			for pos := t.lo[v]; pos < t.hi[v]; pos++ {
				if !s.inP[pos] || t.perm[pos] == c {
					continue
				}
				w := max(s.core[t.perm[pos]], cj)
				if w >= best {
					continue
				}
				dd := math.Sqrt(float64(f32.SqDist(t.pts[int(pos)*d:int(pos+1)*d], q))) / s.alpha
				best = min(best, max(w, dd))
			}
			return
		}
		l, r := t.left[v], t.right[v]
		bl, br := t.boxSqDist(l, q), t.boxSqDist(r, q)
		if br < bl {
			l, r, bl, br = r, l, br, bl
		}
		walk(l, bl)
		walk(r, br)
	}
	walk(0, t.boxSqDist(0, q))
	return best
}
