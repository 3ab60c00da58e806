package hdbscan

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// readNPY reads a 2-D float32 C-order .npy file (the fixtures' format).
func readNPY(t testing.TB, path string) ([]float32, int, int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		t.Fatalf("%s: not an .npy file", path)
	}
	var hl, off int
	if b[6] == 1 {
		hl, off = int(binary.LittleEndian.Uint16(b[8:10])), 10
	} else {
		hl, off = int(binary.LittleEndian.Uint32(b[8:12])), 12
	}
	hdr := string(b[off : off+hl])
	if !strings.Contains(hdr, "'<f4'") || strings.Contains(hdr, "'fortran_order': True") {
		t.Fatalf("%s: want little-endian float32 C order, header %s", path, hdr)
	}
	m := regexp.MustCompile(`'shape': \((\d+), (\d+)\)`).FindStringSubmatch(hdr)
	if m == nil {
		t.Fatalf("%s: no 2-D shape in header %s", path, hdr)
	}
	n, _ := strconv.Atoi(m[1])
	d, _ := strconv.Atoi(m[2])
	data := b[off+hl:]
	if len(data) != 4*n*d {
		t.Fatalf("%s: %d data bytes, want %d", path, len(data), 4*n*d)
	}
	x := make([]float32, n*d)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return x, n, d
}

func readLabels(t testing.TB, path string) []int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []int
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// samePartition reports whether a and b are the same partition up to
// relabelling, noise (-1) matching noise; the error names the first
// mismatching row.
func samePartition(a, b []int) error {
	if len(a) != len(b) {
		return fmt.Errorf("lengths %d and %d", len(a), len(b))
	}
	ab, ba := map[int]int{}, map[int]int{}
	for i := range a {
		if (a[i] == -1) != (b[i] == -1) {
			return fmt.Errorf("row %d: labels %d and %d (noise differs)", i, a[i], b[i])
		}
		if a[i] == -1 {
			continue
		}
		if v, ok := ab[a[i]]; ok && v != b[i] {
			return fmt.Errorf("row %d: label %d maps to both %d and %d", i, a[i], v, b[i])
		}
		if v, ok := ba[b[i]]; ok && v != a[i] {
			return fmt.Errorf("row %d: label %d maps back to both %d and %d", i, b[i], v, a[i])
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return nil
}

// TestFixtures checks every reference partition in testdata exactly (no
// tolerance: the same partition up to relabelling).
func TestFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.mcs*.ms*.labels")
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	re := regexp.MustCompile(`^(.*)\.mcs(\d+)\.ms(\d+)\.labels$`)
	for _, f := range files {
		m := re.FindStringSubmatch(filepath.Base(f))
		if m == nil {
			t.Fatalf("bad fixture name %s", f)
		}
		mcs, _ := strconv.Atoi(m[2])
		ms, _ := strconv.Atoi(m[3])
		t.Run(filepath.Base(f), func(t *testing.T) {
			x, n, d := readNPY(t, filepath.Join("testdata", m[1]+".npy"))
			want := readLabels(t, f)
			p := DefaultParams()
			p.MinClusterSize, p.MinSamples = mcs, ms
			res, err := Cluster(context.Background(), x, n, d, p)
			if err != nil {
				t.Fatal(err)
			}
			if err := samePartition(res.Labels, want); err != nil {
				t.Fatalf("partition differs from reference: %v", err)
			}
			t.Logf("n=%d d=%d clusters=%d", n, d, res.NumClusters)
		})
	}
}
