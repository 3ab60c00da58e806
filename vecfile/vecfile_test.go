package vecfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/refdata"
)

// numpyHeaderF8 is the preamble np.save writes for a (3, 2) float64 array,
// built by hand from numpy's format description: the sorted dict (59 bytes),
// 21-len("3") = 20 growth spaces, 38 padding spaces and a newline, so that
// 10 + 118 = 128 bytes.
var numpyHeaderF8 = "\x93NUMPY\x01\x00\x76\x00" +
	"{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }" +
	strings.Repeat(" ", 20+38) + "\n"

func TestHandBuiltFloat64(t *testing.T) {
	if len(numpyHeaderF8) != 128 {
		t.Fatalf("hand-built header is %d bytes, want 128", len(numpyHeaderF8))
	}
	vals := []float64{1.5, -2.25, 3e-40, math.MaxFloat32, 0, -0.125}
	var b bytes.Buffer
	b.WriteString(numpyHeaderF8)
	for _, v := range vals {
		binary.Write(&b, binary.LittleEndian, v)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "f8.npy")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	data, rows, cols, err := Read(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 3 || cols != 2 {
		t.Fatalf("shape %dx%d, want 3x2", rows, cols)
	}
	for i, v := range vals {
		if data[i] != float32(v) {
			t.Errorf("value %d = %g, want %g", i, data[i], float32(v))
		}
	}
	// Our float64 writer must produce the same bytes.
	q := filepath.Join(dir, "ours.npy")
	if err := WriteFloat64(q, vals, 3, 2); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(q)
	if !bytes.Equal(got, b.Bytes()) {
		t.Errorf("WriteFloat64 output differs from numpy's layout:\n got %q\nwant %q", got[:128], b.Bytes()[:128])
	}
	// Open falls back to reading for float64.
	m, err := Open(p, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Mapped() || m.Rows != 3 || m.Row(2)[1] != -0.125 {
		t.Errorf("Open float64: mapped=%v rows=%d row2=%v", m.Mapped(), m.Rows, m.Row(2))
	}
}

// TestNumpyFixture checks our header and data against a file np.save wrote.
func TestNumpyFixture(t *testing.T) {
	p := filepath.Join("testdata", "overlap1500_d2.npy")
	orig, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data, rows, cols, err := Read(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	if rows != 1500 || cols != 2 {
		t.Fatalf("shape %dx%d, want 1500x2", rows, cols)
	}
	// First values as printed by od -t f4 on the file.
	if want := []float32{2.323407, -3.8970342, 4.1897063, -4.9959016}; !closeTo(data[:4], want) {
		t.Errorf("first values %v, want %v", data[:4], want)
	}
	hdr, err := EncodeNPYHeader(Header{DType: Float32, Rows: 1500, Cols: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hdr, orig[:len(hdr)]) {
		t.Errorf("header differs from numpy's:\n got %q\nwant %q", hdr, orig[:len(hdr)])
	}
	for _, name := range []string{"whole.npy", "stream.npy"} {
		q := filepath.Join(t.TempDir(), name)
		if name == "whole.npy" {
			err = Write(q, data, rows, cols)
		} else {
			err = writeInChunks(q, data, cols, 7)
		}
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(q)
		if !bytes.Equal(got, orig) {
			t.Errorf("%s: rewriting the numpy file does not give identical bytes", name)
		}
	}
	m, err := Open(p, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !equal(m.Data, data) {
		t.Error("Open and Read disagree")
	}
}

func TestSharedFixtures(t *testing.T) {
	dir := refdata.Path(t, "fixtures/hdbscan")
	for _, c := range []struct {
		name       string
		rows, cols int
	}{{"blobs2k_d10.npy", 2000, 10}, {"blobs2k_d384.npy", 2000, 384}} {
		p := filepath.Join(dir, c.name)
		data, rows, cols, err := Read(p, 0)
		if err != nil {
			t.Fatal(err)
		}
		if rows != c.rows || cols != c.cols {
			t.Fatalf("%s: %dx%d, want %dx%d", c.name, rows, cols, c.rows, c.cols)
		}
		m, err := Open(p, c.cols)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Mapped() {
			t.Errorf("%s: not memory-mapped", c.name)
		}
		if !equal(m.Data, data) {
			t.Errorf("%s: mapped data differs from read data", c.name)
		}
		m.Close()
		orig, _ := os.ReadFile(p)
		q := filepath.Join(t.TempDir(), c.name)
		if err := Write(q, data, rows, cols); err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(q)
		if !bytes.Equal(got, orig) {
			t.Errorf("%s: rewritten file differs from numpy's", c.name)
		}
	}
}

func writeInChunks(path string, data []float32, cols, rowsPerChunk int) error {
	w, err := Create(path, cols)
	if err != nil {
		return err
	}
	for len(data) > 0 {
		n := min(len(data), rowsPerChunk*cols)
		if err := w.Write(data[:n]); err != nil {
			return err
		}
		data = data[n:]
	}
	return w.Close()
}

func TestRoundTrip(t *testing.T) {
	for _, c := range []struct{ rows, cols int }{{0, 3}, {1, 1}, {5, 384}, {1000, 7}, {40000, 2}} {
		data := make([]float32, c.rows*c.cols)
		for i := range data {
			data[i] = float32(math.Sin(float64(i)*0.37)) * float32(i%13)
		}
		for _, ext := range []string{".npy", ".f32"} {
			p := filepath.Join(t.TempDir(), "v"+ext)
			if err := Write(p, data, c.rows, c.cols); err != nil {
				t.Fatal(err)
			}
			st, _ := os.Stat(p)
			wantSize := int64(len(data) * 4)
			if ext == ".npy" {
				wantSize += 128
			}
			if st.Size() != wantSize {
				t.Errorf("%dx%d%s: %d bytes, want %d", c.rows, c.cols, ext, st.Size(), wantSize)
			}
			got, rows, cols, err := Read(p, c.cols)
			if err != nil {
				t.Fatalf("%dx%d%s: %v", c.rows, c.cols, ext, err)
			}
			if rows != c.rows || cols != c.cols || !equal(got, data) {
				t.Errorf("%dx%d%s: read back %dx%d, equal=%v", c.rows, c.cols, ext, rows, cols, equal(got, data))
			}
			m, err := Open(p, c.cols)
			if err != nil {
				t.Fatal(err)
			}
			if m.Rows != c.rows || !equal(m.Data, data) {
				t.Errorf("%dx%d%s: Open gives %d rows, equal=%v", c.rows, c.cols, ext, m.Rows, equal(m.Data, data))
			}
			if err := m.Close(); err != nil {
				t.Error(err)
			}
			// Streaming with odd chunk sizes gives the same file.
			q := filepath.Join(t.TempDir(), "s"+ext)
			if err := writeInChunks(q, data, c.cols, 3); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(p)
			b, _ := os.ReadFile(q)
			if !bytes.Equal(a, b) {
				t.Errorf("%dx%d%s: streamed file differs from Write", c.rows, c.cols, ext)
			}
		}
	}
}

func TestHeaderLength(t *testing.T) {
	// The growth padding makes every 2-D header 128 bytes, whatever the row
	// count, so a streaming writer can patch it in place.
	for _, h := range []Header{
		{Float32, 0, 1}, {Float32, 9, 384}, {Float64, 1_000_000, 1536}, {Float16, 100_000, 1024},
		{Float32, 1 << 50, 3}, {Float64, 12345, 123456789},
	} {
		b, err := EncodeNPYHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != 128 || b[len(b)-1] != '\n' || len(b)%64 != 0 {
			t.Errorf("%+v: header of %d bytes %q", h, len(b), b)
		}
		got, off, err := ReadNPYHeader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if got != h || off != int64(len(b)) {
			t.Errorf("%+v: parsed back as %+v at %d", h, got, off)
		}
	}
}

func npyWithHeader(dict string, version byte, data []byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x93NUMPY")
	b.Write([]byte{version, 0})
	if version == 1 {
		binary.Write(&b, binary.LittleEndian, uint16(len(dict)+1))
	} else {
		binary.Write(&b, binary.LittleEndian, uint32(len(dict)+1))
	}
	b.WriteString(dict + "\n")
	b.Write(data)
	return b.Bytes()
}

func TestNPYHeaderVariants(t *testing.T) {
	eight := make([]byte, 8*4)
	binary.LittleEndian.PutUint32(eight[4:], math.Float32bits(2.5))
	halves := make([]byte, 16*2)
	binary.LittleEndian.PutUint16(halves[2:], 0x4100) // 2.5 as float16
	for _, c := range []struct {
		name    string
		file    []byte
		rows    int
		cols    int
		wantErr string
	}{
		{"v1", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", 1, eight), 4, 2, ""},
		{"v2", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }", 2, eight), 2, 4, ""},
		{"v3", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (8, 1), }", 3, eight), 8, 1, ""},
		{"python2 longs, other key order, double quotes", npyWithHeader(`{"shape": (4L, 2L), "fortran_order": False, "descr": "<f4"}`, 1, eight), 4, 2, ""},
		{"fortran", npyWithHeader("{'descr': '<f4', 'fortran_order': True, 'shape': (4, 2), }", 1, eight), 0, 0, "Fortran-order"},
		{"big-endian", npyWithHeader("{'descr': '>f4', 'fortran_order': False, 'shape': (4, 2), }", 1, eight), 0, 0, "big-endian"},
		{"int64", npyWithHeader("{'descr': '<i8', 'fortran_order': False, 'shape': (2, 2), }", 1, eight), 0, 0, `unsupported dtype "<i8"`},
		{"float16", npyWithHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (4, 4), }", 1, halves), 4, 4, ""},
		{"big-endian float16", npyWithHeader("{'descr': '>f2', 'fortran_order': False, 'shape': (4, 4), }", 1, halves), 0, 0, `unsupported dtype ">f2": big-endian; save a little-endian array (a.astype('<f2'))`},
		{"bfloat16-like", npyWithHeader("{'descr': '<V2', 'fortran_order': False, 'shape': (4, 4), }", 1, halves), 0, 0, `unsupported dtype "<V2": want float32 ('<f4'), float16 ('<f2') or float64 ('<f8')`},
		{"truncated float16", npyWithHeader("{'descr': '<f2', 'fortran_order': False, 'shape': (4, 4), }", 1, halves[:31]), 0, 0, "truncated: header says 4 x 4 float16 (32 data bytes) but the file has 31 bytes"},
		{"structured", npyWithHeader("{'descr': [('x', '<f4'), ('y', '<f4')], 'fortran_order': False, 'shape': (4,), }", 1, eight), 0, 0, "structured dtype"},
		{"1-D", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }", 1, eight), 0, 0, "1-D array of shape (8,)"},
		{"3-D", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }", 1, eight), 0, 0, "3-D array of shape (2, 2, 2)"},
		{"0-D", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 1, eight[:4]), 0, 0, "0-D array"},
		{"missing key", npyWithHeader("{'descr': '<f4', 'shape': (4, 2), }", 1, eight), 0, 0, `missing key "fortran_order"`},
		{"garbage header", npyWithHeader("{'descr': '<f4', 'fortran_order': Maybe}", 1, eight), 0, 0, "bad .npy header"},
		{"bad magic", append([]byte("PK\x03\x04NUMPY"), eight...), 0, 0, "missing the \\x93NUMPY magic"},
		{"version 4", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", 4, eight), 0, 0, "format version 4.0"},
		{"tiny", []byte("\x93NUM"), 0, 0, "shorter than the 8-byte magic"},
		{"truncated header", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", 1, nil)[:40], 0, 0, "truncated .npy header"},
		{"truncated data", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 2), }", 1, eight[:30]), 0, 0, "truncated: header says 4 x 2 float32 (32 data bytes) but the file has 30 bytes"},
		{"trailing data", npyWithHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", 1, eight), 0, 0, "8 unexpected bytes after the 3 x 2 float32 data"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.npy")
			os.WriteFile(p, c.file, 0o644)
			data, rows, cols, err := Read(p, 0)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), p) {
					t.Fatalf("error %v, want one naming %s and containing %q", err, p, c.wantErr)
				}
				if _, err := Open(p, 0); err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Open: error %v, want %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rows != c.rows || cols != c.cols || data[1] != 2.5 {
				t.Fatalf("got %dx%d %v", rows, cols, data)
			}
		})
	}
}

func TestF32Errors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "v.f32")
	os.WriteFile(p, make([]byte, 4*10), 0o644)
	for _, c := range []struct {
		dims    int
		wantErr string
	}{
		{0, "need their dimensions (--dims)"},
		{3, "not a whole number of 3-dimension float32 rows"},
		{5, ""},
	} {
		_, rows, _, err := Read(p, c.dims)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("dims %d: %v", c.dims, err)
		case c.wantErr == "" && rows != 2:
			t.Errorf("dims %d: %d rows, want 2", c.dims, rows)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("dims %d: error %v, want %q", c.dims, err, c.wantErr)
		}
	}
	if _, _, _, err := Read(filepath.Join(dir, "v.bin"), 4); err == nil || !strings.Contains(err.Error(), `unknown vector file extension ".bin"`) {
		t.Errorf("bad extension: %v", err)
	}
	q := filepath.Join(dir, "v.npy")
	Write(q, make([]float32, 8), 2, 4)
	if _, _, _, err := Read(q, 3); err == nil || !strings.Contains(err.Error(), "vectors have 4 dimensions, want 3") {
		t.Errorf("dims mismatch: %v", err)
	}
	if err := Write(q, make([]float32, 7), 2, 4); err == nil || !strings.Contains(err.Error(), "7 values do not make a 2 x 4 matrix") {
		t.Errorf("bad shape: %v", err)
	}
}

