package main

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/kura-go/kura/cluster/quality"
	"github.com/kura-go/kura/vecfile"
)

// TestReadersTakeFloat16 runs the commands that read vectors on the same
// matrix stored as float32 and as float16: both are accepted and give the
// same clusters (three groups far apart, which 11 significant bits keep
// apart), and the same PCA scores within float16's rounding. A .npy of a
// dtype kura does not read is an error naming the file and the dtype.
func TestReadersTakeFloat16(t *testing.T) {
	dir := t.TempDir()
	const n, d = 60, 4
	x := make([]float32, 0, n*d)
	for i := range n {
		g := i / 20
		for j := range d {
			x = append(x, float32(g*10*(j%2))+float32((i*7+j*5)%13)*0.03)
		}
	}
	paths := map[vecfile.DType]string{}
	for _, dt := range []vecfile.DType{vecfile.Float32, vecfile.Float16} {
		p := filepath.Join(dir, dt.String()+".npy")
		if err := vecfile.WriteAs(p, x, n, d, dt); err != nil {
			t.Fatal(err)
		}
		paths[dt] = p
	}
	ints := filepath.Join(dir, "ints.npy")
	hdr := "{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(hdr)+1), 0)
	b = append(append(b, hdr...), '\n')
	if err := os.WriteFile(ints, append(b, make([]byte, 32)...), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string // --in and --out are added
		out  string
	}{
		{"cluster hdbscan", []string{"cluster", "--min-cluster-size", "5"}, "labels.txt"},
		{"cluster kmeans", []string{"cluster", "--algorithm", "kmeans", "--k", "3"}, "labels.txt"},
		{"cluster after pca", []string{"cluster", "--reduce", "pca", "--reduce-dims", "2", "--min-cluster-size", "5"}, "labels.txt"},
		{"reduce pca", []string{"reduce", "--method", "pca", "--components", "2"}, "scores.npy"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var outs []string
			for _, dt := range []vecfile.DType{vecfile.Float32, vecfile.Float16} {
				out := filepath.Join(t.TempDir(), c.out)
				args := append(append([]string(nil), c.args...), "--in", paths[dt], "--out", out)
				if r := execCLI(t, args...); r.err != nil {
					t.Fatalf("%v: %v", dt, r.err)
				}
				outs = append(outs, out)
			}
			if strings.HasSuffix(c.out, ".txt") {
				la, lb := readLabels(t, outs[0]), readLabels(t, outs[1])
				// The same partition (numbering aside): ARI 1.
				if ari, err := quality.AdjustedRandIndex(la, lb); err != nil || len(la) != n || ari != 1 {
					t.Errorf("labels of the float32 file %v, of the float16 file %v: ARI %g, %v", la, lb, ari, err)
				}
				return
			}
			a, _, _, err := vecfile.Read(outs[0], 2)
			if err != nil {
				t.Fatal(err)
			}
			b, _, _, err := vecfile.Read(outs[1], 2)
			if err != nil {
				t.Fatal(err)
			}
			// Scores are sums of 4 products of values rounded by at most
			// 2^-11 relative (|x| < 11): a few thousandths at most; the sign
			// of a principal axis is fixed by the reduce package.
			for i := range a {
				if math.Abs(float64(a[i]-b[i])) > 0.02 {
					t.Fatalf("score %d: %g from float32, %g from float16", i, a[i], b[i])
				}
			}
		})
	}
	for _, cmd := range []string{"cluster", "reduce"} {
		r := execCLI(t, cmd, "--in", ints, "--out", filepath.Join(dir, "o.npy"))
		if r.code != 1 || r.err == nil || !strings.Contains(r.err.Error(), ints) || !strings.Contains(r.err.Error(), `unsupported dtype "<i8": want float32 ('<f4'), float16 ('<f2') or float64 ('<f8')`) {
			t.Errorf("%s on an int64 .npy: exit %d, %v", cmd, r.code, r.err)
		}
	}
}

func readLabels(t *testing.T, path string) []int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		v, err := strconv.Atoi(f)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, v)
	}
	return out
}
