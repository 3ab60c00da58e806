package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/kura-go/kura/knn"
	"github.com/kura-go/kura/reduce"
)

func TestSpecValidate(t *testing.T) {
	ok := []Spec{
		{Algorithm: "hdbscan", MinClusterSize: 5},
		{Algorithm: "hdbscan", MinClusterSize: 5, MinSamples: 3, Method: "leaf", Metric: "cosine"},
		{Algorithm: "kmeans", K: 4},
		{Algorithm: "kmeans", ItemsPerCluster: 10},
		{Algorithm: "hdbscan", MinClusterSize: 5, Reduce: reduce.Spec{Method: "none"}},
		{Algorithm: "hdbscan", MinClusterSize: 5, Reduce: reduce.Spec{Method: "umap", Dims: 5, Metric: knn.Cosine, NNeighbors: 50}},
		{Algorithm: "kmeans", K: 4, Reduce: reduce.Spec{Method: "pca", Dims: 10}},
	}
	for _, s := range ok {
		if err := s.Validate(); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := []struct {
		s    Spec
		want string
	}{
		{Spec{Algorithm: "dbscan"}, `clusterer "dbscan": want hdbscan or kmeans`},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 1}, "min cluster size 1: must be at least 2"},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 5, MinSamples: -1}, "min samples -1"},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 5, Metric: "manhattan"}, `metric "manhattan"`},
		{Spec{Algorithm: "kmeans", K: -2}, "k -2: must be positive"},
		{Spec{Algorithm: "kmeans"}, "items per cluster 0"},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 5, Reduce: reduce.Spec{Method: "tsne", Dims: 2}}, `must be umap, pca or none, not "tsne"`},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 5, Reduce: reduce.Spec{Method: "umap"}}, "UMAP dimension must be between 1 and"},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 5, Reduce: reduce.Spec{Method: "umap", Dims: 5, NNeighbors: 1}}, "n_neighbors must be at least 2"},
		{Spec{Algorithm: "kmeans", K: 4, Reduce: reduce.Spec{Method: "pca", Dims: -1}}, "PCA dimension must be at least 1"},
	}
	for _, tt := range bad {
		err := tt.s.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: error %v, want %q matching ErrInvalid", tt.s, err, tt.want)
		}
	}
}

func TestSpecName(t *testing.T) {
	for _, tt := range []struct {
		s    Spec
		want string
	}{
		{Spec{Algorithm: "hdbscan", MinClusterSize: 10}, "hdbscan(min_cluster_size=10,min_samples=10)"},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 10, MinSamples: 4}, "hdbscan(min_cluster_size=10,min_samples=4)"},
		{Spec{Algorithm: "kmeans", K: 7}, "kmeans(k=7)"},
		{Spec{Algorithm: "kmeans", ItemsPerCluster: 10}, "kmeans(k=ceil(n/10))"},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 10, Reduce: reduce.Spec{Method: "none", Dims: 5}}, "hdbscan(min_cluster_size=10,min_samples=10)"},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 10, Reduce: reduce.Spec{Method: "umap", Dims: 5}}, "umap:5 + hdbscan(min_cluster_size=10,min_samples=10)"},
		{Spec{Algorithm: "kmeans", K: 7, Reduce: reduce.Spec{Method: "pca", Dims: 2}}, "pca:2 + kmeans(k=7)"},
	} {
		if got := tt.s.Name(); got != tt.want {
			t.Errorf("Name() = %q, want %q", got, tt.want)
		}
	}
}

// Two well-separated blobs: both algorithms find them, through one dispatch.
func TestRun(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const n, d = 200, 4
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		c := float32(10 * (i % 2))
		for j := 0; j < d; j++ {
			x[i*d+j] = c + float32(rng.NormFloat64())*0.3
		}
	}
	for _, s := range []Spec{{Algorithm: "hdbscan", MinClusterSize: 10}, {Algorithm: "kmeans", ItemsPerCluster: 100, Seed: 3}} {
		r, err := Run(context.Background(), s, x, n, d)
		if err != nil {
			t.Fatal(err)
		}
		if (r.HDBSCAN == nil) == (r.KMeans == nil) {
			t.Errorf("%s: want the result of exactly one algorithm", s.Name())
		}
		for i := 2; i < n; i++ {
			if r.Labels[i] != r.Labels[i%2] || r.Labels[0] == r.Labels[1] {
				t.Fatalf("%s: point %d labelled %d, want the blob's %d", s.Name(), i, r.Labels[i], r.Labels[i%2])
			}
		}
	}
	if _, err := Run(context.Background(), Spec{Algorithm: "x"}, x, n, d); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown algorithm: %v", err)
	}
}

