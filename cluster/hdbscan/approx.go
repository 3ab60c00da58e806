package hdbscan

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/kura-go/kura/internal/f32"
	"github.com/kura-go/kura/internal/parallel"
	"github.com/kura-go/kura/knn"
)

// Neighbour search choices (Params.Search).
const (
	SearchAuto        = "auto"
	SearchExact       = "exact"
	SearchApproximate = "approximate"
)

const (
	// approxMinPoints decides the automatic choice: the exact
	// high-dimensional path costs O(n²·d) (1.4 s at 10,000 × 384 on 2
	// cores), so from 20,000 points above the KD-tree's dimensions the
	// approximate path is used.
	approxMinPoints = 20_000
	// approxLowDimMinPoints is the same for the KD-tree's dimensions: the
	// exact KD-tree Prim's algorithm took 67 s of CPU at 1,000,000 × 5
	// (seeded blobs), the graph path 28 s, with the same labels at
	// 100,000 × 5 (ARI 1.0).
	approxLowDimMinPoints = 500_000
	// joinSamples is the number of points a sampled join round compares.
	joinSamples = 2048
	// joinExactWork bounds the multiply-adds of an exact join round (about
	// 1–2 s on 2 cores); above it the join is sampled.
	joinExactWork = 4e9
)

// useApprox applies Params.Search.
// ResolveSearch returns the neighbour search that Cluster uses for n
// points of d dimensions with p: SearchExact or SearchApproximate ("auto"
// resolved by its rule). A load test uses it to measure, at every scale, the
// path the production volume will take.
func ResolveSearch(p Params, n, d int) string {
	if useApprox(p, n, d) {
		return SearchApproximate
	}
	return SearchExact
}

func useApprox(p Params, n, d int) bool {
	switch p.Search {
	case SearchExact:
		return false
	case SearchApproximate:
		return true
	}
	if d <= lowDimMax {
		return n >= approxLowDimMinPoints
	}
	return n >= approxMinPoints
}

// approxGraphK is the number of neighbours per point in the graph (at
// least 2·MinSamples). With 15 the graph lacked 13 of the 4,999 exact MST
// edges on 5,000 hash-embedded sample summaries and the labels' ARI against
// the exact path was 0.82; with 30, no edge was missing (ARI 0.998, the
// rest being the order of tied merges).
var approxGraphK = 30

// wedge is a weighted edge between two points.
type wedge struct {
	w    float64
	a, b int32
}

func cmpWedge(e, f wedge) int {
	if c := cmp.Compare(e.w, f.w); c != 0 {
		return c
	}
	if c := cmp.Compare(e.a, f.a); c != 0 {
		return c
	}
	return cmp.Compare(e.b, f.b)
}

