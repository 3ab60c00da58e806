package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/vecfile"
)

func TestClusterCommand(t *testing.T) {
	dir := t.TempDir()
	// Three tight groups of 12 points on a line, far apart.
	var good []float32
	for g := 0; g < 3; g++ {
		for i := 0; i < 12; i++ {
			good = append(good, float32(g*100)+float32(i)*0.01, float32(i%3)*0.01)
		}
	}
	goodPath := filepath.Join(dir, "good.npy")
	if err := vecfile.Write(goodPath, good, 36, 2); err != nil {
		t.Fatal(err)
	}
	nanPath := filepath.Join(dir, "nan.npy")
	bad := append([]float32(nil), good...)
	bad[5] = float32(math.NaN())
	if err := vecfile.Write(nanPath, bad, 36, 2); err != nil {
		t.Fatal(err)
	}
	fewPath := filepath.Join(dir, "few.npy")
	if err := vecfile.Write(fewPath, good[:8], 4, 2); err != nil {
		t.Fatal(err)
	}
	oddPath := filepath.Join(dir, "odd.f32")
	if err := os.WriteFile(oddPath, make([]byte, 4*7), 0o644); err != nil {
		t.Fatal(err)
	}
	emptyPath := filepath.Join(dir, "empty.npy")
	if err := os.WriteFile(emptyPath, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "labels.txt")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"hdbscan", []string{"cluster", "--in", goodPath, "--out", out, "--tree", filepath.Join(dir, "tree.json"), "--probabilities", filepath.Join(dir, "p.txt")}, 0, ""},
		{"kmeans", []string{"cluster", "--in", goodPath, "--out", out, "--algorithm", "kmeans", "--k", "3"}, 0, ""},
		{"hdbscan approximate", []string{"cluster", "--in", goodPath, "--out", out, "--neighbor-search", "approximate"}, 0, ""},
		{"hdbscan exact", []string{"cluster", "--in", goodPath, "--out", out, "--neighbor-search", "exact"}, 0, ""},
		{"bad neighbour search", []string{"cluster", "--in", goodPath, "--out", out, "--neighbor-search", "fast"}, 2, "auto, exact or approximate"},
		{"missing flags", []string{"cluster", "--in", goodPath}, 2, "--in and --out are required"},
		{"min cluster size 1", []string{"cluster", "--in", goodPath, "--out", out, "--min-cluster-size", "1"}, 2, "must be at least 2"},
		{"unknown metric", []string{"cluster", "--in", goodPath, "--out", out, "--metric", "manhattan"}, 2, "euclidean or cosine"},
		{"bad algorithm", []string{"cluster", "--in", goodPath, "--out", out, "--algorithm", "dbscan"}, 2, "hdbscan or kmeans"},
		{"items per cluster 0", []string{"cluster", "--in", goodPath, "--out", out, "--algorithm", "kmeans", "--items-per-cluster", "0"}, 2, "--items-per-cluster must be at least 1"},
		{"NaN tolerance", []string{"cluster", "--in", goodPath, "--out", out, "--algorithm", "kmeans", "--tol", "NaN"}, 1, "tolerance NaN"},
		{"NaN", []string{"cluster", "--in", nanPath, "--out", out}, 1, "clustering " + nanPath + ": hdbscan: invalid input: row 2, column 1: value NaN"},
		{"wrong dims for .f32", []string{"cluster", "--in", oddPath, "--dims", "2", "--out", out}, 1, "odd.f32"},
		{"empty file", []string{"cluster", "--in", emptyPath, "--out", out}, 1, "empty.npy"},
		{"reduce umap", []string{"cluster", "--in", goodPath, "--out", out, "--reduce", "umap", "--reduce-dims", "2", "--reduce-neighbors", "10"}, 0, ""},
		{"reduce pca", []string{"cluster", "--in", goodPath, "--out", out, "--reduce", "pca", "--reduce-dims", "1"}, 0, ""},
		{"reduce unknown", []string{"cluster", "--in", goodPath, "--out", out, "--reduce", "tsne"}, 2, "umap, pca or none"},
		{"reduce dims 0", []string{"cluster", "--in", goodPath, "--out", out, "--reduce", "umap", "--reduce-dims", "0"}, 2, "between 1 and 64"},
		{"reduce metric", []string{"cluster", "--in", goodPath, "--out", out, "--reduce", "umap", "--reduce-metric", "manhattan"}, 2, "euclidean or cosine"},
		{"reduce pca wider than the data", []string{"cluster", "--in", goodPath, "--out", out, "--reduce", "pca", "--reduce-dims", "3"}, 1, "good.npy"},
		{"fewer points than min_cluster_size", []string{"cluster", "--in", fewPath, "--out", out}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errText, code := execCLI(t, tt.args...).text()
			if code != tt.wantCode || !strings.Contains(errText, tt.wantErr) {
				t.Fatalf("exit %d, error %q; want exit %d and an error containing %q", code, errText, tt.wantCode, tt.wantErr)
			}
		})
	}

	// "--out -" writes the labels to the command's standard output.
	if r := execCLI(t, "cluster", "--in", goodPath, "--out", "-", "--algorithm", "kmeans", "--k", "3"); r.code != 0 || len(strings.Fields(r.stdout)) != 36 {
		t.Errorf("--out -: exit %d, %d labels on stdout, want 36: %v", r.code, len(strings.Fields(r.stdout)), r.err)
	}

	// The last successful run with 4 points: all noise, one label per point.
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(b)); len(got) != 4 || strings.Join(got, ",") != "-1,-1,-1,-1" {
		t.Errorf("labels for 4 points with min_cluster_size 10 = %v, want all noise", got)
	}
}

