package kmeans

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/kura-go/kura/cluster/quality"
)

// blobs returns n points in d dimensions around k well-separated centres and
// the generating centre of each point.
func blobs(n, d, k int, spread float64, seed uint64) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float64, k*d)
	for i := range centres {
		centres[i] = rng.Float64()*100 - 50
	}
	x := make([]float32, n*d)
	truth := make([]int, n)
	for i := 0; i < n; i++ {
		c := i % k
		truth[i] = c
		for j := 0; j < d; j++ {
			x[i*d+j] = float32(centres[c*d+j] + rng.NormFloat64()*spread)
		}
	}
	return x, truth
}

// refLloyd is an independent float64 transcription of scikit-learn's Lloyd
// loop (_kmeans_single_lloyd) for inputs without empty clusters: assign with
// ties to the lowest index, recompute means, stop on unchanged labels or a
// summed squared centre shift <= tol × mean variance, then a final E-step.
func refLloyd(x []float32, n, d int, init []float32, k, maxIter int, tol float64) ([]int, float64) {
	c := make([]float64, len(init))
	for i, v := range init {
		c[i] = float64(v)
	}
	sq := func(i, j int) float64 {
		var s float64
		for q := 0; q < d; q++ {
			dv := float64(x[i*d+q]) - c[j*d+q]
			s += dv * dv
		}
		return s
	}
	assignAll := func(labels []int) {
		for i := 0; i < n; i++ {
			best, bd := 0, math.Inf(1)
			for j := 0; j < k; j++ {
				if v := sq(i, j); v < bd {
					best, bd = j, v
				}
			}
			labels[i] = best
		}
	}
	tol *= meanVariance(x, n, d)
	labels := make([]int, n)
	old := make([]int, n)
	for i := range old {
		old[i] = -1
	}
	strict := false
	for it := 0; it < maxIter; it++ {
		assignAll(labels)
		nc := make([]float64, len(c))
		cnt := make([]float64, k)
		for i := 0; i < n; i++ {
			cnt[labels[i]]++
			for q := 0; q < d; q++ {
				nc[labels[i]*d+q] += float64(x[i*d+q])
			}
		}
		var shift float64
		for j := 0; j < k; j++ {
			for q := 0; q < d; q++ {
				nc[j*d+q] /= cnt[j]
				dv := nc[j*d+q] - c[j*d+q]
				shift += dv * dv
			}
		}
		c = nc
		same := true
		for i := range labels {
			same = same && labels[i] == old[i]
		}
		if same {
			strict = true
			break
		}
		if shift <= tol {
			break
		}
		copy(old, labels)
	}
	if !strict {
		assignAll(labels)
	}
	var in float64
	for i := 0; i < n; i++ {
		in += sq(i, labels[i])
	}
	return labels, in
}

func TestLloydByHand(t *testing.T) {
	// 1-D points 0, 1, 10, 11 with centres 0 and 1: first pass puts 1, 10, 11
	// together (centre 22/3), the second moves 1 to the first cluster, the
	// third changes nothing. Inertia = 4 × 0.5² = 1.
	x := []float32{0, 1, 10, 11}
	res, err := Cluster(context.Background(), x, 4, 1, Params{K: 2, Init: []float32{0, 1}})
	if err != nil {
		t.Fatal(err)
	}
	want := []int{0, 0, 1, 1}
	for i := range want {
		if res.Labels[i] != want[i] {
			t.Fatalf("labels = %v, want %v", res.Labels, want)
		}
	}
	if res.Inertia != 1 || res.Iterations != 3 || !res.Converged {
		t.Errorf("inertia %v, iterations %d, converged %v; want 1, 3, true", res.Inertia, res.Iterations, res.Converged)
	}
	if res.Centers[0] != 0.5 || res.Centers[1] != 10.5 {
		t.Errorf("centres = %v, want [0.5 10.5]", res.Centers)
	}
}

