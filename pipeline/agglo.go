package pipeline

import (
	"context"
	"runtime"
	"sort"

	"github.com/kura-go/kura/internal/f32"
	"github.com/kura-go/kura/internal/parallel"
)

// merge is one step of an agglomerative clustering: the clusters that hold
// items a and b join at distance h.
type merge struct {
	a, b int
	h    float64
}

// averageLinkage clusters n unit vectors by average linkage (UPGMA) on
// cosine distance, with the nearest-neighbour chain algorithm: O(n²) time,
// and 2n² bytes for the distances (20,000 clusters: 800 MB). Slot a of a merge keeps the joined cluster, so a and b are
// items of the clusters joined. It returns the n-1 merges in increasing
// distance (ties in the order found, which puts a merge after those of its
// parts: average linkage never joins below an earlier join).
func averageLinkage(vecs [][]float32) []merge {
	n := len(vecs)
	if n < 2 {
		return nil
	}
	// The condensed upper triangle, in float32: k clusters take 2k² bytes.
	dist := make([]float32, n*(n-1)/2)
	at := func(i, j int) *float32 {
		if i > j {
			i, j = j, i
		}
		return &dist[i*(2*n-i-1)/2+j-i-1]
	}
	_ = parallel.For(context.Background(), n, 16, runtime.GOMAXPROCS(0), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			for j := i + 1; j < n; j++ {
				*at(i, j) = 1 - f32.Dot(vecs[i], vecs[j])
			}
		}
	})
	size := make([]int, n)
	active := make([]bool, n)
	for i := range size {
		size[i], active[i] = 1, true
	}
	var merges []merge
	var chain []int
	for len(merges) < n-1 {
		if len(chain) == 0 {
			for i := 0; i < n; i++ {
				if active[i] {
					chain = append(chain, i)
					break
				}
			}
		}
		a := chain[len(chain)-1]
		prev := -1
		if len(chain) > 1 {
			prev = chain[len(chain)-2]
		}
		// Nearest active neighbour of a; prefer prev on ties so the chain ends.
		best, bestD := -1, 0.0
		if prev >= 0 {
			best, bestD = prev, float64(*at(a, prev))
		}
		for j := 0; j < n; j++ {
			if j == a || !active[j] {
				continue
			}
			if d := float64(*at(a, j)); best < 0 || d < bestD {
				best, bestD = j, d
			}
		}
		if best != prev {
			chain = append(chain, best)
			continue
		}
		// a and prev are reciprocal nearest neighbours: merge them into a.
		chain = chain[:len(chain)-2]
		b := prev
		merges = append(merges, merge{a: a, b: b, h: bestD})
		na, nb := float64(size[a]), float64(size[b])
		for j := 0; j < n; j++ {
			if active[j] && j != a && j != b {
				*at(a, j) = float32((na*float64(*at(a, j)) + nb*float64(*at(b, j))) / (na + nb))
			}
		}
		active[b] = false
		size[a] += size[b]
	}
	sort.SliceStable(merges, func(i, j int) bool { return merges[i].h < merges[j].h })
	return merges
}

// cutTree applies the first n-k merges (in distance order) and returns a
// group number in [0, k) for each of the n items, numbered in order of
// their first item.
func cutTree(n int, merges []merge, k int) []int {
	parent := make([]int, n)
	for i := range parent {
		parent[i] = i
	}
	find := func(x int) int {
		for parent[x] != x {
			parent[x] = parent[parent[x]]
			x = parent[x]
		}
		return x
	}
	for i := 0; i < n-k && i < len(merges); i++ {
		ra, rb := find(merges[i].a), find(merges[i].b)
		if ra != rb {
			parent[rb] = ra
		}
	}
	labels := make([]int, n)
	num := map[int]int{}
	for i := 0; i < n; i++ {
		r := find(i)
		l, ok := num[r]
		if !ok {
			l = len(num)
			num[r] = l
		}
		labels[i] = l
	}
	return labels
}
