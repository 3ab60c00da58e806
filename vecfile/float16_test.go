package vecfile

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/x448/float16"
)

// TestFloat16AgainstNumpy checks the float16 conversion both ways against
// numpy (testdata/float16_fixture.py): tolerance none. Writing
// f16_input.npy as float16 must give exactly the bytes np.save wrote for
// astype('<f2') (header and every half's bits: round to nearest, ties to
// even, subnormals, NaN), and reading numpy's file must give exactly the
// float32 bits of astype('<f4').
func TestFloat16AgainstNumpy(t *testing.T) {
	in, rows, cols, err := Read(filepath.Join("testdata", "f16_input.npy"), 0)
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join("testdata", "f16_numpy.npy")
	want, err := os.ReadFile(ref)
	if err != nil {
		t.Fatal(err)
	}
	widened, _, _, err := Read(filepath.Join("testdata", "f16_widened.npy"), cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		write func(path string) error
	}{
		{"WriteAs", func(p string) error { return WriteAs(p, in, rows, cols, Float16) }},
		{"CreateAs in chunks of 5 rows", func(p string) error { return writeInChunksAs(p, in, cols, 5, Float16) }},
		{"CreateAs row by row", func(p string) error { return writeInChunksAs(p, in, cols, 1, Float16) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "h.npy")
			if err := c.write(p); err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if len(got) != len(want) {
				t.Fatalf("%d bytes, numpy wrote %d", len(got), len(want))
			}
			if !bytes.Equal(got[:128], want[:128]) {
				t.Errorf("header differs from numpy's:\n got %q\nwant %q", got[:128], want[:128])
			}
			bad := 0
			for i := 128; i+1 < len(got); i += 2 {
				if got[i] != want[i] || got[i+1] != want[i+1] {
					if bad++; bad <= 5 {
						k := (i - 128) / 2
						t.Errorf("value %d = %g: half bits %02x%02x, numpy %02x%02x", k, in[k], got[i+1], got[i], want[i+1], want[i])
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d halves differ from numpy's", bad, rows*cols)
			}
		})
	}
	for _, open := range []bool{false, true} {
		var data []float32
		var dt DType
		if open {
			m, err := Open(ref, cols)
			if err != nil {
				t.Fatal(err)
			}
			if m.Mapped() {
				t.Error("a float16 file was mapped; its rows must be widened to float32")
			}
			data, dt = append([]float32(nil), m.Data...), m.DType // Data is not ours after Close
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}
		} else {
			r, err := NewNPYReader(bytes.NewReader(want), ref)
			if err != nil {
				t.Fatal(err)
			}
			data, dt = make([]float32, rows*cols), r.DType()
			if n, err := r.ReadRows(data); n != rows || err != nil {
				t.Fatalf("ReadRows: %d rows, %v", n, err)
			}
		}
		if dt != Float16 {
			t.Errorf("open=%v: dtype %v, want float16", open, dt)
		}
		if !equal(data, widened) {
			for i := range data {
				if math.Float32bits(data[i]) != math.Float32bits(widened[i]) {
					t.Fatalf("open=%v: value %d widened to %g (%08x), numpy %g (%08x)", open, i,
						data[i], math.Float32bits(data[i]), widened[i], math.Float32bits(widened[i]))
				}
			}
		}
	}
}

func writeInChunksAs(path string, data []float32, cols, rowsPerChunk int, dt DType) error {
	w, err := CreateAs(path, cols, dt)
	if err != nil {
		return err
	}
	for len(data) > 0 {
		n := min(len(data), rowsPerChunk*cols)
		if err := w.Write(data[:n]); err != nil {
			w.Close()
			return err
		}
		data = data[n:]
	}
	return w.Close()
}

