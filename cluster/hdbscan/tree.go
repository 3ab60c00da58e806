package hdbscan

import (
	"math"
	"slices"
)

// edge is an edge of the mutual-reachability graph: in Prim order, a is
// the node added just before b (as the Python library records it).
type edge struct {
	a, b int32
	w    float64
}

// unionFind is a disjoint-set forest with path halving and union by size.
type unionFind struct {
	parent []int32
	size   []int32
}

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int32, n), size: make([]int32, n)}
	for i := range u.parent {
		u.parent[i] = int32(i)
		u.size[i] = 1
	}
	return u
}

func (u *unionFind) find(x int32) int32 {
	for u.parent[x] != x {
		u.parent[x] = u.parent[u.parent[x]]
		x = u.parent[x]
	}
	return x
}

// union merges the sets of a and b and returns false if they were already
// one set.
func (u *unionFind) union(a, b int32) bool {
	ra, rb := u.find(a), u.find(b)
	if ra == rb {
		return false
	}
	if u.size[ra] < u.size[rb] {
		ra, rb = rb, ra
	}
	u.parent[rb] = ra
	u.size[ra] += u.size[rb]
	return true
}

// linkage is a single-linkage dendrogram in SciPy's format: merge i
// creates node n+i from nodes left[i] and right[i] at height dist[i].
type linkage struct {
	left, right []int32
	dist        []float64
	size        []int32
}

// singleLinkage sorts the MST stably by weight and builds the dendrogram,
// as the Python library's label() does.
func singleLinkage(mst []edge, n int) *linkage {
	slices.SortStableFunc(mst, func(e, f edge) int {
		switch {
		case e.w < f.w:
			return -1
		case e.w > f.w:
			return 1
		}
		return 0
	})
	m := len(mst)
	L := &linkage{left: make([]int32, m), right: make([]int32, m), dist: make([]float64, m), size: make([]int32, m)}
	u := newUnionFind(n)
	node := make([]int32, n) // representative point -> current dendrogram node
	for i := range node {
		node[i] = int32(i)
	}
	for i, e := range mst {
		ra, rb := u.find(e.a), u.find(e.b)
		L.left[i], L.right[i] = node[ra], node[rb]
		L.dist[i] = e.w
		L.size[i] = u.size[ra] + u.size[rb]
		u.union(ra, rb)
		node[u.find(ra)] = int32(n + i)
	}
	return L
}

// condense builds the condensed tree exactly as the Python library's
// condense_tree does (same rows in the same order).
func condense(L *linkage, n, minSize int) []CondensedEdge {
	m := len(L.left)
	root := 2 * m
	count := func(node int32) int {
		if int(node) < n {
			return 1
		}
		return int(L.size[int(node)-n])
	}
	// Breadth-first order of the whole dendrogram from the root.
	order := make([]int32, 0, root+1)
	order = append(order, int32(root))
	for i := 0; i < len(order); i++ {
		if v := order[i]; int(v) >= n {
			order = append(order, L.left[int(v)-n], L.right[int(v)-n])
		}
	}
	relabel := make([]int32, root+1)
	relabel[root] = int32(n)
	next := int32(n + 1)
	ignore := make([]bool, root+1)
	out := make([]CondensedEdge, 0, n+2*(n/minSize+1))
	var sub []int32
	fallOut := func(parent int32, child int32, lambda float64) {
		// Every point under child leaves parent at lambda (BFS order).
		sub = append(sub[:0], child)
		for i := 0; i < len(sub); i++ {
			v := sub[i]
			if int(v) < n {
				out = append(out, CondensedEdge{Parent: int(parent), Child: int(v), Lambda: lambda, Size: 1})
			} else {
				sub = append(sub, L.left[int(v)-n], L.right[int(v)-n])
			}
			ignore[v] = true
		}
	}
	for _, node := range order {
		if ignore[node] || int(node) < n {
			continue
		}
		i := int(node) - n
		lambda := math.Inf(1)
		if L.dist[i] > 0 {
			lambda = 1 / L.dist[i]
		}
		left, right := L.left[i], L.right[i]
		lc, rc := count(left), count(right)
		switch {
		case lc >= minSize && rc >= minSize:
			relabel[left] = next
			next++
			out = append(out, CondensedEdge{Parent: int(relabel[node]), Child: int(relabel[left]), Lambda: lambda, Size: lc})
			relabel[right] = next
			next++
			out = append(out, CondensedEdge{Parent: int(relabel[node]), Child: int(relabel[right]), Lambda: lambda, Size: rc})
		case lc < minSize && rc < minSize:
			fallOut(relabel[node], left, lambda)
			fallOut(relabel[node], right, lambda)
		case lc < minSize:
			relabel[right] = relabel[node]
			fallOut(relabel[node], left, lambda)
		default:
			relabel[left] = relabel[node]
			fallOut(relabel[node], right, lambda)
		}
	}
	return out
}