// approxMST builds a spanning tree of the mutual-reachability graph from
// a k-NN graph (package knn, NN-descent, above 16 dimensions; the exact
// one from the KD-tree below):
//
//   - core distances are the distances to the k-th listed neighbour (at
//     least the exact ones: a missed neighbour can only be replaced by a
//     farther one);
//   - while the graph has several connected components, each component is
//     joined to its nearest other component in mutual reachability
//     (Borůvka rounds; each round at least halves the number of
//     components): exactly when that is cheap, else from a sample (see
//     joinComponents);
//   - Prim's algorithm on the graph plus the joining edges, in the exact
//     paths' order: start at point 0, add the remaining point with the
//     smallest weight to the tree (lowest index among equals), record the
//     edge as (previously added point, new point). Mutual reachability has
//     many exact ties, and this order, not just the weights, decides how
//     tied merges nest (see the package documentation).
//
// The result is one spanning tree with n−1 edges. Distances are float64
// square roots of f32.SqDist, as in the exact paths, so that equal weights
// tie the same way. Memory is O(n·K).
func approxMST(ctx context.Context, x []float32, n, d, k int, alpha float64, workers int, seed uint64, exactBelow int) ([]edge, error) {
	K := min(n-1, max(2*k, approxGraphK))
	dist := func(a, b int32) float64 {
		return math.Sqrt(float64(f32.SqDist(x[int(a)*d:int(a+1)*d], x[int(b)*d:int(b+1)*d])))
	}
	// index and sq hold each point's K neighbours and their squared
	// distances, exactly f32.SqDist's values (no float64 copy: a weight is
	// recomputed from sq when needed).
	var index, order []int32
	var sq []float32
	if d <= lowDimMax {
		// Low dimensions: the KD-tree gives the exact k-NN graph.
		nb, perm, err := kdGraph(ctx, x, n, d, K, workers)
		if err != nil {
			return nil, err
		}
		index, sq, order = nb.ids, nb.sq, perm
	} else {
		g, err := knn.Build(ctx, x, n, d, knn.Params{K: K, Seed: seed, Workers: workers, ExactBelow: exactBelow, Squared: true})
		if err != nil {
			return nil, err
		}
		index, sq = g.Index, g.Dist
	}
	core := make([]float64, n)
	if k > 0 {
		for i := range n {
			core[i] = math.Sqrt(float64(sq[i*K+k-1]))
		}
	}
	mr := func(a, b int32, dist float64) float64 {
		return max(core[a], core[b], dist/alpha)
	}
	u := newUnionFind(n)
	comps := n
	for e, j := range index {
		if u.union(int32(e/K), j) {
			comps--
		}
	}
	var joins []wedge
	for comps > 1 {
		join, err := joinComponents(ctx, x, n, d, index, K, u, core, mr, dist, workers)
		if err != nil {
			return nil, err
		}
		for _, e := range join {
			if u.union(e.a, e.b) {
				joins = append(joins, e)
				comps--
			}
		}
	}
	return graphPrim(ctx, n, K, index, sq, core, alpha, joins, order, workers)
}

// graphPrim runs Prim's algorithm in the exact paths' order (see
// approxMST) over the k-NN graph (each entry an undirected edge; sq holds
// the entries' squared distances) and the joining edges. It may reorder
// index and sq in place.
//
// order, when not nil, is a permutation of the points (position -> point)
// that keeps near points near, such as a KD-tree's: the graph is
// renumbered by it so that the points a step touches share cache lines,
// and ties are still broken by the original index, so the tree is the
// same as without it.
func graphPrim(ctx context.Context, n, K int, index []int32, sq []float32, core []float64, alpha float64, joins []wedge, order []int32, workers int) ([]edge, error) {
	start := int32(0)
	if order != nil {
		pos := make([]int32, n)
		for p, i := range order {
			pos[i] = int32(p)
		}
		permuteRows(index, K, order)
		permuteRows(sq, K, order)
		err := parallel.For(ctx, len(index), 1<<16, workers, func(_, lo, hi int) {
			for e := lo; e < hi; e++ {
				index[e] = pos[index[e]]
			}
		})
		if err != nil {
			return nil, err
		}
		pc := make([]float64, n)
		for p, i := range order {
			pc[p] = core[i]
		}
		core = pc
		pj := make([]wedge, len(joins))
		for t, e := range joins {
			pj[t] = wedge{e.w, pos[e.a], pos[e.b]}
		}
		joins = pj
		start = pos[0]
	}
	// Reverse entries: rev[rstart[v]:rstart[v+1]] are the entries e with
	// index[e] == v, in increasing order.
	rstart := make([]int32, n+1)
	for _, j := range index {
		rstart[j+1]++
	}
	for i := range n {
		rstart[i+1] += rstart[i]
	}
	rev := make([]int32, len(index))
	fill := slices.Clone(rstart[:n])
	for e, j := range index {
		rev[fill[j]] = int32(e)
		fill[j]++
	}
	fill = nil
	extra := map[int32][]wedge{}
	for _, e := range joins {
		extra[e.a] = append(extra[e.a], wedge{e.w, e.a, e.b})
		extra[e.b] = append(extra[e.b], wedge{e.w, e.b, e.a})
	}
	h := newPointHeap(n)
	h.id = order
	in := make([]bool, n)
	mst := make([]edge, 0, n-1)
	prev := start
	in[start] = true
	for step := 0; ; step++ {
		if step%4096 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v := prev
		for e := int(v) * K; e < int(v+1)*K; e++ {
			if j := index[e]; !in[j] {
				h.lower(j, max(core[v], core[j], math.Sqrt(float64(sq[e]))/alpha))
			}
		}
		for _, e := range rev[rstart[v]:rstart[v+1]] {
			if i := int32(int(e) / K); !in[i] {
				h.lower(i, max(core[v], core[i], math.Sqrt(float64(sq[e]))/alpha))
			}
		}
		for _, e := range extra[v] {
			if !in[e.b] {
				h.lower(e.b, e.w)
			}
		}
		if h.len() == 0 {
			break
		}
		next, w := h.pop()
		in[next] = true
		mst = append(mst, edge{prev, next, w})
		prev = next
	}
	if len(mst) != n-1 {
		return nil, fmt.Errorf("hdbscan: internal error: approximate spanning tree has %d edges for %d points", len(mst), n)
	}
	if order != nil {
		for t := range mst {
			mst[t].a, mst[t].b = order[mst[t].a], order[mst[t].b]
		}
	}
	return mst, nil
}

