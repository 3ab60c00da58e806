package reduce

import (
	"math"
	"math/rand/v2"
)

// blobs returns n points in d dimensions around c centres drawn uniformly in
// [−10, 10]^d, with unit Gaussian noise, and their centre labels.
func blobs(seed uint64, n, d, c int, sd float64) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([]float64, c*d)
	for i := range centres {
		centres[i] = rng.Float64()*20 - 10
	}
	x := make([]float32, n*d)
	labels := make([]int, n)
	for i := range n {
		l := rng.IntN(c)
		labels[i] = l
		for j := range d {
			x[i*d+j] = float32(centres[l*d+j] + sd*rng.NormFloat64())
		}
	}
	return x, labels
}

func nan() float64 { return math.NaN() }