// The spec travels as JSON to the load test's workers: the reduction goes
// with it, by name, and a spec without one writes no "reduce" key.
func TestSpecJSON(t *testing.T) {
	for _, tt := range []struct {
		s       Spec
		want    string // a fragment of the JSON
		without string // must not be in it
	}{
		{Spec{Algorithm: "hdbscan", MinClusterSize: 10}, `"min_cluster_size":10`, `"reduce"`},
		{Spec{Algorithm: "hdbscan", MinClusterSize: 10, Seed: 3, Reduce: reduce.Spec{Method: "umap", Dims: 5, Metric: knn.Cosine, NNeighbors: 50}},
			`"reduce":{"method":"umap","dims":5,"metric":"cosine","n_neighbors":50,"seed":0}`, ""},
		{Spec{Algorithm: "kmeans", K: 4, Reduce: reduce.Spec{Method: "pca", Dims: 3}}, `"reduce":{"method":"pca","dims":3,"metric":"euclidean","seed":0}`, ""},
	} {
		b, err := json.Marshal(tt.s)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tt.want) || tt.without != "" && strings.Contains(string(b), tt.without) {
			t.Errorf("%s: JSON %s, want %s without %q", tt.s.Name(), b, tt.want, tt.without)
		}
		var back Spec
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, tt.s) {
			t.Errorf("round trip: %+v, want %+v", back, tt.s)
		}
	}
	var s Spec
	if err := json.Unmarshal([]byte(`{"algorithm":"hdbscan","reduce":{"method":"umap","dims":5,"metric":"manhattan"}}`), &s); err == nil {
		t.Error("unknown metric in JSON: no error")
	}
}

// ReduceSpec seeds the reduction with the spec's seed; no reduction is
// reduce.MethodNone.
func TestReduceSpec(t *testing.T) {
	s := Spec{Algorithm: "hdbscan", MinClusterSize: 10, Seed: 9, Reduce: reduce.Spec{Method: "umap", Dims: 5, Seed: 1}}
	if r := s.ReduceSpec(); r.Seed != 9 || r.Method != "umap" || r.Dims != 5 {
		t.Errorf("ReduceSpec() = %+v, want umap:5 seeded 9", r)
	}
	for _, s := range []Spec{{Algorithm: "hdbscan"}, {Algorithm: "hdbscan", Reduce: reduce.Spec{Method: "none", Dims: 5}}} {
		if s.Reduces() || s.ReduceSpec().Method != reduce.MethodNone {
			t.Errorf("%+v: Reduces %v, ReduceSpec %+v; want none", s, s.Reduces(), s.ReduceSpec())
		}
	}
}

// Run reduces first when asked: PCA to 2 dimensions keeps two blobs that
// differ along every axis apart, and a PCA dimension above the input's is
// an error, not a panic.
func TestRunReduces(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n, d = 200, 8
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		c := float32(10 * (i % 2))
		for j := 0; j < d; j++ {
			x[i*d+j] = c + float32(rng.NormFloat64())*0.3
		}
	}
	orig := append([]float32(nil), x...)
	s := Spec{Algorithm: "hdbscan", MinClusterSize: 10, Seed: 1, Reduce: reduce.Spec{Method: "pca", Dims: 2}}
	r, err := Run(context.Background(), s, x, n, d)
	if err != nil {
		t.Fatal(err)
	}
	for i := 2; i < n; i++ {
		if r.Labels[i] != r.Labels[i%2] || r.Labels[0] == r.Labels[1] || r.Labels[0] < 0 {
			t.Fatalf("point %d labelled %d, want the blob's %d", i, r.Labels[i], r.Labels[i%2])
		}
	}
	if !reflect.DeepEqual(x, orig) {
		t.Error("Run changed the caller's vectors")
	}
	s.Reduce.Dims = d + 1
	if _, err := Run(context.Background(), s, x, n, d); err == nil || !strings.Contains(err.Error(), "reduce (pca:9)") {
		t.Errorf("PCA to %d of %d dims: error %v", d+1, d, err)
	}
}