// TestLloydMatchesReference checks scikit-learn's Lloyd semantics with fixed
// initial centres on overlapping blobs (where labels move for several
// iterations): same labels exactly, inertia within 1e-5 relative (float32
// versus float64 accumulation).
func TestLloydMatchesReference(t *testing.T) {
	tests := []struct {
		name            string
		n, d, k         int
		spread          float64
		maxIter         int
		tol             float64
		seed            uint64
		initFromPointsA int
	}{
		{"overlapping 2-D", 600, 2, 6, 18, 300, 1e-4, 1, 0},
		{"overlapping 16-D", 500, 16, 5, 25, 300, 1e-4, 2, 7},
		{"stopped by max_iter", 400, 3, 8, 30, 2, 1e-4, 3, 11},
		{"zero tol", 300, 4, 4, 20, 300, 1e-12, 4, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, _ := blobs(tt.n, tt.d, tt.k, tt.spread, tt.seed)
			init := make([]float32, 0, tt.k*tt.d)
			for j := 0; j < tt.k; j++ {
				p := (tt.initFromPointsA + 37*j) % tt.n
				init = append(init, x[p*tt.d:(p+1)*tt.d]...)
			}
			wantLabels, wantInertia := refLloyd(x, tt.n, tt.d, init, tt.k, tt.maxIter, tt.tol)
			res, err := Cluster(context.Background(), x, tt.n, tt.d, Params{K: tt.k, Init: init, MaxIter: tt.maxIter, Tol: tt.tol})
			if err != nil {
				t.Fatal(err)
			}
			for i := range wantLabels {
				if res.Labels[i] != wantLabels[i] {
					t.Fatalf("point %d: label %d, reference %d", i, res.Labels[i], wantLabels[i])
				}
			}
			if rel := math.Abs(res.Inertia-wantInertia) / wantInertia; rel > 1e-5 {
				t.Errorf("inertia %v, reference %v (relative error %g > 1e-5)", res.Inertia, wantInertia, rel)
			}
		})
	}
}

func TestRecoversBlobs(t *testing.T) {
	for _, mb := range []int{0, 256} {
		x, truth := blobs(3000, 8, 10, 1, 9)
		res, err := Cluster(context.Background(), x, 3000, 8, Params{K: 10, NInit: 3, Seed: 42, MiniBatch: mb})
		if err != nil {
			t.Fatal(err)
		}
		ari, _ := quality.AdjustedRandIndex(truth, res.Labels)
		if ari != 1 {
			t.Errorf("mini-batch %d: ARI = %v, want 1 on well-separated blobs", mb, ari)
		}
	}
}

func TestDeterministicAcrossWorkers(t *testing.T) {
	x, _ := blobs(2000, 12, 15, 10, 5)
	var first *Result
	for _, w := range []int{1, 2, 3, 8} {
		res, err := Cluster(context.Background(), x, 2000, 12, Params{K: 15, NInit: 2, Seed: 7, Workers: w})
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = res
			continue
		}
		if res.Inertia != first.Inertia {
			t.Errorf("workers %d: inertia %v, with 1 worker %v", w, res.Inertia, first.Inertia)
		}
		for i := range res.Labels {
			if res.Labels[i] != first.Labels[i] {
				t.Fatalf("workers %d: label of point %d differs", w, i)
			}
		}
	}
}

