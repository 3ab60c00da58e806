package hdbscan

import (
	"math"
	"slices"

	"github.com/kura-go/kura/internal/f32"
)

// bruteMST is a test reference: a direct transcription of the Python
// library's generic path (full distance matrix, core distances, Prim's
// algorithm from point 0 recording (previous point, new point, weight)).
func bruteMST(x []float32, n, d, k int, alpha float64, dist func(a, b []float32) float64) []edge {
	D := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			D[i*n+j] = dist(x[i*d:(i+1)*d], x[j*d:(j+1)*d])
		}
	}
	core := make([]float64, n)
	for i := 0; i < n; i++ {
		col := slices.Clone(D[i*n : (i+1)*n])
		slices.Sort(col) // col[0] is the point itself
		core[i] = col[k]
	}
	in := make([]bool, n)
	cur := make([]float64, n)
	for i := range cur {
		cur[i] = math.Inf(1)
	}
	var mst []edge
	u := 0
	for step := 1; step < n; step++ {
		in[u] = true
		best := -1
		for v := 0; v < n; v++ {
			if in[v] {
				continue
			}
			w := max(core[u], core[v], D[u*n+v]/alpha)
			if w < cur[v] {
				cur[v] = w
			}
			if best < 0 || cur[v] < cur[best] {
				best = v
			}
		}
		mst = append(mst, edge{int32(u), int32(best), cur[best]})
		u = best
	}
	return mst
}

func dist64(a, b []float32) float64 {
	var s float64
	for i := range a {
		t := float64(a[i]) - float64(b[i])
		s += t * t
	}
	return math.Sqrt(s)
}

// dist32 is the distance the package computes (float32 kernel).
func dist32(a, b []float32) float64 { return math.Sqrt(float64(f32.SqDist(a, b))) }