// permuteRows reorders the rows of the row-major matrix m (rows of K
// values) in place so that row p becomes the old row order[p], following
// the permutation's cycles with one spare row.
func permuteRows[T any](m []T, K int, order []int32) {
	done := make([]bool, len(order))
	tmp := make([]T, K)
	for p := range order {
		if done[p] {
			continue
		}
		copy(tmp, m[p*K:(p+1)*K])
		q := p
		for {
			done[q] = true
			src := int(order[q])
			if src == p {
				copy(m[q*K:(q+1)*K], tmp)
				break
			}
			copy(m[q*K:(q+1)*K], m[src*K:(src+1)*K])
			q = src
		}
	}
}

// pointHeap is an indexed binary min-heap of points keyed by (weight,
// index), with decrease-key.
type pointHeap struct {
	key  []float64
	pos  []int32 // position in heap, −1 if absent
	heap []int32
	id   []int32 // the index that breaks ties (nil: the point itself)
}

func newPointHeap(n int) *pointHeap {
	h := &pointHeap{key: make([]float64, n), pos: make([]int32, n)}
	for i := range h.pos {
		h.pos[i] = -1
		h.key[i] = math.Inf(1)
	}
	return h
}

func (h *pointHeap) len() int { return len(h.heap) }

func (h *pointHeap) less(a, b int32) bool {
	if h.key[a] != h.key[b] {
		return h.key[a] < h.key[b]
	}
	if h.id != nil {
		return h.id[a] < h.id[b]
	}
	return a < b
}

func (h *pointHeap) swap(i, j int) {
	h.heap[i], h.heap[j] = h.heap[j], h.heap[i]
	h.pos[h.heap[i]], h.pos[h.heap[j]] = int32(i), int32(j)
}

// lower sets v's key to w if that is lower, inserting v if absent.
func (h *pointHeap) lower(v int32, w float64) {
	if h.pos[v] >= 0 && w >= h.key[v] {
		return
	}
	h.key[v] = w
	if h.pos[v] < 0 {
		h.pos[v] = int32(len(h.heap))
		h.heap = append(h.heap, v)
	}
	for i := int(h.pos[v]); i > 0; {
		p := (i - 1) / 2
		if !h.less(h.heap[i], h.heap[p]) {
			break
		}
		h.swap(i, p)
		i = p
	}
}

func (h *pointHeap) pop() (int32, float64) {
	v := h.heap[0]
	last := len(h.heap) - 1
	h.swap(0, last)
	h.heap = h.heap[:last]
	h.pos[v] = -1
	for i := 0; ; {
		c := 2*i + 1
		if c >= last {
			break
		}
		if c+1 < last && h.less(h.heap[c+1], h.heap[c]) {
			c++
		}
		if !h.less(h.heap[c], h.heap[i]) {
			break
		}
		h.swap(i, c)
		i = c
	}
	return v, h.key[v]
}

