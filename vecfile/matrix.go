package vecfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"
)

// Matrix is a rows x cols float32 matrix opened by Open: memory-mapped from
// the file when possible, otherwise read into memory.
type Matrix struct {
	// Data holds the values row after row. When Mapped reports true it is
	// backed by the read-only file mapping: do not write to it, and do not
	// use it after Close.
	Data []float32
	Rows int
	Cols int
	// DType is the element type stored in the file (Data is float32 whatever it is).
	DType DType

	mapping []byte // the whole mapped file, or the anonymous mapping the rows were converted into; nil on the heap
	anon    bool   // mapping is anonymous memory, not the file
}

// Row returns row i (a view into Data).
func (m *Matrix) Row(i int) []float32 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// Mapped reports whether Data is a memory mapping of the file.
func (m *Matrix) Mapped() bool { return m.mapping != nil && !m.anon }

// Close releases the mapping, if any. It is safe to call more than once.
func (m *Matrix) Close() error {
	if m.mapping == nil {
		m.Data = nil
		return nil
	}
	b := m.mapping
	m.mapping, m.Data, m.anon = nil, nil, false
	return munmap(b)
}

// littleEndian reports whether the machine stores float32 as the files do.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Open opens a float32 .npy or .f32 file (dims as for Read) and
// memory-maps its data, so that even a file larger than memory can be used.
// It falls back to reading the data into memory when mapping is not
// possible: a float16 or float64 .npy (converted to float32, so a float16
// file takes twice its size in memory), an empty matrix, a big-endian
// machine, a data offset not aligned to 4 bytes, or a platform or file
// system without mmap. Where it can, it converts into anonymous memory
// mapped for the purpose rather than onto the Go heap: Close gives it back
// to the system at once, and the garbage collector, which paces itself by
// the live heap, does not let the caller's garbage grow by the matrix's
// size before collecting.
func Open(path string, dims int) (*Matrix, error) {
	if _, err := FormatOf(path); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	r, err := newFileReader(f, path, st.Size(), dims)
	if err != nil {
		return nil, err
	}
	m := &Matrix{Rows: r.rows, Cols: r.h.Cols, DType: r.h.DType}
	n := r.rows * r.h.Cols
	if r.h.DType == Float32 && littleEndian && n > 0 && r.offset%4 == 0 {
		if b, err := mmapFile(f, st.Size()); err == nil {
			m.mapping = b
			m.Data = unsafe.Slice((*float32)(unsafe.Pointer(&b[r.offset])), n)
			return m, nil
		}
		// Fall through to reading.
	}
	if b, err := mmapAnon(4 * n); err == nil && n > 0 {
		m.mapping, m.anon = b, true
		m.Data = unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), n)
	} else {
		m.Data = make([]float32, n)
	}
	got, err := r.ReadRows(m.Data)
	if err != nil && !errors.Is(err, io.EOF) {
		m.Close()
		return nil, err
	}
	if got != r.rows {
		m.Close()
		return nil, fmt.Errorf("%s: read %d of %d rows", path, got, r.rows)
	}
	return m, nil
}
