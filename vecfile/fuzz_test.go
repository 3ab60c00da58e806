package vecfile

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
)

// FuzzNPYReader feeds arbitrary bytes to the .npy header parser and row
// reader, and to the .f32 reader: rows or an error, never a panic, and
// memory bounded by the input, whatever the header claims (a header may
// promise 2^40 rows).
func FuzzNPYReader(f *testing.F) {
	for _, h := range []Header{{DType: Float32, Rows: 3, Cols: 2}, {DType: Float64, Rows: 1, Cols: 4}, {DType: Float16, Rows: 2, Cols: 6}, {DType: Float32, Rows: 1 << 40, Cols: 1 << 20}} {
		b, err := EncodeNPYHeader(h)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append(b, make([]byte, 24)...), uint16(2))
	}
	f.Add([]byte("\x93NUMPY\x02\x00\xff\xff\xff\x7f{'descr': '<f4'"), uint16(1))
	f.Add([]byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999, 3), }"), uint16(3))
	f.Fuzz(func(t *testing.T, data []byte, dims uint16) {
		allocbound.Check(t, allocbound.PerByte(len(data), 8, 8<<20), "vector file", func() {
			if r, err := NewNPYReader(bytes.NewReader(data), "f.npy"); err == nil {
				drain(t, r)
			}
			if r, err := NewF32Reader(bytes.NewReader(data), "f.f32", int(dims%4096)); err == nil {
				drain(t, r)
			}
		})
	})
}

func drain(t *testing.T, r *Reader) {
	if r.Cols() <= 0 || r.Cols() > 1<<16 {
		return // the caller sizes dst; a row past 64k values is refused by ReadRows
	}
	dst := make([]float32, r.Cols()*min(16, max(1, 4096/r.Cols())))
	if len(dst) == 0 {
		dst = make([]float32, r.Cols())
	}
	for range 1 << 16 {
		n, err := r.ReadRows(dst)
		if n < 0 || n*r.Cols() > len(dst) {
			t.Fatalf("ReadRows returned %d rows for a %d-value buffer", n, len(dst))
		}
		if errors.Is(err, io.EOF) || err != nil {
			return
		}
	}
}
