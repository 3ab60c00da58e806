package reduce

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kura-go/kura/knn"
)

func TestUMAPDeterministicWhateverTheWorkers(t *testing.T) {
	x, _ := blobs(11, 700, 8, 5, 1.5)
	run := func(seed uint64, workers int, m knn.Metric) []float32 {
		p := DefaultUMAPParams()
		p.Seed, p.Workers, p.Metric, p.Epochs = seed, workers, m, 60
		e, err := UMAP(context.Background(), x, 700, 8, p)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, m := range []knn.Metric{knn.Euclidean, knn.Cosine} {
		a, b := run(3, 1, m), run(3, 4, m)
		if !slices.Equal(a, b) {
			t.Errorf("%v: 1 and 4 workers give different embeddings", m)
		}
		if c := run(4, 2, m); slices.Equal(a, c) {
			t.Errorf("%v: seeds 3 and 4 give the same embedding", m)
		}
	}
}

func TestUMAPInputErrors(t *testing.T) {
	ctx := context.Background()
	p := DefaultUMAPParams()
	x := []float32{1, 2, 3, 4, 5, 6}
	bad := func(mod func(*UMAPParams)) UMAPParams { q := p; mod(&q); return q }
	for name, c := range map[string]struct {
		x    []float32
		n, d int
		p    UMAPParams
	}{
		"short data":      {x[:5], 3, 2, p},
		"no rows":         {nil, 0, 2, p},
		"NaN":             {[]float32{1, 2, 3, float32(nan())}, 2, 2, p},
		"one neighbour":   {x, 3, 2, bad(func(q *UMAPParams) { q.NNeighbors = 1 })},
		"0 components":    {x, 3, 2, bad(func(q *UMAPParams) { q.NComponents = 0 })},
		"min dist < 0":    {x, 3, 2, bad(func(q *UMAPParams) { q.MinDist = -1 })},
		"unknown init":    {x, 3, 2, bad(func(q *UMAPParams) { q.Init = "tsne" })},
		"unknown metric":  {x, 3, 2, bad(func(q *UMAPParams) { q.Metric = 7 })},
		"negative epochs": {x, 3, 2, bad(func(q *UMAPParams) { q.Epochs = -1 })},
	} {
		if _, err := UMAP(ctx, c.x, c.n, c.d, c.p); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%s: err = %v, want ErrInvalidInput", name, err)
		}
	}
	// Tiny inputs work: one point, two points, fewer points than neighbours.
	for _, n := range []int{1, 2, 5} {
		e, err := UMAP(ctx, make([]float32, n*3), n, 3, p)
		if err != nil || len(e) != n*2 {
			t.Errorf("n=%d: %d values, err %v", n, len(e), err)
		}
	}
}
