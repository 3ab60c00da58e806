// Package kmeans clusters vectors with K-means: k-means++ seeding, Lloyd
// iterations with scikit-learn's convergence rules, several restarts
// (n_init), and mini-batch K-means for large inputs.
//
// The semantics follow scikit-learn's KMeans (algorithm "lloyd"):
//   - tol is relative: iterations stop when the summed squared centre shift
//     is at most tol × the mean per-feature variance of the data, or when the
//     labels stop changing ("strict convergence");
//   - a point goes to the nearest centre, ties to the lowest centre index;
//   - an empty cluster is re-seeded with the point farthest from its centre;
//   - when stopped by tol or max_iter, labels are recomputed from the final
//     centres, so labels, centres and inertia agree;
//   - inertia is the sum of squared distances of points to their centre.
//
// Results depend only on the data, the parameters and the seed, never on the
// number of goroutines used.
package kmeans

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/kura-go/kura/internal/parallel"

	"github.com/kura-go/kura/internal/f32"
)

// Params configures a K-means run. Zero values take the defaults noted.
type Params struct {
	K         int     // number of clusters (required, 1..n)
	NInit     int     // independent k-means++ restarts; the lowest inertia wins (default 1)
	MaxIter   int     // Lloyd iterations per run, or epochs for mini-batch (default 300)
	Tol       float64 // relative tolerance on the centre shift (default 1e-4)
	Seed      uint64  // random seed for seeding and mini-batch sampling
	MiniBatch int     // batch size; 0 runs full-batch Lloyd
	Workers   int     // goroutines for the assignment step (default GOMAXPROCS)
	// Init, when set, holds K×d initial centres (row-major) and replaces
	// k-means++ seeding; NInit is then 1.
	Init []float32
}

// Result is the outcome of the best run.
type Result struct {
	Labels     []int     // cluster of each point, 0..K-1
	Centers    []float32 // K×d centres, row-major
	Inertia    float64   // sum of squared distances of points to their centre
	Iterations int       // Lloyd iterations (or mini-batch steps) of the best run
	Converged  bool      // stopped by tol or unchanged labels rather than MaxIter
}

// KForItems is Kura's rule for the number of clusters: ceil(n / itemsPerCluster),
// at least 1.
func KForItems(n, itemsPerCluster int) int {
	if itemsPerCluster < 1 {
		itemsPerCluster = 1
	}
	k := (n + itemsPerCluster - 1) / itemsPerCluster
	return max(k, 1)
}

// Cluster runs K-means on n points of dimension d stored row-major in x.
func Cluster(ctx context.Context, x []float32, n, d int, p Params) (*Result, error) {
	if err := validate(x, n, d, &p); err != nil {
		return nil, err
	}
	tol := p.Tol * meanVariance(x, n, d)
	var best *Result
	for run := 0; run < p.NInit; run++ {
		rng := rand.New(rand.NewPCG(p.Seed, uint64(run)))
		var centers []float32
		if p.Init != nil {
			centers = append([]float32(nil), p.Init...)
		} else {
			var err error
			seedX, seedN := x, n
			if p.MiniBatch > 0 && p.MiniBatch < n {
				// As scikit-learn's MiniBatchKMeans (init_size): seed on a
				// random subsample of 3 × max(batch, K) points.
				seedX, seedN = subsample(x, n, d, min(n, 3*max(p.MiniBatch, p.K)), rng)
			}
			if centers, err = plusPlus(ctx, seedX, seedN, d, p.K, p.Workers, rng); err != nil {
				return nil, err
			}
		}
		var (
			res *Result
			err error
		)
		if p.MiniBatch > 0 && p.MiniBatch < n {
			res, err = miniBatch(ctx, x, n, d, centers, p, tol, rng)
		} else {
			res, err = lloyd(ctx, x, n, d, centers, p, tol)
		}
		if err != nil {
			return nil, err
		}
		if best == nil || res.Inertia < best.Inertia {
			best = res
		}
	}
	return best, nil
}

