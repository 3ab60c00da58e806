package reduce

import (
	"context"

	"github.com/kura-go/kura/internal/parallel"
)

// layout holds the parameters of the stochastic gradient descent.
type layout struct {
	a, b    float64 // low-dimensional similarity 1/(1 + a·d^(2b))
	epochs  int
	negRate int     // negative samples per positive sample
	gamma   float64 // repulsion strength
	alpha0  float64 // initial learning rate
	seed    uint64
	workers int
	onEpoch func(epoch int) // optional progress callback, called between epochs
}

// optimize runs the SGD epochs of umap-learn's optimize_layout_euclidean on
// emb (n×dim, row-major), in place.
//
// Edge sampling follows umap-learn: the directed edge i→j of weight w is
// sampled every max(w)/w epochs (epochs_per_sample), and each sample of it
// draws negRate uniformly random vertices to push i away from, on their own
// schedule (epochs_per_negative_sample); the learning rate decays linearly
// from alpha0 to 0; every gradient component is clipped to [−4, 4].
//
// Unlike umap-learn's Hogwild updates, the result is deterministic for a
// seed, whatever the number of workers: each epoch reads the positions the
// previous epoch left (a snapshot) and writes new ones. A vertex's own
// position moves sequentially through its edges; the other end of an edge
// and the negative samples are read from the snapshot. umap-learn moves both
// ends of a sampled edge, and its graph holds both directions of each edge,
// so a vertex is pulled twice per sample of the pair; here each vertex
// processes its own row only, so its attractive step is doubled. Negative
// samples come from a random stream seeded by (seed, epoch, vertex).
func optimize(ctx context.Context, g *graph, emb []float32, dim int, p layout) error {
	n := g.n
	m := g.nnz()
	if m == 0 || p.epochs <= 0 {
		return nil
	}
	var maxW float32
	for _, w := range g.w {
		maxW = max(maxW, w)
	}
	eps := make([]float32, m)     // epochs per sample
	nextPos := make([]float32, m) // epoch of next sample
	nextNeg := make([]float32, m) // epoch of next negative sample
	negRate := float32(p.negRate)
	for i, w := range g.w {
		e := maxW / w
		eps[i] = e
		nextPos[i] = e
		nextNeg[i] = e / negRate
	}
	a, b := float32(p.a), float32(p.b)
	gamma := float32(p.gamma)
	attr := -2 * a * b // attractive coefficient, doubled below
	rep := 2 * gamma * b
	prev := emb
	next := make([]float32, len(emb))
	un := uint64(n)
	for epoch := range p.epochs {
		if err := ctx.Err(); err != nil {
			return err
		}
		alpha := float32(p.alpha0 * (1 - float64(epoch)/float64(p.epochs)))
		fe := float32(epoch)
		err := parallel.For(ctx, n, 512, p.workers, func(_, lo, hi int) {
			var cur [maxDims]float32
			for i := lo; i < hi; i++ {
				c := cur[:dim]
				copy(c, prev[i*dim:(i+1)*dim])
				rng := vertexStream(p.seed, uint64(epoch), uint64(i))
				for q := g.start[i]; q < g.start[i+1]; q++ {
					if nextPos[q] > fe {
						continue
					}
					j := int(g.col[q])
					o := prev[j*dim : (j+1)*dim : (j+1)*dim]
					if d2 := sqDist(c, o); d2 > 0 {
						pb := powf(d2, b)
						gc := attr * pb / d2 / (a*pb + 1)
						for k := range c {
							c[k] += 2 * clip(gc*(c[k]-o[k])) * alpha
						}
					}
					nextPos[q] += eps[q]
					en := eps[q] / negRate
					nn := int((fe - nextNeg[q]) / en)
					for range max(nn, 0) {
						t := rng.intn(un)
						if t == uint64(i) {
							continue
						}
						o := prev[int(t)*dim : int(t+1)*dim : int(t+1)*dim]
						d2 := sqDist(c, o)
						if d2 <= 0 {
							continue
						}
						gc := rep / ((0.001 + d2) * (a*powf(d2, b) + 1))
						for k := range c {
							c[k] += clip(gc*(c[k]-o[k])) * alpha
						}
					}
					nextNeg[q] += float32(nn) * en
				}
				copy(next[i*dim:(i+1)*dim], c)
			}
		})
		if err != nil {
			return err
		}
		prev, next = next, prev
		if p.onEpoch != nil {
			p.onEpoch(epoch)
		}
	}
	if &prev[0] != &emb[0] {
		copy(emb, prev)
	}
	return nil
}

// MaxDims is the largest output dimension UMAP supports.
const MaxDims = 64

const maxDims = MaxDims

func sqDist(a, b []float32) float32 {
	b = b[:len(a)]
	var s float32
	for k, v := range a {
		d := v - b[k]
		s += d * d
	}
	return s
}

func clip(v float32) float32 {
	return min(max(v, -4), 4)
}

// stream is a splitmix64 random stream.
type stream struct{ s uint64 }

func vertexStream(seed, epoch, vertex uint64) stream {
	s := stream{seed}
	s.s = s.next() ^ epoch
	s.s = s.next() ^ vertex
	return s
}

func (s *stream) next() uint64 {
	s.s += 0x9e3779b97f4a7c15
	z := s.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a value in [0, n) (Lemire's multiply-shift; n < 2³²).
func (s *stream) intn(n uint64) uint64 {
	return ((s.next() >> 32) * n) >> 32
}
