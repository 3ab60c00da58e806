package reduce

import (
	"context"
	"math"
	"testing"

	"github.com/kura-go/kura/knn"
)

// BenchmarkSGD times the SGD epochs alone (200 epochs, 5 dimensions) on the
// fuzzy set of 20,000 blob points.
func BenchmarkSGD(b *testing.B) {
	ctx := context.Background()
	x, _ := blobs(1, 20000, 10, 20, 2)
	g, err := knn.Build(ctx, x, 20000, 10, knn.Params{K: 14, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	fs, err := fuzzySet(ctx, &neighbours{n: g.N, k: g.K, idx: g.Index, dist: g.Dist}, 0)
	if err != nil {
		b.Fatal(err)
	}
	fs.prune(200)
	p := DefaultUMAPParams()
	p.NComponents = 5
	init, err := initialLayout(ctx, fs, x, 10, p, 2)
	if err != nil {
		b.Fatal(err)
	}
	a, bb, _ := findAB(1, 0.1)
	emb := make([]float32, len(init))
	b.ResetTimer()
	for range b.N {
		copy(emb, init)
		if err := optimize(ctx, fs, emb, 5, layout{a: a, b: bb, epochs: 200, negRate: 5, gamma: 1, alpha0: 1, seed: 1, workers: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

var powSink float32

func BenchmarkPowf(b *testing.B) {
	x := float32(1.7)
	for range b.N {
		powSink += powf(x, 0.8950608)
		x += 0.37
		if x > 100 {
			x = 0.01
		}
	}
}

func BenchmarkMathPow(b *testing.B) {
	x := 1.7
	for range b.N {
		powSink += float32(math.Pow(x, 0.8950608))
		x += 0.37
		if x > 100 {
			x = 0.01
		}
	}
}