func validate(x []float32, n, d int, p *Params) error {
	switch {
	case n < 1:
		return errors.New("kmeans: no points to cluster")
	case d < 1:
		return fmt.Errorf("kmeans: dimension must be at least 1, got %d", d)
	case len(x) != n*d:
		return fmt.Errorf("kmeans: have %d values, want n×d = %d×%d = %d", len(x), n, d, n*d)
	case p.K < 1:
		return fmt.Errorf("kmeans: K must be at least 1, got %d", p.K)
	case p.K > n:
		return fmt.Errorf("kmeans: K = %d exceeds the number of points (%d)", p.K, n)
	case p.Init != nil && len(p.Init) != p.K*d:
		return fmt.Errorf("kmeans: Init has %d values, want K×d = %d", len(p.Init), p.K*d)
	case p.MiniBatch < 0:
		return fmt.Errorf("kmeans: negative mini-batch size %d", p.MiniBatch)
	case p.Tol < 0 || math.IsNaN(p.Tol) || math.IsInf(p.Tol, 0):
		return fmt.Errorf("kmeans: tolerance %v: must be a finite number >= 0 (0 for the default 1e-4)", p.Tol)
	case p.NInit < 0:
		return fmt.Errorf("kmeans: restarts %d: must be at least 1 (0 for the default 1)", p.NInit)
	case p.MaxIter < 0:
		return fmt.Errorf("kmeans: iterations %d: must be at least 1 (0 for the default 300)", p.MaxIter)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("kmeans: row %d, column %d (1-based) is %v; values must be finite", i/d+1, i%d+1, v)
		}
	}
	if p.NInit < 1 {
		p.NInit = 1
	}
	if p.Init != nil {
		p.NInit = 1
	}
	if p.MaxIter < 1 {
		p.MaxIter = 300
	}
	if p.Tol == 0 {
		p.Tol = 1e-4
	}
	if p.Workers < 1 {
		p.Workers = runtime.GOMAXPROCS(0)
	}
	return nil
}

// meanVariance is the mean over features of each feature's variance.
func meanVariance(x []float32, n, d int) float64 {
	mean := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : (i+1)*d] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	var s float64
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : (i+1)*d] {
			dv := float64(v) - mean[j]
			s += dv * dv
		}
	}
	return s / float64(n) / float64(d)
}

// plusPlus picks k centres with greedy k-means++ (2 + ln k local trials per
// centre, keeping the trial that lowers the potential most), as scikit-learn
// does. All trials of a step are measured in one pass over the data, in
// parallel over fixed chunks whose sums are added in chunk order, so the
// result does not depend on the number of workers.
func plusPlus(ctx context.Context, x []float32, n, d, k, workers int, rng *rand.Rand) ([]float32, error) {
	trials := 2 + int(math.Log(float64(k)))
	centers := make([]float32, 0, k*d)
	first := rng.IntN(n)
	centers = append(centers, x[first*d:(first+1)*d]...)
	closest := make([]float64, n)
	for i := 0; i < n; i++ {
		closest[i] = float64(f32.SqDist(x[i*d:(i+1)*d], centers))
	}
	var pot float64
	for _, v := range closest {
		pot += v
	}
	chunks := (n + ppChunk - 1) / ppChunk
	partial := make([]float64, chunks*trials) // partial[ch*trials+t]
	scratch := make([][]float32, workers)
	for w := range scratch {
		scratch[w] = make([]float32, ppChunk*trials)
	}
	cands := make([]float32, trials*d)
	ids := make([]int, trials)
	for c := 1; c < k; c++ {
		for t := range ids {
			ids[t] = sampleIndex(closest, pot, rng)
			copy(cands[t*d:(t+1)*d], x[ids[t]*d:(ids[t]+1)*d])
		}
		err := parallel.For(ctx, n, ppChunk, workers, func(w, lo, hi int) {
			ch := lo / ppChunk
			buf := scratch[w][:(hi-lo)*trials]
			f32.SqDistBlock(buf, x[lo*d:hi*d], hi-lo, cands, trials, d)
			sums := partial[ch*trials : (ch+1)*trials]
			clear(sums)
			for i := lo; i < hi; i++ {
				row := buf[(i-lo)*trials : (i-lo+1)*trials]
				for t, v := range row {
					sums[t] += math.Min(float64(v), closest[i])
				}
			}
		})
		if err != nil {
			return nil, err
		}
		best, bestPot := 0, math.Inf(1)
		for t := 0; t < trials; t++ {
			var s float64
			for ch := 0; ch < chunks; ch++ {
				s += partial[ch*trials+t]
			}
			if s < bestPot {
				best, bestPot = t, s
			}
		}
		bc := cands[best*d : (best+1)*d]
		centers = append(centers, bc...)
		pot = 0
		for i := 0; i < n; i++ {
			closest[i] = math.Min(closest[i], float64(f32.SqDist(x[i*d:(i+1)*d], bc)))
			pot += closest[i]
		}
	}
	return centers, nil
}

