package cluster

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestSpecValidate(t *testing.T) {
	ok := []Spec{
		{Algorithm: "hdbscan", MinClusterSize: 5},
		{Algorithm: "hdbscan", MinClusterSize: 5, MinSamples: 3, Method: "leaf", Metric: "cosine"},
		{Algorithm: "kmeans", K: 4},
		{Algorithm: "kmeans", ItemsPerCluster: 10},
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
