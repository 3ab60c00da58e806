package reduce

import (
	"context"
	"math"

	"github.com/kura-go/kura/internal/parallel"
)

// neighbours is a k-nearest-neighbour graph without the points themselves:
// row i of idx (k entries, nearest first) holds i's neighbours and row i of
// dist their distances.
type neighbours struct {
	n, k int
	idx  []int32
	dist []float32
}

// smoothKNN returns, for every point, rho (the distance to its nearest
// neighbour at a non-zero distance) and sigma, found by binary search so
// that Σ_j exp(−max(0, d_ij − rho_i)/sigma_i) = log2(k+1) over the point's k
// neighbours, as umap-learn's smooth_knn_dist does with local_connectivity 1
// and bandwidth 1 (umap-learn's k counts the point itself, hence k+1).
func smoothKNN(ctx context.Context, g *neighbours, workers int) (rho, sigma []float64, err error) {
	const (
		nIter     = 64
		tolerance = 1e-5
		minScale  = 1e-3
	)
	n, k := g.n, g.k
	rho = make([]float64, n)
	sigma = make([]float64, n)
	target := math.Log2(float64(k + 1))
	// umap-learn's means include the point itself at distance 0.
	var total float64
	for _, d := range g.dist {
		total += float64(d)
	}
	meanAll := total / float64(n*(k+1))
	err = parallel.For(ctx, n, 1024, workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			ds := g.dist[i*k : (i+1)*k]
			r := 0.0
			for _, d := range ds {
				if d > 0 {
					r = float64(d)
					break
				}
			}
			lo, hi, mid := 0.0, math.Inf(1), 1.0
			for range nIter {
				psum := 0.0
				for _, d := range ds {
					if v := float64(d) - r; v > 0 {
						psum += math.Exp(-v / mid)
					} else {
						psum++
					}
				}
				if math.Abs(psum-target) < tolerance {
					break
				}
				if psum > target {
					hi = mid
					mid = (lo + hi) / 2
				} else {
					lo = mid
					if math.IsInf(hi, 1) {
						mid *= 2
					} else {
						mid = (lo + hi) / 2
					}
				}
			}
			floor := minScale * meanAll
			if r > 0 {
				s := 0.0
				for _, d := range ds {
					s += float64(d)
				}
				floor = minScale * s / float64(k+1)
			}
			rho[i], sigma[i] = r, max(mid, floor)
		}
	})
	return rho, sigma, err
}

// graph is a symmetric sparse matrix in compressed rows: the neighbours of
// vertex i are col[start[i]:start[i+1]] with weights w[...]. Every edge is
// stored in both rows.
type graph struct {
	n     int
	start []int
	col   []int32
	w     []float32
}

func (g *graph) nnz() int { return len(g.col) }

// fuzzySet builds UMAP's fuzzy simplicial set from the k-NN graph:
// memberships exp(−(d − rho)/sigma) of each directed edge (1 within rho),
// symmetrised by the fuzzy union a + b − a·b (set_op_mix_ratio 1).
func fuzzySet(ctx context.Context, g *neighbours, workers int) (*graph, error) {
	rho, sigma, err := smoothKNN(ctx, g, workers)
	if err != nil {
		return nil, err
	}
	n, k := g.n, g.k
	memb := make([]float32, n*k)
	for i := range n {
		for j := range k {
			p := i*k + j
			v := 1.0
			if d := float64(g.dist[p]) - rho[i]; d > 0 && sigma[i] != 0 {
				v = math.Exp(-d / sigma[i])
			}
			if int(g.idx[p]) == i {
				v = 0
			}
			memb[p] = float32(v)
		}
	}
	// reverse returns the membership of the edge j -> i, or -1 if i is not
	// among j's neighbours.
	reverse := func(j, i int) float32 {
		row := g.idx[j*k : (j+1)*k]
		for c, t := range row {
			if int(t) == i {
				return memb[j*k+c]
			}
		}
		return -1
	}
	// Each undirected edge once: a pair found in both directions is emitted
	// by its smaller end.
	type edge struct {
		a, b int32
		w    float32
	}
	edges := make([]edge, 0, n*k)
	deg := make([]int, n+1)
	for i := range n {
		for c := range k {
			p := i*k + c
			j := int(g.idx[p])
			a := memb[p]
			if a == 0 || j < 0 || j == i {
				continue
			}
			b := reverse(j, i)
			var w float32
			switch {
			case b < 0 || b == 0:
				w = a
			case i < j:
				w = a + b - a*b
			default:
				continue
			}
			edges = append(edges, edge{int32(i), int32(j), w})
			deg[i]++
			deg[j]++
		}
	}
	gr := &graph{n: n, start: make([]int, n+1)}
	for i := range n {
		gr.start[i+1] = gr.start[i] + deg[i]
	}
	gr.col = make([]int32, gr.start[n])
	gr.w = make([]float32, gr.start[n])
	fill := append([]int(nil), gr.start[:n]...)
	for _, e := range edges {
		gr.col[fill[e.a]], gr.w[fill[e.a]] = e.b, e.w
		fill[e.a]++
		gr.col[fill[e.b]], gr.w[fill[e.b]] = e.a, e.w
		fill[e.b]++
	}
	return gr, ctx.Err()
}

// prune drops the edges lighter than maxWeight/epochs (umap-learn removes them
// before the layout: they would never be sampled).
func (g *graph) prune(epochs int) {
	var mx float32
	for _, w := range g.w {
		mx = max(mx, w)
	}
	cut := mx / float32(epochs)
	out := 0
	start := 0
	for i := range g.n {
		end := g.start[i+1]
		g.start[i] = out
		for p := start; p < end; p++ {
			if g.w[p] >= cut {
				g.col[out], g.w[out] = g.col[p], g.w[p]
				out++
			}
		}
		start = end
	}
	g.start[g.n] = out
	g.col, g.w = g.col[:out], g.w[:out]
}