// subsample returns m distinct points of x drawn at random, in index order.
func subsample(x []float32, n, d, m int, rng *rand.Rand) ([]float32, int) {
	if m >= n {
		return x, n
	}
	perm := rng.Perm(n)[:m]
	slices.Sort(perm)
	out := make([]float32, 0, m*d)
	for _, i := range perm {
		out = append(out, x[i*d:(i+1)*d]...)
	}
	return out, m
}

// ppChunk is the number of points per parallel chunk in k-means++ seeding.
const ppChunk = 256

// sampleIndex draws i with probability w[i]/total; with a zero total (all
// points coincide with centres) it draws uniformly.
func sampleIndex(w []float64, total float64, rng *rand.Rand) int {
	if total <= 0 {
		return rng.IntN(len(w))
	}
	r := rng.Float64() * total
	var acc float64
	for i, v := range w {
		acc += v
		if r < acc {
			return i
		}
	}
	for i := len(w) - 1; i >= 0; i-- {
		if w[i] > 0 {
			return i
		}
	}
	return len(w) - 1
}

// assign sets labels[i] to the nearest centre of point i and dist[i] to the
// squared distance, in parallel over fixed chunks.
func assign(ctx context.Context, x []float32, n, d int, centers []float32, k int, labels []int, dist []float32, workers int) error {
	const chunk = 256
	scratch := make([][]float32, workers)
	for w := range scratch {
		scratch[w] = make([]float32, k)
	}
	return parallel.For(ctx, n, chunk, workers, func(w, lo, hi int) {
		dists := scratch[w]
		for i := lo; i < hi; i++ {
			f32.SqDists(dists, x[i*d:(i+1)*d], centers[:k*d])
			best, bestD := 0, float32(math.Inf(1))
			for j, dj := range dists {
				if dj < bestD {
					best, bestD = j, dj
				}
			}
			labels[i], dist[i] = best, bestD
		}
	})
}

// updateCenters recomputes centres as the means of their points, in point
// order (float64 sums), re-seeding empty clusters with the points farthest
// from their centres as scikit-learn does.
func updateCenters(x []float32, n, d, k int, labels []int, dist []float32, out []float32) {
	sums := make([]float64, k*d)
	counts := make([]int, k)
	for i := 0; i < n; i++ {
		l := labels[i]
		counts[l]++
		s := sums[l*d : (l+1)*d]
		for j, v := range x[i*d : (i+1)*d] {
			s[j] += float64(v)
		}
	}
	var empty []int
	for j, c := range counts {
		if c == 0 {
			empty = append(empty, j)
		}
	}
	if len(empty) > 0 {
		far := farthest(dist, len(empty))
		for e, j := range empty {
			i := far[e]
			old := labels[i]
			if counts[old] > 1 {
				counts[old]--
				so := sums[old*d : (old+1)*d]
				for q, v := range x[i*d : (i+1)*d] {
					so[q] -= float64(v)
				}
			}
			counts[j] = 1
			sj := sums[j*d : (j+1)*d]
			for q, v := range x[i*d : (i+1)*d] {
				sj[q] = float64(v)
			}
		}
	}
	for j := 0; j < k; j++ {
		for q := 0; q < d; q++ {
			out[j*d+q] = float32(sums[j*d+q] / float64(counts[j]))
		}
	}
}

// farthest returns the indices of the m largest distances, largest first
// (ties: lower index first).
func farthest(dist []float32, m int) []int {
	idx := make([]int, 0, m)
	taken := make(map[int]bool, m)
	for len(idx) < m && len(idx) < len(dist) {
		best := -1
		for i, v := range dist {
			if !taken[i] && (best < 0 || v > dist[best]) {
				best = i
			}
		}
		taken[best] = true
		idx = append(idx, best)
	}
	return idx
}

func inertia(dist []float32) float64 {
	var s float64
	for _, v := range dist {
		s += float64(v)
	}
	return s
}

