package reduce

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/kura-go/kura/knn"
)

func TestSpec(t *testing.T) {
	for _, c := range []struct {
		s    Spec
		ok   bool
		name string
	}{
		{DefaultSpec(), true, "umap:5"},
		{Spec{Method: MethodNone}, true, "none"},
		{Spec{Method: MethodPCA, Dims: 50}, true, "pca:50"},
		{Spec{Method: MethodUMAP, Dims: 10, Metric: knn.Cosine, NNeighbors: 50}, true, "umap:10"},
		{Spec{Method: MethodUMAP, Dims: 0}, false, ""},
		{Spec{Method: MethodUMAP, Dims: 65}, false, ""},
		{Spec{Method: MethodUMAP, Dims: 5, NNeighbors: 1}, false, ""},
		{Spec{Method: MethodUMAP, Dims: 5, Metric: 9}, false, ""},
		{Spec{Method: MethodPCA, Dims: 0}, false, ""},
		{Spec{Method: "tsne", Dims: 2}, false, ""},
		{Spec{}, false, ""},
	} {
		err := c.s.Validate()
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, ErrInvalidInput)) {
			t.Errorf("%+v: Validate() = %v, want ok %v", c.s, err, c.ok)
		}
		if c.ok && c.s.String() != c.name {
			t.Errorf("%+v: String() = %q, want %q", c.s, c.s.String(), c.name)
		}
	}
	x, _ := blobs(3, 200, 6, 3, 1)
	ctx := context.Background()
	out, d, err := Spec{Method: MethodNone}.Apply(ctx, x, 200, 6)
	if err != nil || d != 6 || !slices.Equal(out, x) {
		t.Errorf("none: dims %d, err %v, same data %v", d, err, slices.Equal(out, x))
	}
	out, d, err = Spec{Method: MethodPCA, Dims: 2}.Apply(ctx, x, 200, 6)
	if err != nil || d != 2 || len(out) != 400 {
		t.Errorf("pca: dims %d, %d values, err %v", d, len(out), err)
	}
	if _, _, err = (Spec{Method: MethodPCA, Dims: 7}).Apply(ctx, x, 200, 6); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("pca wider than the input: err %v, want ErrInvalidInput", err)
	}
	s := Spec{Method: MethodUMAP, Dims: 3, NNeighbors: 8, Seed: 5}
	if p := s.UMAPParams(); p.NNeighbors != 8 || p.NComponents != 3 || p.Seed != 5 || p.MinDist != 0.1 {
		t.Errorf("UMAPParams() = %+v", p)
	}
	out, d, err = s.Apply(ctx, x, 200, 6)
	if err != nil || d != 3 || len(out) != 600 {
		t.Errorf("umap: dims %d, %d values, err %v", d, len(out), err)
	}
}