// TestFloat16RoundTrip: a float16 file is half the data of a float32 one,
// reads back as the float32 values within half a float16 step (relative
// 2^-11 for normal values, 2^-25 absolute below), and writing what was read
// gives the same file again.
func TestFloat16RoundTrip(t *testing.T) {
	for _, c := range []struct{ rows, cols int }{{0, 3}, {1, 1}, {5, 384}, {1000, 7}, {40000, 2}} {
		data := make([]float32, c.rows*c.cols)
		for i := range data {
			data[i] = float32(math.Sin(float64(i)*0.37)) * float32(i%13) / 7
		}
		p := filepath.Join(t.TempDir(), "h.npy")
		if err := WriteAs(p, data, c.rows, c.cols, Float16); err != nil {
			t.Fatal(err)
		}
		st, _ := os.Stat(p)
		if want := int64(128 + 2*len(data)); st.Size() != want {
			t.Errorf("%dx%d: %d bytes, want %d (half of float32's data)", c.rows, c.cols, st.Size(), want)
		}
		got, rows, cols, err := Read(p, c.cols)
		if err != nil {
			t.Fatalf("%dx%d: %v", c.rows, c.cols, err)
		}
		if rows != c.rows || cols != c.cols {
			t.Fatalf("%dx%d: read back %dx%d", c.rows, c.cols, rows, cols)
		}
		for i, v := range data {
			tol := max(math.Abs(float64(v))*math.Pow(2, -11), math.Pow(2, -25))
			if d := math.Abs(float64(got[i] - v)); d > tol {
				t.Fatalf("%dx%d: value %d = %g read back as %g (off by %g > %g)", c.rows, c.cols, i, v, got[i], d, tol)
			}
		}
		q := filepath.Join(t.TempDir(), "again.npy")
		if err := WriteAs(q, got, rows, cols, Float16); err != nil {
			t.Fatal(err)
		}
		a, _ := os.ReadFile(p)
		b, _ := os.ReadFile(q)
		if !bytes.Equal(a, b) {
			t.Errorf("%dx%d: rewriting the values read gives a different file", c.rows, c.cols)
		}
	}
}

// TestFloat16Range: finite values that would round past ±65504 are refused
// with the row and dimension, none of the call's rows is written, and the
// rows written before stay readable; the largest half, values that round
// to it, infinities and NaN are stored.
func TestFloat16Range(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	for _, c := range []struct {
		name    string
		row     []float32
		want    []float32 // read back; nil: refused
		wantErr string
	}{
		{"largest half", []float32{65504, -65504}, []float32{65504, -65504}, ""},
		{"rounds down to the largest", []float32{65519.99, -65519}, []float32{65504, -65504}, ""},
		{"infinities and NaN", []float32{inf, -inf}, []float32{inf, -inf}, ""},
		{"halfway past the largest", []float32{1, 65520}, nil, "value 65520 in row 2, dimension 2, is beyond float16's range (±65504)"},
		{"negative", []float32{-70000, 0}, nil, "value -70000 in row 2, dimension 1"},
		{"huge", []float32{0, 1e30}, nil, "value 1e+30 in row 2, dimension 2"},
		{"underflows to zero", []float32{1e-9, -1e-9}, []float32{0, float32(math.Copysign(0, -1))}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "h.npy")
			w, err := CreateAs(p, 2, Float16)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write([]float32{0.5, -0.25}); err != nil {
				t.Fatal(err)
			}
			err = w.Write(c.row)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error %v, want one naming %s and saying %q", err, p, c.wantErr)
				}
				if w.Rows() != 1 {
					t.Errorf("%d rows after the refused write, want 1", w.Rows())
				}
			} else if err != nil {
				t.Fatal(err)
			}
			// The Writer goes on after a refused row.
			if err := w.Write([]float32{nan, 2}); err != nil {
				t.Fatalf("write after: %v", err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got, rows, _, err := Read(p, 2)
			if err != nil {
				t.Fatal(err)
			}
			want := []float32{0.5, -0.25}
			if c.want != nil {
				want = append(want, c.want...)
			}
			want = append(want, nan, 2)
			if rows != len(want)/2 || !equal(got[:len(want)-2], want[:len(want)-2]) || !math.IsNaN(float64(got[len(got)-2])) || got[len(got)-1] != 2 {
				t.Errorf("read back %d rows %v, want %v", rows, got, want)
			}
		})
	}
	// WriteAs of a whole matrix with such a value leaves no file.
	p := filepath.Join(t.TempDir(), "w.npy")
	if err := WriteAs(p, []float32{1, 2, 3, 1e6}, 2, 2, Float16); err == nil || !strings.Contains(err.Error(), "value 1e+06 in row 2, dimension 2") {
		t.Errorf("WriteAs: %v", err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("WriteAs left a file after refusing a value: %v", err)
	}
}

