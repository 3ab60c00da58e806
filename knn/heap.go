package knn

import "math"

// heaps holds one bounded max-heap of K neighbours per point, ordered by
// (score, index) so that the kept set never depends on the order of pushes
// among equal scores. Empty slots have index −1 and score +Inf.
type heaps struct {
	k     int
	idx   []int32
	score []float32
	isNew []bool // NN-descent: the entry has not yet taken part in a local join
}

func newHeaps(n, k int, flags bool) *heaps {
	h := &heaps{k: k, idx: make([]int32, n*k), score: make([]float32, n*k)}
	for i := range h.idx {
		h.idx[i] = -1
		h.score[i] = float32(math.Inf(1))
	}
	if flags {
		h.isNew = make([]bool, n*k)
	}
	return h
}

// above reports whether (s1, i1) comes after (s2, i2).
func above(s1 float32, i1 int32, s2 float32, i2 int32) bool {
	return s1 > s2 || (s1 == s2 && uint32(i1) > uint32(i2)) // −1 (empty) sorts last
}

// threshold is the score a new neighbour of point i must beat.
func (h *heaps) threshold(i int) float32 { return h.score[i*h.k] }

// push offers neighbour j with score s to point i's heap. It returns whether
// the heap changed: j is kept if it ranks before the current worst entry and
// is not already present.
func (h *heaps) push(i int, j int32, s float32, isNew bool) bool {
	o := i * h.k
	idx, sc := h.idx[o:o+h.k], h.score[o:o+h.k]
	if !above(sc[0], idx[0], s, j) {
		return false
	}
	for _, v := range idx {
		if v == j {
			return false
		}
	}
	var fl []bool
	if h.isNew != nil {
		fl = h.isNew[o : o+h.k]
	}
	// Replace the root and sift down.
	p := 0
	for {
		c := 2*p + 1
		if c >= h.k {
			break
		}
		if c+1 < h.k && above(sc[c+1], idx[c+1], sc[c], idx[c]) {
			c++
		}
		if !above(sc[c], idx[c], s, j) {
			break
		}
		sc[p], idx[p] = sc[c], idx[c]
		if fl != nil {
			fl[p] = fl[c]
		}
		p = c
	}
	sc[p], idx[p] = s, j
	if fl != nil {
		fl[p] = isNew
	}
	return true
}

// sortRow orders point i's entries nearest first (ties by index), empty
// slots last.
func (h *heaps) sortRow(i int) {
	o := i * h.k
	idx, sc := h.idx[o:o+h.k], h.score[o:o+h.k]
	// Heap sort in place: repeatedly move the root (largest) to the end.
	for end := h.k - 1; end > 0; end-- {
		sc[0], sc[end] = sc[end], sc[0]
		idx[0], idx[end] = idx[end], idx[0]
		p := 0
		for {
			c := 2*p + 1
			if c >= end {
				break
			}
			if c+1 < end && above(sc[c+1], idx[c+1], sc[c], idx[c]) {
				c++
			}
			if !above(sc[c], idx[c], sc[p], idx[p]) {
				break
			}
			sc[p], sc[c] = sc[c], sc[p]
			idx[p], idx[c] = idx[c], idx[p]
			p = c
		}
	}
}