// joinComponents returns, for each component of u, an edge to another
// component that is short in mutual reachability (see approxMST).
func joinComponents(ctx context.Context, x []float32, n, d int, index []int32, K int, u *unionFind,
	core []float64, mr func(a, b int32, dist float64) float64, dist func(a, b int32) float64, workers int) ([]wedge, error) {

	// Components, numbered by their lowest point, and their members.
	compOf := make([]int32, n)
	id := make(map[int32]int32)
	var members [][]int32
	for i := range n {
		r := u.find(int32(i))
		c, ok := id[r]
		if !ok {
			c = int32(len(members))
			id[r] = c
			members = append(members, nil)
		}
		compOf[i] = c
		members[c] = append(members[c], int32(i))
	}
	nc := len(members)
	largest := 0
	for c, m := range members {
		if len(m) > len(members[largest]) {
			largest = c
		}
	}
	if work := float64(n-len(members[largest])) * float64(n) * float64(d); work <= joinExactWork {
		return exactJoin(ctx, x, n, d, compOf, nc, int32(largest), mr, workers)
	}
	// Evenly spaced samples of each component.
	per := max(1, joinSamples/nc)
	var samp []int32
	for _, m := range members {
		r := min(len(m), per)
		for t := range r {
			samp = append(samp, m[t*len(m)/r])
		}
	}
	ns := len(samp)
	packed := make([]float32, ns*d)
	for s, i := range samp {
		copy(packed[s*d:(s+1)*d], x[int(i)*d:int(i+1)*d])
	}
	// All pairs of samples, by blocks of rows; each block keeps the best
	// pair per component of its rows, reduced in block order.
	const rows = 64
	nb := (ns + rows - 1) / rows
	blockBest := make([][]wedge, nb)
	err := parallel.For(ctx, nb, 1, workers, func(_, lo, hi int) {
		buf := make([]float32, rows*ns)
		for b := lo; b < hi; b++ {
			r0, r1 := b*rows, min(ns, (b+1)*rows)
			f32.SqDistBlock(buf, packed[r0*d:r1*d], r1-r0, packed, ns, d)
			best := map[int32]wedge{}
			for r := r0; r < r1; r++ {
				p := samp[r]
				cp := compOf[p]
				for s, sq := range buf[(r-r0)*ns : (r-r0+1)*ns] {
					q := samp[s]
					if compOf[q] == cp {
						continue
					}
					e := wedge{mr(p, q, math.Sqrt(float64(sq))), p, q}
					if old, ok := best[cp]; !ok || cmpWedge(e, old) < 0 {
						best[cp] = e
					}
				}
			}
			list := make([]wedge, 0, len(best))
			for _, e := range best {
				list = append(list, e)
			}
			blockBest[b] = list
		}
	})
	if err != nil {
		return nil, err
	}
	best := make([]wedge, nc)
	for i := range best {
		best[i].w = math.Inf(1)
		best[i].a = -1
	}
	for _, list := range blockBest {
		for _, e := range list {
			c := compOf[e.a]
			if best[c].a < 0 || cmpWedge(e, best[c]) < 0 {
				best[c] = e
			}
		}
	}
	// Improve each pair by walking the graph on both sides.
	out := make([]wedge, nc)
	err = parallel.For(ctx, nc, 1, workers, func(_, lo, hi int) {
		for c := lo; c < hi; c++ {
			out[c] = descendPair(best[c], index, K, compOf, mr, dist)
		}
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].a > out[i].b {
			out[i].a, out[i].b = out[i].b, out[i].a
		}
	}
	slices.SortFunc(out, cmpWedge)
	return out, nil
}