func TestDTypeChoices(t *testing.T) {
	for _, c := range []struct {
		in      string
		want    DType
		wantErr string
	}{
		{"float32", Float32, ""},
		{"Float16", Float16, ""},
		{"<f2", Float16, ""},
		{" f4 ", Float32, ""},
		{"float64", 0, `unknown vector dtype "float64": want float32 or float16`},
		{"half", 0, `unknown vector dtype "half"`},
		{"", 0, "unknown vector dtype"},
	} {
		got, err := ParseDType(c.in)
		switch {
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("%q: error %v, want %q", c.in, err, c.wantErr)
		case c.wantErr == "" && (err != nil || got != c.want):
			t.Errorf("%q: %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	dir := t.TempDir()
	for _, c := range []struct {
		name    string
		err     error
		wantErr string
	}{
		{"raw f32 as float16", func() error { _, err := CreateAs(filepath.Join(dir, "v.f32"), 3, Float16); return err }(), "raw .f32 files hold float32 only; write float16 vectors as .npy"},
		{"WriteAs raw f32", WriteAs(filepath.Join(dir, "w.f32"), make([]float32, 3), 1, 3, Float16), "raw .f32 files hold float32 only"},
		{"float64 writer", func() error { _, err := CreateAs(filepath.Join(dir, "v.npy"), 3, Float64); return err }(), "written as float32 or float16, not float64"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.wantErr) {
			t.Errorf("%s: error %v, want %q", c.name, c.err, c.wantErr)
		}
	}
	if sizes := []int{Float16.Size(), Float32.Size(), Float64.Size()}; sizes[0] != 2 || sizes[1] != 4 || sizes[2] != 8 {
		t.Errorf("sizes %v", sizes)
	}
}

func BenchmarkReadNPYFloat16(b *testing.B) {
	const rows, cols = 10000, 384
	p := filepath.Join(b.TempDir(), "v.npy")
	data := make([]float32, rows*cols)
	for i := range data {
		data[i] = float32(math.Sin(float64(i)))
	}
	if err := WriteAs(p, data, rows, cols, Float16); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(rows * cols * 2)
	for b.Loop() {
		if _, _, _, err := Read(p, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteNPYFloat16(b *testing.B) {
	const rows, cols = 10000, 384
	data := make([]float32, rows*cols)
	for i := range data {
		data[i] = float32(math.Sin(float64(i)))
	}
	p := filepath.Join(b.TempDir(), "v.npy")
	b.SetBytes(int64(len(data) * 2))
	for b.Loop() {
		if err := WriteAs(p, data, rows, cols, Float16); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOverflowBoundary: the cheap range test agrees with the conversion on
// every float32 from 65,000 to 70,000 and their negatives, on ±Inf, NaN
// and the largest float32.
func TestOverflowBoundary(t *testing.T) {
	check := func(v float32) {
		want := float16.Fromfloat32(v).IsInf(0) && !math.IsInf(float64(v), 0)
		if got := overflowsHalf(v); got != want {
			t.Fatalf("overflowsHalf(%g) = %v, the conversion says %v", v, got, want)
		}
	}
	for b := math.Float32bits(65000); b <= math.Float32bits(70000); b++ {
		check(math.Float32frombits(b))
		check(-math.Float32frombits(b))
	}
	for _, v := range []float64{math.Inf(1), math.Inf(-1), math.NaN(), math.MaxFloat32, -math.MaxFloat32, 0} {
		check(float32(v))
	}
}
