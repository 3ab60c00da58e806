package reduce

import (
	"context"
	"math"
	"sort"
	"testing"

	"github.com/kura-go/kura/knn"
	"gonum.org/v1/gonum/mat"
)

func TestSpectralLayoutMatchesDenseEigenvectors(t *testing.T) {
	// One wide blob: a connected k-NN graph.
	x, _ := blobs(5, 400, 4, 1, 3)
	nb := exactNeighbours(t, x, 400, 4, 14, knn.Euclidean)
	g, err := fuzzySet(context.Background(), nb, 2)
	if err != nil {
		t.Fatal(err)
	}
	if c := g.components(); c != 1 {
		t.Fatalf("graph has %d components", c)
	}
	n, dim := g.n, 3
	emb, ok, err := spectralLayout(context.Background(), g, dim, 1, 2)
	if err != nil || !ok {
		t.Fatalf("spectralLayout: ok %v, err %v", ok, err)
	}
	// Dense reference: the eigenvalues of D^-1/2 W D^-1/2.
	deg := make([]float64, n)
	for i := range n {
		for p := g.start[i]; p < g.start[i+1]; p++ {
			deg[i] += float64(g.w[p])
		}
	}
	m := mat.NewSymDense(n, nil)
	for i := range n {
		for p := g.start[i]; p < g.start[i+1]; p++ {
			j := int(g.col[p])
			m.SetSym(i, j, float64(g.w[p])/math.Sqrt(deg[i]*deg[j]))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(m, true) {
		t.Fatal("dense eigendecomposition failed")
	}
	vals := es.Values(nil)
	sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
	if math.Abs(vals[0]-1) > 1e-9 {
		t.Fatalf("largest eigenvalue %g, want 1", vals[0])
	}
	// Each returned vector is an eigenvector (residual below the solver's
	// tolerance 1e-4, unit length) of the 2nd..dim+1th eigenvalue.
	v := make([]float64, n)
	mv := mat.NewVecDense(n, nil)
	for c := range dim {
		for r := range n {
			v[r] = emb[r*dim+c]
		}
		vec := mat.NewVecDense(n, v)
		mv.MulVec(m, vec)
		theta := mat.Dot(vec, mv)
		if math.Abs(theta-vals[c+1]) > 1e-6 {
			t.Errorf("vector %d: Rayleigh quotient %.8f, eigenvalue %.8f", c, theta, vals[c+1])
		}
		res := 0.0
		for r := range n {
			d := mv.AtVec(r) - theta*v[r]
			res += d * d
		}
		if math.Sqrt(res) > 1e-4 || math.Abs(mat.Norm(vec, 2)-1) > 1e-9 {
			t.Errorf("vector %d: residual %g, norm %g", c, math.Sqrt(res), mat.Norm(vec, 2))
		}
	}
}