func TestStreamingReader(t *testing.T) {
	data := make([]float32, 10*3)
	for i := range data {
		data[i] = float32(i)
	}
	var raw bytes.Buffer
	w, _ := NewF32Writer(&raw, 3)
	w.Write(data)
	w.Close()

	// A raw stream of unknown length read in uneven chunks.
	r, err := NewF32Reader(bytes.NewReader(raw.Bytes()), "stdin", 3)
	if err != nil {
		t.Fatal(err)
	}
	var got []float32
	buf := make([]float32, 4*3)
	for {
		n, err := r.ReadRows(buf)
		got = append(got, buf[:n*3]...)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !equal(got, data) {
		t.Errorf("streamed %v, want %v", got, data)
	}

	// A raw stream cut inside a row.
	r, _ = NewF32Reader(bytes.NewReader(raw.Bytes()[:raw.Len()-2]), "stdin", 3)
	var err2 error
	for err2 == nil {
		_, err2 = r.ReadRows(buf)
	}
	if !strings.Contains(err2.Error(), "stdin: truncated: 10 trailing bytes do not make a whole 3-dimension row") {
		t.Errorf("cut stream: %v", err2)
	}

	// An .npy stream cut before the promised row count.
	p := filepath.Join(t.TempDir(), "v.npy")
	Write(p, data, 10, 3)
	b, _ := os.ReadFile(p)
	nr, err := NewNPYReader(bytes.NewReader(b[:len(b)-13]), "v.npy")
	if err != nil {
		t.Fatal(err)
	}
	if nr.Rows() != 10 || nr.Cols() != 3 || nr.DType() != Float32 {
		t.Errorf("reader reports %dx%d %v", nr.Rows(), nr.Cols(), nr.DType())
	}
	all := make([]float32, 30)
	n, err := nr.ReadRows(all)
	if n != 8 || err == nil || !strings.Contains(err.Error(), "v.npy: truncated: data ends in row 9 of 10") {
		t.Errorf("cut npy: %d rows, %v", n, err)
	}
}

func TestWriterErrors(t *testing.T) {
	p := filepath.Join(t.TempDir(), "v.npy")
	w, err := Create(p, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(make([]float32, 6)); err == nil || !strings.Contains(err.Error(), "6 values are not a whole number of 4-dimension rows") {
		t.Errorf("partial row: %v", err)
	}
	if err := w.Close(); err == nil {
		t.Error("Close after a failed write succeeded")
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("failed file left behind: %v", err)
	}
	if _, err := Create(p, 0); err == nil {
		t.Error("Create with 0 columns succeeded")
	}
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// closeTo compares with the 8 significant digits od prints.
func closeTo(a, b []float32) bool {
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-6*math.Abs(float64(b[i])) {
			return false
		}
	}
	return len(a) == len(b)
}

func BenchmarkWriteNPY(b *testing.B) {
	const rows, cols = 10000, 384
	data := make([]float32, rows*cols)
	p := filepath.Join(b.TempDir(), "v.npy")
	b.SetBytes(int64(len(data) * 4))
	for b.Loop() {
		if err := Write(p, data, rows, cols); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReadNPY(b *testing.B) {
	const rows, cols = 10000, 384
	p := filepath.Join(b.TempDir(), "v.npy")
	Write(p, make([]float32, rows*cols), rows, cols)
	b.SetBytes(rows * cols * 4)
	for b.Loop() {
		if _, _, _, err := Read(p, 0); err != nil {
			b.Fatal(err)
		}
	}
}
