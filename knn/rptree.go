package knn

import (
	"math/rand/v2"

	"github.com/kura-go/kura/internal/f32"
)

// rpTree is the leaf structure of one random-projection tree: perm lists
// the points leaf by leaf, leaf l being perm[leaves[l]:leaves[l+1]]; tasks
// groups consecutive leaves into units of work of about leafTaskPoints
// points (task t is leaves tasks[t]..tasks[t+1]-1).
type rpTree struct {
	perm   []int32
	leaves []int32
	tasks  []int32
}

// buildTree splits the points recursively by random hyperplanes until each
// part has at most leaf points. A hyperplane is the perpendicular bisector
// of two random points of the part (Euclidean), or the hyperplane through
// the origin between their directions (Cosine), as in pynndescent. Points
// exactly on it, and parts the plane does not split, are divided at random.
// Tree t depends only on seed, t and the data.
func (s *space) buildTree(seed uint64, t, leaf int) *rpTree {
	n, d := s.n, s.d
	rng := rand.New(rand.NewPCG(seed, 0x7265e5^uint64(t)))
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	tr := &rpTree{perm: perm, leaves: []int32{}}
	normal := make([]float32, d)
	margins := make([]float32, 0)
	type span struct{ lo, hi int }
	stack := []span{{0, n}}
	for len(stack) > 0 {
		sp := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		part := perm[sp.lo:sp.hi]
		if len(part) <= leaf {
			tr.leaves = append(tr.leaves, int32(sp.lo))
			continue
		}
		a := rng.IntN(len(part))
		b := rng.IntN(len(part) - 1)
		if b >= a {
			b++
		}
		ra, rb := s.row(int(part[a])), s.row(int(part[b]))
		var offset float32
		if s.metric == Cosine {
			ia, ib := s.inv[part[a]], s.inv[part[b]]
			for c := range normal {
				normal[c] = ra[c]*ia - rb[c]*ib
			}
		} else {
			for c := range normal {
				normal[c] = ra[c] - rb[c]
				offset += normal[c] * (ra[c] + rb[c]) / 2
			}
		}
		margins = margins[:0]
		for _, i := range part {
			margins = append(margins, f32.Dot(normal, s.row(int(i)))-offset)
		}
		// Partition: positive margins first.
		left := 0
		for x := range part {
			m := margins[x]
			pos := m > 0
			if m == 0 {
				pos = rng.IntN(2) == 0
			}
			if pos {
				part[left], part[x] = part[x], part[left]
				margins[left], margins[x] = margins[x], margins[left]
				left++
			}
		}
		if left == 0 || left == len(part) {
			// Degenerate split (duplicates): random halves.
			rng.Shuffle(len(part), func(x, y int) { part[x], part[y] = part[y], part[x] })
			left = len(part) / 2
		}
		mid := sp.lo + left
		// Push the right part first so the left is processed (and its
		// leaves listed) first.
		stack = append(stack, span{mid, sp.hi}, span{sp.lo, mid})
	}
	tr.leaves = append(tr.leaves, int32(n))
	tr.tasks = []int32{0}
	pts := 0
	for l := 0; l+1 < len(tr.leaves); l++ {
		pts += int(tr.leaves[l+1] - tr.leaves[l])
		if pts >= leafTaskPoints {
			tr.tasks = append(tr.tasks, int32(l+1))
			pts = 0
		}
	}
	if last := tr.tasks[len(tr.tasks)-1]; int(last) != len(tr.leaves)-1 {
		tr.tasks = append(tr.tasks, int32(len(tr.leaves)-1))
	}
	return tr
}