// fromMST runs everything after the minimum spanning tree: single linkage,
// condensing, cluster selection, labels, probabilities, outlier scores and
// persistence.
func fromMST(mst []edge, n int, p Params) *Result {
	return fromLinkage(singleLinkage(mst, n), n, p)
}

func fromLinkage(L *linkage, n int, p Params) *Result {
	tree := condense(L, n, p.MinClusterSize)
	nClusters := 1 // root
	for _, r := range tree {
		if r.Child >= n && r.Child-n+1 > nClusters {
			nClusters = r.Child - n + 1
		}
	}
	// Births, stabilities, cluster children (in row order), cluster sizes
	// and the parent of each cluster.
	birth := make([]float64, nClusters)
	for i := 1; i < nClusters; i++ {
		birth[i] = math.Inf(1)
	}
	parent := make([]int, nClusters)
	parent[0] = -1
	size := make([]int, nClusters)
	children := make([][]int, nClusters)
	for _, r := range tree {
		if r.Child >= n {
			c := r.Child - n
			if r.Lambda < birth[c] {
				birth[c] = r.Lambda
			}
			parent[c] = r.Parent - n
			size[c] = r.Size
			children[r.Parent-n] = append(children[r.Parent-n], c)
		}
	}
	stability := make([]float64, nClusters)
	deaths := make([]float64, nClusters) // max lambda of each cluster's own rows
	maxLambda := 0.0
	for _, r := range tree {
		c := r.Parent - n
		stability[c] += (r.Lambda - birth[c]) * float64(r.Size)
		if r.Lambda > deaths[c] {
			deaths[c] = r.Lambda
		}
		if r.Lambda > maxLambda {
			maxLambda = r.Lambda
		}
	}
	if p.AllowSingleCluster {
		s := 0
		for _, c := range children[0] {
			s += size[c]
		}
		size[0] = s
	}

	selected := selectClusters(p, n, tree, stability, birth, parent, size, children)

	// Labels: each point takes its nearest selected ancestor.
	ids := []int{}
	for c := 0; c < nClusters; c++ {
		if selected[c] {
			ids = append(ids, c)
		}
	}
	labelOf := make([]int, nClusters)
	for c := range labelOf {
		labelOf[c] = -1
	}
	for l, c := range ids {
		labelOf[c] = l
	}
	// owner[c]: the selected cluster covering cluster c, or -1.
	owner := make([]int, nClusters)
	for c := 0; c < nClusters; c++ { // parents have smaller ids
		switch {
		case selected[c]:
			owner[c] = c
		case c == 0:
			owner[c] = -1
		default:
			owner[c] = owner[parent[c]]
		}
	}
	res := &Result{
		Labels:        make([]int, n),
		Probabilities: make([]float64, n),
		OutlierScores: make([]float64, n),
		Tree:          tree,
		Persistence:   make([]float64, len(ids)),
		NumClusters:   len(ids),
	}
	rootMax := deaths[0]
	pointLambda := make([]float64, n)
	pointParent := make([]int, n)
	for _, r := range tree {
		if r.Child < n {
			pointLambda[r.Child] = r.Lambda
			pointParent[r.Child] = r.Parent - n
		}
	}
	for i := 0; i < n; i++ {
		o := owner[pointParent[i]]
		lab := -1
		if o == 0 {
			// The root is selected only with AllowSingleCluster.
			if len(ids) == 1 && p.AllowSingleCluster {
				if p.Epsilon != 0 {
					if pointLambda[i] >= 1/p.Epsilon {
						lab = labelOf[0]
					}
				} else if pointLambda[i] >= rootMax {
					lab = labelOf[0]
				}
			}
		} else if o > 0 {
			lab = labelOf[o]
		}
		res.Labels[i] = lab
		if lab >= 0 {
			ml := deaths[ids[lab]]
			if ml == 0 || math.IsInf(pointLambda[i], 0) {
				res.Probabilities[i] = 1
			} else {
				res.Probabilities[i] = math.Min(pointLambda[i], ml) / ml
			}
		}
	}
	counts := make([]int, len(ids))
	for _, l := range res.Labels {
		if l >= 0 {
			counts[l]++
		}
	}
	for l, c := range ids {
		if math.IsInf(maxLambda, 0) || maxLambda == 0 || counts[l] == 0 {
			res.Persistence[l] = 1
		} else {
			res.Persistence[l] = stability[c] / (float64(counts[l]) * maxLambda)
		}
	}
	glosh(res.OutlierScores, tree, n, nClusters, deaths)
	return res
}

