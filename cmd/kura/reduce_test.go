package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/vecfile"
)

func TestReduceCommand(t *testing.T) {
	dir := t.TempDir()
	// Two groups of 40 points in 6 dimensions.
	const n, d = 80, 6
	var good []float32
	for i := range n {
		for j := range d {
			v := float32((i*7+j*3)%11) * 0.05
			if i >= n/2 && j == 0 {
				v += 50
			}
			good = append(good, v)
		}
	}
	goodPath := filepath.Join(dir, "good.npy")
	if err := vecfile.Write(goodPath, good, n, d); err != nil {
		t.Fatal(err)
	}
	nanPath := filepath.Join(dir, "nan.npy")
	bad := append([]float32(nil), good...)
	bad[3*d+2] = float32(math.NaN())
	if err := vecfile.Write(nanPath, bad, n, d); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.npy")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
		wantCols int
	}{
		{"umap", []string{"reduce", "--in", goodPath, "--out", out, "--components", "2", "--epochs", "20"}, 0, "", 2},
		{"umap cosine f32", []string{"reduce", "--in", goodPath, "--out", filepath.Join(dir, "o.f32"), "--metric", "cosine", "--epochs", "10"}, 0, "", 0},
		{"pca", []string{"reduce", "--in", goodPath, "--out", out, "--method", "pca", "--components", "3"}, 0, "", 3},
		{"missing flags", []string{"reduce", "--in", goodPath}, 2, "--in and --out are required", 0},
		{"bad method", []string{"reduce", "--in", goodPath, "--out", out, "--method", "tsne"}, 2, "umap or pca", 0},
		{"bad metric", []string{"reduce", "--in", goodPath, "--out", out, "--metric", "manhattan"}, 2, "euclidean or cosine", 0},
		{"too many components", []string{"reduce", "--in", goodPath, "--out", out, "--components", "65"}, 2, "--components must be between 1 and 64 for UMAP, not 65", 0},
		{"pca wider than input", []string{"reduce", "--in", goodPath, "--out", out, "--method", "pca", "--components", "7"}, 2, "at most 6", 0},
		{"min dist above spread", []string{"reduce", "--in", goodPath, "--out", out, "--min-dist", "2"}, 2, "--min-dist must be between 0 and --spread (1), not 2", 0},
		{"n-neighbors 1", []string{"reduce", "--in", goodPath, "--out", out, "--n-neighbors", "1"}, 2, "--n-neighbors must be at least 2, not 1", 0},
		{"spread 0", []string{"reduce", "--in", goodPath, "--out", out, "--spread", "0"}, 2, "--spread must be positive, not 0", 0},
		{"negative epochs", []string{"reduce", "--in", goodPath, "--out", out, "--epochs", "-1"}, 2, "--epochs must be 0 (automatic) or more, not -1", 0},
		{"bad init", []string{"reduce", "--in", goodPath, "--out", out, "--init", "tsne"}, 2, `--init must be spectral, pca or random, not "tsne"`, 0},
		{"umap components 0", []string{"reduce", "--in", goodPath, "--out", out, "--components", "0"}, 2, "--components must be between 1 and 64 for UMAP, not 0", 0},
		{"output over input", []string{"reduce", "--in", goodPath, "--out", goodPath}, 2, "refusing to overwrite the input", 0},
		{"bad output extension", []string{"reduce", "--in", goodPath, "--out", filepath.Join(dir, "o.csv")}, 2, "o.csv", 0},
		{"NaN", []string{"reduce", "--in", nanPath, "--out", out}, 1, "nan.npy: reduce: invalid input: row 3, column 2 is NaN", 0},
		{"missing input", []string{"reduce", "--in", filepath.Join(dir, "none.npy"), "--out", out}, 2, "none.npy", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errText, code := execCLI(t, tt.args...).text()
			if code != tt.wantCode || !strings.Contains(errText, tt.wantErr) {
				t.Fatalf("exit %d, error %q; want exit %d and an error containing %q", code, errText, tt.wantCode, tt.wantErr)
			}
			if tt.wantCols == 0 {
				return
			}
			x, rows, cols, err := vecfile.Read(out, 0)
			if err != nil {
				t.Fatal(err)
			}
			if rows != n || cols != tt.wantCols || len(x) != rows*cols {
				t.Fatalf("output %d×%d, want %d×%d", rows, cols, n, tt.wantCols)
			}
		})
	}
	// A failed run leaves the previous output in place.
	before, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if r := execCLI(t, "reduce", "--in", nanPath, "--out", out); r.code != 1 {
		t.Fatalf("NaN input: exit %d", r.code)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Error("a failed run changed the existing output")
	}
}