func TestSeed(t *testing.T) {
	x, _ := blobs(500, 4, 8, 15, 6)
	run := func(seed uint64) *Result {
		res, err := Cluster(context.Background(), x, 500, 4, Params{K: 8, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := run(1), run(1)
	if a.Inertia != b.Inertia {
		t.Errorf("same seed gave inertia %v and %v", a.Inertia, b.Inertia)
	}
	// More restarts never do worse than the first of them.
	one, err := Cluster(context.Background(), x, 500, 4, Params{K: 8, Seed: 3, NInit: 1})
	if err != nil {
		t.Fatal(err)
	}
	many, err := Cluster(context.Background(), x, 500, 4, Params{K: 8, Seed: 3, NInit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if many.Inertia > one.Inertia {
		t.Errorf("n_init 5 inertia %v worse than n_init 1 %v", many.Inertia, one.Inertia)
	}
}

func TestEmptyClusterReseeded(t *testing.T) {
	// The third centre is far from every point, so it gets no points on the
	// first pass and is re-seeded with the point farthest from its centre.
	x := []float32{0, 0.1, 0.2, 5, 5.1, 5.2, 9}
	res, err := Cluster(context.Background(), x, 7, 1, Params{K: 3, Init: []float32{0, 5, 1000}})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]int{}
	for _, l := range res.Labels {
		seen[l]++
	}
	if len(seen) != 3 {
		t.Errorf("labels %v: want 3 non-empty clusters", res.Labels)
	}
	if res.Labels[6] == res.Labels[0] || res.Labels[6] == res.Labels[3] {
		t.Errorf("outlier 9 should form its own cluster: labels %v", res.Labels)
	}
}

func TestKForItems(t *testing.T) {
	for _, tt := range []struct{ n, per, want int }{{1000, 10, 100}, {1001, 10, 101}, {5, 10, 1}, {0, 10, 1}, {7, 0, 7}} {
		if got := KForItems(tt.n, tt.per); got != tt.want {
			t.Errorf("KForItems(%d, %d) = %d, want %d", tt.n, tt.per, got, tt.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name    string
		x       []float32
		n, d    int
		p       Params
		wantErr string
	}{
		{"no points", nil, 0, 2, Params{K: 1}, "no points"},
		{"K too large", []float32{1, 2}, 2, 1, Params{K: 3}, "exceeds the number of points"},
		{"K zero", []float32{1, 2}, 2, 1, Params{K: 0}, "at least 1"},
		{"wrong length", []float32{1, 2, 3}, 2, 2, Params{K: 1}, "n×d"},
		{"NaN", []float32{1, nan}, 2, 1, Params{K: 1}, "row 2, column 1 (1-based) is NaN"},
		{"Inf", []float32{float32(math.Inf(1)), 1}, 1, 2, Params{K: 1}, "+Inf"},
		{"bad init", []float32{1, 2}, 2, 1, Params{K: 2, Init: []float32{1}}, "Init has 1 values"},
		{"negative tol", []float32{1, 2}, 2, 1, Params{K: 1, Tol: -1}, "tolerance -1"},
		{"NaN tol", []float32{1, 2}, 2, 1, Params{K: 1, Tol: math.NaN()}, "tolerance NaN"},
		{"Inf tol", []float32{1, 2}, 2, 1, Params{K: 1, Tol: math.Inf(1)}, "tolerance +Inf"},
		{"negative n_init", []float32{1, 2}, 2, 1, Params{K: 1, NInit: -1}, "restarts -1"},
		{"negative max_iter", []float32{1, 2}, 2, 1, Params{K: 1, MaxIter: -5}, "iterations -5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Cluster(context.Background(), tt.x, tt.n, tt.d, tt.p)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestCancelled(t *testing.T) {
	x, _ := blobs(1000, 4, 10, 5, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Cluster(ctx, x, 1000, 4, Params{K: 10}); err == nil {
		t.Error("no error from a cancelled context")
	}
}

func BenchmarkKMeans(b *testing.B) {
	for _, bc := range []struct{ n, d, k, mb int }{{1000, 1536, 100, 0}, {2000, 384, 200, 0}, {100000, 384, 100, 1024}} {
		x, _ := blobs(bc.n, bc.d, bc.k, 5, 1)
		name := fmt.Sprintf("n%d_d%d_k%d", bc.n, bc.d, bc.k)
		if bc.mb > 0 {
			name += "_minibatch"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := Cluster(context.Background(), x, bc.n, bc.d, Params{K: bc.k, Seed: 1, MiniBatch: bc.mb, MaxIter: 100}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