// TestClusterOutputs checks that cluster never overwrites its input nor
// leaves a truncated or half-written output: outputs equal to the input or
// to each other, and outputs in missing directories, are refused before any
// work, and an existing output is untouched when the run fails.
func TestClusterOutputs(t *testing.T) {
	dir := t.TempDir()
	var vecs []float32
	for i := 0; i < 30; i++ {
		vecs = append(vecs, float32(i%3)*10+float32(i)*0.01, 0)
	}
	in := filepath.Join(dir, "v.npy")
	if err := vecfile.Write(in, vecs, 30, 2); err != nil {
		t.Fatal(err)
	}
	orig, _ := os.ReadFile(in)
	labels := filepath.Join(dir, "labels.txt")
	nan := filepath.Join(dir, "nan.npy")
	bad := append([]float32(nil), vecs...)
	bad[7] = float32(math.Inf(1))
	if err := vecfile.Write(nan, bad, 30, 2); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"labels over the input", []string{"--out", in}, "refusing to overwrite the input"},
		{"probabilities over the input", []string{"--out", labels, "--probabilities", in}, "refusing to overwrite the input"},
		{"tree over the input", []string{"--out", labels, "--tree", in}, "refusing to overwrite the input"},
		{"two outputs the same", []string{"--out", labels, "--outlier-scores", labels}, "are the same file"},
		{"missing directory", []string{"--out", labels, "--probabilities", filepath.Join(dir, "no", "p.txt")}, "does not exist"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"cluster", "--in", in, "--min-cluster-size", "5"}, tt.args...)
			_, errText, code := execCLI(t, args...).text()
			if code != 2 || !strings.Contains(errText, tt.wantErr) {
				t.Errorf("exit %d, error %q; want exit 2 and an error containing %q", code, errText, tt.wantErr)
			}
			if b, _ := os.ReadFile(in); string(b) != string(orig) {
				t.Fatalf("the input was modified")
			}
			if _, err := os.Stat(labels); err == nil {
				t.Errorf("labels written although the run was refused")
			}
		})
	}

	// A failing run leaves an existing output as it was.
	if err := os.WriteFile(labels, []byte("previous\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errText, code := execCLI(t, "cluster", "--in", nan, "--out", labels).text(); code != 1 || !strings.Contains(errText, "Inf") {
		t.Errorf("exit %d, error %q; want exit 1 naming the Inf", code, errText)
	}
	if b, _ := os.ReadFile(labels); string(b) != "previous\n" {
		t.Errorf("labels after a failed run = %q, want the previous content", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 3 {
		t.Errorf("directory holds %d entries after the runs, want 3 (no temporary files left)", len(ents))
	}
}

// TestSummaryLines checks the lines kura cluster and kura reduce end with:
// peak memory in binary units labelled so (they said "MB" for MiB), counts
// with thousands separators, within $COLUMNS.
func TestSummaryLines(t *testing.T) {
	t.Setenv("COLUMNS", "60")
	dir := t.TempDir()
	const n = 1200
	vecs := make([]float32, 0, 2*n)
	for i := range n {
		vecs = append(vecs, float32(i%3)*100+float32(i%40)*0.01, float32(i%7)*0.01)
	}
	in := filepath.Join(dir, "v.npy")
	if err := vecfile.Write(in, vecs, n, 2); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"cluster", "--in", in, "--out", filepath.Join(dir, "l.txt"), "--algorithm", "kmeans", "--k", "3"}, "clustered 1,200 points (2 dims) with kmeans: 3 clusters, 0 noise, "},
		{[]string{"reduce", "--in", in, "--out", filepath.Join(dir, "r.npy"), "--method", "pca", "--components", "1"}, "reduced 1,200 vectors from 2 to 1 dimensions with pca: "},
	} {
		_, stderr, err, _ := execCLI(t, tt.args...).all()
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		said := strings.Join(strings.Fields(stderr), " ")
		if !strings.Contains(said, tt.want) || !strings.Contains(said, "peak memory ") || !strings.Contains(said, "iB") || strings.Contains(said, " MB") {
			t.Errorf("%s said %q, want %q... peak memory N MiB", tt.args[0], stderr, tt.want)
		}
		for _, l := range strings.Split(strings.TrimSuffix(stderr, "\n"), "\n") {
			if len(l) > 60 {
				t.Errorf("%s: %d columns at 60: %q", tt.args[0], len(l), l)
			}
		}
	}
}