// selectClusters applies EOM or leaf selection, cluster_selection_epsilon
// and max_cluster_size as the Python library (0.8.x) does. stability is
// modified (EOM propagates subtree stabilities upwards). Indexes are
// cluster numbers (condensed id − n).
func selectClusters(p Params, n int, tree []CondensedEdge, stability, birth []float64, parent, size []int, children [][]int) []bool {
	nc := len(stability)
	selected := make([]bool, nc)
	maxSize := p.MaxClusterSize
	if maxSize <= 0 {
		maxSize = n + 1
	}
	var subtree func(c int, f func(int))
	subtree = func(c int, f func(int)) {
		for _, ch := range children[c] {
			f(ch)
			subtree(ch, f)
		}
	}
	switch p.Method {
	case "leaf":
		leaves := []int{}
		if nc > 1 {
			for c := 1; c < nc; c++ {
				if len(children[c]) == 0 {
					leaves = append(leaves, c)
				}
			}
		}
		if len(leaves) == 0 {
			selected[0] = true
			return selected
		}
		if p.Epsilon != 0 {
			leaves = epsilonSearch(leaves, p, birth, parent, subtree)
		}
		for _, c := range leaves {
			selected[c] = true
		}
		return selected
	default: // eom
		last := 1
		if p.AllowSingleCluster {
			last = 0
		}
		for c := nc - 1; c >= last; c-- {
			var sub float64
			for _, ch := range children[c] {
				sub += stability[ch]
			}
			if sub > stability[c] || size[c] > maxSize {
				selected[c] = false
				stability[c] = sub
			} else {
				selected[c] = true
				subtree(c, func(s int) { selected[s] = false })
			}
		}
		if p.Epsilon != 0 && nc > 1 {
			var eom []int
			for c := range selected {
				if selected[c] {
					eom = append(eom, c)
				}
			}
			var keep []int
			if len(eom) == 1 && eom[0] == 0 {
				if p.AllowSingleCluster {
					keep = eom
				}
			} else {
				keep = epsilonSearch(eom, p, birth, parent, subtree)
			}
			clear(selected)
			for _, c := range keep {
				selected[c] = true
			}
		}
		return selected
	}
}

// epsilonSearch replaces each candidate born below distance Epsilon by its
// closest ancestor born above it (the Python library's epsilon_search and
// traverse_upwards).
func epsilonSearch(cands []int, p Params, birth []float64, parent []int, subtree func(int, func(int))) []int {
	selLambda := 1 / p.Epsilon
	processed := map[int]bool{}
	chosen := map[int]bool{}
	var out []int
	add := func(c int) {
		if !chosen[c] {
			chosen[c] = true
			out = append(out, c)
		}
	}
	for _, c := range cands {
		if birth[c] > selLambda {
			if processed[c] {
				continue
			}
			node := c
			res := -1
			for {
				par := parent[node]
				if par == 0 {
					break
				}
				if birth[par] < selLambda {
					res = par
					break
				}
				node = par
			}
			if res < 0 {
				if p.AllowSingleCluster {
					res = 0
				} else {
					res = node
				}
			}
			add(res)
			subtree(res, func(s int) { processed[s] = true })
		} else {
			add(c)
		}
	}
	slices.Sort(out)
	return out
}

// glosh computes GLOSH outlier scores the way the Python library's
// outlier_scores does: the death (largest lambda) of each cluster's own
// rows, propagated to parents over the rows sorted by parent id up to the
// first row whose child is a point (the library's loop; we sort stably,
// where the library uses NumPy's unstable argsort), then
// score = (death − lambda) / death for each point's row.
func glosh(out []float64, tree []CondensedEdge, n, nClusters int, deaths0 []float64) {
	deaths := slices.Clone(deaths0)
	order := make([]int, len(tree))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return tree[a].Parent - tree[b].Parent })
	for _, i := range order {
		r := tree[i]
		if r.Child < n {
			break
		}
		c, par := r.Child-n, r.Parent-n
		if deaths[c] > deaths[par] {
			deaths[par] = deaths[c]
		}
	}
	for _, r := range tree {
		if r.Child >= n {
			continue
		}
		lm := deaths[r.Parent-n]
		if lm == 0 || math.IsInf(r.Lambda, 0) {
			out[r.Child] = 0
		} else {
			out[r.Child] = (lm - r.Lambda) / lm
		}
	}
}
