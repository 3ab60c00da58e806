package hdbscan

import (
	"context"
	"math"
	"sync"

	"github.com/kura-go/kura/internal/f32"
)

// primMST builds the minimum spanning tree of the mutual-reachability graph
// with Prim's algorithm, computing distances on the fly (O(n) memory), in
// exactly the order of the Python library's generic algorithm
// (mst_linkage_core): start at point 0; after adding a point, lower every
// remaining point's distance-to-tree against it; add the remaining point
// with the smallest distance, the lowest index among equals; record the
// edge as (previously added point, new point, distance). Mutual
// reachability has many exact ties (core distances repeat), and this order
// decides how tied merges nest, so following it is what makes the labels
// identical to the library's.
//
// Each step's update runs over the remaining points in parallel chunks; the
// chunk minima are reduced in index order, so the result does not depend
// on the number of workers. A point whose current distance is already at
// most max(core(new), core(point)) cannot improve. The remaining rows are
// kept packed in index order, so each chunk is one streaming batch-distance
// call (f32.SqDists, exactly f32.SqDist's values).
func primMST(ctx context.Context, x []float32, n, d int, core []float64, alpha float64, workers int) ([]edge, error) {
	cur := make([]float64, n)
	for i := range cur {
		cur[i] = math.Inf(1)
	}
	rem := make([]int32, n)
	for i := range rem {
		rem[i] = int32(i)
	}
	return primFinish(ctx, x, d, core, alpha, workers, cur, make([]bool, n), rem, 0, make([]edge, 0, n-1))
}

// primFinish continues Prim's algorithm from a state: cur holds each
// remaining point's exact distance to the tree (the points with inTree
// set), rem the remaining points in increasing index order, c the point
// being added now; mst the edges so far. It returns mst completed.
func primFinish(ctx context.Context, x []float32, d int, core []float64, alpha float64, workers int,
	cur []float64, inTree []bool, rem []int32, c int32, mst []edge) ([]edge, error) {

	type best struct {
		w float64
		j int32
	}
	// packed holds the rows of rem, in rem's order, so that each step
	// streams through contiguous memory with the batch kernel.
	packed := make([]float32, len(rem)*d)
	for i, j := range rem {
		copy(packed[i*d:(i+1)*d], x[int(j)*d:int(j+1)*d])
	}
	const sub = 256
	// scan lowers cur[j] for rem[lo:hi] against point c and returns the
	// first minimum.
	scan := func(lo, hi int, c int32, buf []float32) best {
		b := best{math.Inf(1), -1}
		cc := core[c]
		xc := x[int(c)*d : int(c+1)*d]
		for s0 := lo; s0 < hi; s0 += sub {
			s1 := min(s0+sub, hi)
			f32.SqDists(buf[:s1-s0], xc, packed[s0*d:s1*d])
			for i, j := range rem[s0:s1] {
				if inTree[j] {
					continue
				}
				cj := cur[j]
				if lb := max(cc, core[j]); lb < cj {
					if w := max(lb, math.Sqrt(float64(buf[i]))/alpha); w < cj {
						cur[j] = w
						cj = w
					}
				}
				if cj < b.w || b.j < 0 {
					b = best{cj, j}
				}
			}
		}
		return b
	}

	// A pool of workers, each scanning one chunk per step.
	type task struct {
		lo, hi int
		c      int32
		wg     *sync.WaitGroup
		out    *best
	}
	var tasks chan task
	if workers > 1 {
		tasks = make(chan task, workers)
		defer close(tasks)
		for w := 0; w < workers-1; w++ {
			go func() {
				buf := make([]float32, sub)
				for t := range tasks {
					*t.out = scan(t.lo, t.hi, t.c, buf)
					t.wg.Done()
				}
			}()
		}
	}
	// Below this many remaining points per worker a step runs serially.
	work := d + 4
	minChunk := max(64, 32768/work)
	outs := make([]best, workers)
	mainBuf := make([]float32, sub)
	var wg sync.WaitGroup

	removed := 0
	for steps := len(rem) - 1; steps > 0; steps-- {
		if steps&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		inTree[c] = true
		removed++
		if removed > 64 && removed*4 > len(rem) {
			k := 0
			for i, j := range rem {
				if !inTree[j] {
					rem[k] = j
					copy(packed[k*d:(k+1)*d], packed[i*d:(i+1)*d])
					k++
				}
			}
			rem = rem[:k]
			removed = 0
		}
		var b best
		nw := min(workers, len(rem)/minChunk)
		if nw <= 1 {
			b = scan(0, len(rem), c, mainBuf)
		} else {
			chunk := (len(rem) + nw - 1) / nw
			wg.Add(nw - 1)
			for w := 0; w < nw-1; w++ {
				tasks <- task{w * chunk, (w + 1) * chunk, c, &wg, &outs[w]}
			}
			outs[nw-1] = scan((nw-1)*chunk, len(rem), c, mainBuf)
			wg.Wait()
			b = best{math.Inf(1), -1}
			for _, o := range outs[:nw] {
				if o.j >= 0 && (b.j < 0 || o.w < b.w) {
					b = o
				}
			}
		}
		mst = append(mst, edge{a: c, b: b.j, w: b.w})
		c = b.j
	}
	return mst, nil
}