func lloyd(ctx context.Context, x []float32, n, d int, centers []float32, p Params, tol float64) (*Result, error) {
	k := p.K
	labels := make([]int, n)
	old := make([]int, n)
	for i := range old {
		old[i] = -1
	}
	dist := make([]float32, n)
	next := make([]float32, k*d)
	res := &Result{}
	strict := false
	for it := 0; it < p.MaxIter; it++ {
		if err := assign(ctx, x, n, d, centers, k, labels, dist, p.Workers); err != nil {
			return nil, err
		}
		updateCenters(x, n, d, k, labels, dist, next)
		centers, next = next, centers
		res.Iterations = it + 1
		if equalInts(labels, old) {
			strict = true
			res.Converged = true
			break
		}
		var shift float64
		for q := range centers {
			dv := float64(centers[q]) - float64(next[q])
			shift += dv * dv
		}
		if shift <= tol {
			res.Converged = true
			break
		}
		copy(old, labels)
	}
	if !strict {
		if err := assign(ctx, x, n, d, centers, k, labels, dist, p.Workers); err != nil {
			return nil, err
		}
	} else {
		// Labels are unchanged, so the centres are the means of their points;
		// distances are measured against them.
		for i := 0; i < n; i++ {
			l := labels[i]
			dist[i] = f32.SqDist(x[i*d:(i+1)*d], centers[l*d:(l+1)*d])
		}
	}
	res.Labels, res.Centers, res.Inertia = labels, centers, inertia(dist)
	return res, nil
}

// miniBatch runs mini-batch K-means (Sculley 2010, as in scikit-learn's
// MiniBatchKMeans without random reassignment): each step assigns a random
// batch and moves each centre towards its batch points with a per-centre
// learning rate 1/count. MaxIter counts epochs; it stops early when the
// centres move less than tol or when the smoothed batch inertia has not
// improved for 10 steps, as scikit-learn does. A final full pass assigns
// every point.
func miniBatch(ctx context.Context, x []float32, n, d int, centers []float32, p Params, tol float64, rng *rand.Rand) (*Result, error) {
	k, b := p.K, p.MiniBatch
	counts := make([]float64, k)
	batch := make([]float32, b*d)
	bl := make([]int, b)
	bd := make([]float32, b)
	prev := make([]float32, k*d)
	steps := p.MaxIter * ((n + b - 1) / b)
	res := &Result{}
	const maxNoImprovement = 10
	ewa, bestEWA, stale := 0.0, math.Inf(1), 0
	for s := 0; s < steps; s++ {
		for i := 0; i < b; i++ {
			r := rng.IntN(n)
			copy(batch[i*d:(i+1)*d], x[r*d:(r+1)*d])
		}
		if err := assign(ctx, batch, b, d, centers, k, bl, bd, p.Workers); err != nil {
			return nil, err
		}
		copy(prev, centers)
		for i := 0; i < b; i++ {
			l := bl[i]
			counts[l]++
			eta := float32(1 / counts[l])
			c := centers[l*d : (l+1)*d]
			for q, v := range batch[i*d : (i+1)*d] {
				c[q] += eta * (v - c[q])
			}
		}
		res.Iterations = s + 1
		var shift, batchInertia float64
		for q := range centers {
			dv := float64(centers[q]) - float64(prev[q])
			shift += dv * dv
		}
		for _, v := range bd {
			batchInertia += float64(v)
		}
		batchInertia /= float64(b)
		// Early stopping as scikit-learn's MiniBatchKMeans: a small centre
		// shift, or no improvement of the smoothed batch inertia for
		// maxNoImprovement steps.
		if s == 0 {
			ewa = batchInertia
		} else {
			alpha := math.Min(float64(b)*2/float64(n+1), 1)
			ewa = ewa*(1-alpha) + batchInertia*alpha
		}
		if ewa < bestEWA {
			bestEWA, stale = ewa, 0
		} else {
			stale++
		}
		if s > 0 && (shift <= tol || stale >= maxNoImprovement) {
			res.Converged = true
			break
		}
	}
	labels := make([]int, n)
	dist := make([]float32, n)
	if err := assign(ctx, x, n, d, centers, k, labels, dist, p.Workers); err != nil {
		return nil, err
	}
	res.Labels, res.Centers, res.Inertia = labels, centers, inertia(dist)
	return res, nil
}

func equalInts(a, b []int) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