// descendPair moves either end of e to one of its graph neighbours (staying
// in its component) while that lowers the mutual reachability, or keeps it
// and lowers the plain distance.
func descendPair(e wedge, index []int32, K int, compOf []int32, mr func(a, b int32, dist float64) float64, dist func(a, b int32) float64) wedge {
	p, q := e.a, e.b
	dpq := dist(p, q)
	w := mr(p, q, dpq)
	ca, cb := compOf[p], compOf[q]
	better := func(w2, d2 float64) bool { return w2 < w || (w2 == w && d2 < dpq) }
	for steps := 0; steps < 10_000; steps++ {
		moved := false
		nbP := index[int(p)*K : int(p+1)*K]
		for _, p2 := range nbP {
			if compOf[p2] != ca {
				continue
			}
			if d2 := dist(p2, q); better(mr(p2, q, d2), d2) {
				p, dpq, w, moved = p2, d2, mr(p2, q, d2), true
			}
		}
		nbQ := index[int(q)*K : int(q+1)*K]
		for _, q2 := range nbQ {
			if compOf[q2] != cb {
				continue
			}
			if d2 := dist(p, q2); better(mr(p, q2, d2), d2) {
				q, dpq, w, moved = q2, d2, mr(p, q2, d2), true
			}
		}
		if !moved {
			break
		}
	}
	return wedge{w, p, q}
}

// exactJoin returns, for each component, its shortest edge in mutual
// reachability to another component, exactly: every point outside the
// largest component is compared with every point (blocks of 64 such points
// against tiles of all rows, in parallel); the largest component's edge is
// the shortest of the others' edges to it.
func exactJoin(ctx context.Context, x []float32, n, d int, compOf []int32, nc int, largest int32,
	mr func(a, b int32, dist float64) float64, workers int) ([]wedge, error) {

	var q []int32
	for i := range n {
		if compOf[i] != largest {
			q = append(q, int32(i))
		}
	}
	const rows, cols = 64, 256
	nb := (len(q) + rows - 1) / rows
	type found struct{ best, toLargest map[int32]wedge }
	blocks := make([]found, nb)
	better := func(m map[int32]wedge, c int32, e wedge) {
		if old, ok := m[c]; !ok || cmpWedge(e, old) < 0 {
			m[c] = e
		}
	}
	err := parallel.For(ctx, nb, 1, workers, func(_, lo, hi int) {
		qrows := make([]float32, rows*d)
		buf := make([]float32, rows*cols)
		for b := lo; b < hi; b++ {
			f := found{map[int32]wedge{}, map[int32]wedge{}}
			qs := q[b*rows : min(len(q), (b+1)*rows)]
			for r, i := range qs {
				copy(qrows[r*d:(r+1)*d], x[int(i)*d:int(i+1)*d])
			}
			for c0 := 0; c0 < n; c0 += cols {
				if ctx.Err() != nil {
					return
				}
				nc := min(cols, n-c0)
				f32.SqDistBlock(buf, qrows, len(qs), x[c0*d:(c0+nc)*d], nc, d)
				for r, i := range qs {
					ci := compOf[i]
					for c, sq := range buf[r*nc : (r+1)*nc] {
						j := int32(c0 + c)
						cj := compOf[j]
						if cj == ci {
							continue
						}
						e := wedge{mr(i, j, math.Sqrt(float64(sq))), i, j}
						better(f.best, ci, e)
						if cj == largest {
							better(f.toLargest, ci, e)
						}
					}
				}
			}
			blocks[b] = f
		}
	})
	if err != nil {
		return nil, err
	}
	best := map[int32]wedge{}
	for _, f := range blocks {
		for c, e := range f.best {
			better(best, c, e)
		}
		for _, e := range f.toLargest {
			better(best, largest, wedge{e.w, e.b, e.a})
		}
	}
	out := make([]wedge, 0, nc)
	for _, e := range best {
		if e.a > e.b {
			e.a, e.b = e.b, e.a
		}
		out = append(out, e)
	}
	slices.SortFunc(out, cmpWedge)
	return out, nil
}
