// Package vecfile reads and writes matrices of embedding vectors on disk, in
// numpy's .npy format (float32 '<f4', float16 '<f2' or float64 '<f8', C
// order, 2-D; files that Python users open with np.load) and as raw
// little-endian float32 (.f32, whose row width is given separately).
//
// Vectors are float32 in memory whatever the file holds: float16 and
// float64 rows are converted as they are read. Writing float16 (WriteAs,
// CreateAs) halves the storage of float32 at 11 significant bits.
//
// Read and Write handle whole matrices in memory. For large files, Writer
// streams rows to disk and patches the .npy row count at Close, Reader streams
// rows in chunks, and Open memory-maps a float32 file so that it can be used
// without being read into the heap (a float16 file is read into float32
// memory instead: twice its size on the heap).
package vecfile

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/kura-go/kura/internal/outfile"
	"github.com/x448/float16"
)

// Format is a vector file format.
type Format int

const (
	// NPY is numpy's .npy format.
	NPY Format = iota + 1
	// F32 is raw little-endian float32, row after row, with no header.
	F32
)

func (f Format) String() string {
	switch f {
	case NPY:
		return "npy"
	case F32:
		return "f32"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// FormatOf returns the format named by a file's extension (.npy or .f32).
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npy":
		return NPY, nil
	case ".f32":
		return F32, nil
	}
	return 0, fmt.Errorf("%s: unknown vector file extension %q: want .npy or .f32", path, filepath.Ext(path))
}

// chunk is the size of the I/O buffers used to convert between bytes and floats.
const chunk = 1 << 16

// Write writes a rows x cols float32 matrix (row-major in data) to path as
// .npy or .f32, chosen by the extension. The file is written beside path
// and moved into place only when complete (internal/outfile).
func Write(path string, data []float32, rows, cols int) error {
	return WriteAs(path, data, rows, cols, Float32)
}

// WriteAs is Write storing the values as dt: Float32, or Float16 (.npy
// only; see Writer.Write for values beyond its range, which leave no file).
func WriteAs(path string, data []float32, rows, cols int, dt DType) error {
	if err := checkShape(data, rows, cols); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	if cols <= 0 {
		return fmt.Errorf("%s: vectors need at least 1 dimension, not %d", path, cols)
	}
	if err := checkStorable(format, dt); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	o, err := outfile.Create(path)
	if err != nil {
		return err
	}
	defer o.Abort()
	var w *Writer
	if format == NPY {
		w, err = NewNPYWriterAs(o, cols, dt)
	} else {
		w, err = NewF32Writer(o, cols)
	}
	if err == nil {
		err = w.Write(data)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return o.Commit()
}

// WriteFloat64 writes a rows x cols float64 matrix to path as a '<f8' .npy
// file, moved into place only when complete.
func WriteFloat64(path string, data []float64, rows, cols int) error {
	if rows < 0 || cols < 0 || len(data) != rows*cols {
		return fmt.Errorf("%s: %d values do not make a %d x %d matrix", path, len(data), rows, cols)
	}
	if f, err := FormatOf(path); err != nil {
		return err
	} else if f != NPY {
		return fmt.Errorf("%s: float64 vectors can only be written as .npy", path)
	}
	hdr, err := EncodeNPYHeader(Header{DType: Float64, Rows: rows, Cols: cols})
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	f, err := outfile.Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	bw := bufio.NewWriterSize(f, chunk)
	bw.Write(hdr)
	var b [8]byte
	for _, v := range data {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return f.Commit()
}

// checkStorable says whether vectors can be written as dt in format.
func checkStorable(format Format, dt DType) error {
	switch {
	case dt != Float32 && dt != Float16:
		return fmt.Errorf("vectors are written as float32 or float16, not %v", dt)
	case format == F32 && dt != Float32:
		return fmt.Errorf("raw .f32 files hold float32 only; write %v vectors as .npy", dt)
	}
	return nil
}

func checkShape(data []float32, rows, cols int) error {
	if rows < 0 || cols < 0 {
		return fmt.Errorf("negative shape %d x %d", rows, cols)
	}
	if cols == 0 && rows > 0 {
		return fmt.Errorf("%d rows of 0 dimensions", rows)
	}
	if len(data) != rows*cols {
		return fmt.Errorf("%d values do not make a %d x %d matrix", len(data), rows, cols)
	}
	return nil
}

// Read reads a whole matrix from a .npy file (float32, float16 or float64,
// the latter two converted to float32) or a .f32 file, whose row width dims must then be
// given (> 0). For .npy, dims may be 0; if it is not, it must match the file.
func Read(path string, dims int) (data []float32, rows, cols int, err error) {
	if _, err := FormatOf(path); err != nil {
		return nil, 0, 0, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, 0, err
	}
	r, err := newFileReader(f, path, st.Size(), dims)
	if err != nil {
		return nil, 0, 0, err
	}
	data = make([]float32, r.rows*r.h.Cols)
	n, err := r.ReadRows(data)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, 0, 0, err
	}
	if n != r.rows {
		return nil, 0, 0, fmt.Errorf("%s: read %d of %d rows", path, n, r.rows)
	}
	return data, r.rows, r.h.Cols, nil
}

// newFileReader opens a Reader on a file of known size and checks that the
// size agrees with the header (or, for .f32, is a whole number of rows).
func newFileReader(f io.Reader, path string, size int64, dims int) (*Reader, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	var r *Reader
	switch format {
	case NPY:
		r, err = NewNPYReader(f, path)
		if err != nil {
			return nil, err
		}
		if dims > 0 && r.h.Cols != dims {
			return nil, fmt.Errorf("%s: vectors have %d dimensions, want %d", path, r.h.Cols, dims)
		}
		if want := r.offset + r.h.DataBytes(); size < want {
			return nil, fmt.Errorf("%s: truncated: header says %d x %d %v (%d data bytes) but the file has %d bytes after the %d-byte header",
				path, r.h.Rows, r.h.Cols, r.h.DType, r.h.DataBytes(), size-r.offset, r.offset)
		} else if size > want {
			return nil, fmt.Errorf("%s: %d unexpected bytes after the %d x %d %v data", path, size-want, r.h.Rows, r.h.Cols, r.h.DType)
		}
	case F32:
		if dims <= 0 {
			return nil, fmt.Errorf("%s: raw .f32 vectors need their dimensions (--dims)", path)
		}
		if rowBytes := int64(dims) * 4; size%rowBytes != 0 {
			return nil, fmt.Errorf("%s: truncated or wrong --dims: %d bytes is not a whole number of %d-dimension float32 rows (%d bytes each)",
				path, size, dims, rowBytes)
		}
		r, err = NewF32Reader(f, path, dims)
		if err != nil {
			return nil, err
		}
		r.h.Rows = int(size / (int64(dims) * 4))
		r.rows = r.h.Rows
	}
	return r, nil
}

// Reader streams the rows of a vector file.
type Reader struct {
	r      io.Reader
	name   string
	h      Header // h.Rows is -1 for a raw stream of unknown length
	rows   int    // rows in the file, -1 if unknown
	offset int64  // bytes before the data
	done   int    // rows read so far
	buf    []byte
}

// NewNPYReader reads the .npy header from r; name is used in error messages.
func NewNPYReader(r io.Reader, name string) (*Reader, error) {
	h, off, err := ReadNPYHeader(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &Reader{r: r, name: name, h: h, rows: h.Rows, offset: off}, nil
}

// NewF32Reader streams raw little-endian float32 rows of dims values each.
// The number of rows is not known in advance (Rows returns -1).
func NewF32Reader(r io.Reader, name string, dims int) (*Reader, error) {
	if dims <= 0 {
		return nil, fmt.Errorf("%s: raw .f32 vectors need their dimensions (--dims)", name)
	}
	return &Reader{r: r, name: name, h: Header{DType: Float32, Rows: -1, Cols: dims}, rows: -1}, nil
}

// Cols returns the number of dimensions of each row.
func (r *Reader) Cols() int { return r.h.Cols }

// Rows returns the number of rows in the file, or -1 if it is not known.
func (r *Reader) Rows() int { return r.rows }

// DType returns the element type stored in the file.
func (r *Reader) DType() DType { return r.h.DType }

// ReadRows reads up to len(dst)/Cols() rows into dst (converting float16
// and float64 to float32) and returns how many it read. At the end of the data it returns
// 0, io.EOF. A file that ends inside a row, or before the row count its
// header promises, gives an error saying so.
func (r *Reader) ReadRows(dst []float32) (int, error) {
	cols := r.h.Cols
	if cols == 0 {
		return 0, io.EOF
	}
	want := len(dst) / cols
	if r.rows >= 0 && want > r.rows-r.done {
		want = r.rows - r.done
	}
	if want == 0 {
		if r.rows >= 0 && r.done >= r.rows {
			return 0, io.EOF
		}
		if len(dst) < cols {
			return 0, fmt.Errorf("%s: destination of %d values cannot hold a %d-dimension row", r.name, len(dst), cols)
		}
	}
	size := r.h.DType.Size()
	rowBytes := cols * size
	got := 0
	for got < want {
		n := want - got
		if n*rowBytes > chunk {
			n = max(1, chunk/rowBytes)
		}
		if cap(r.buf) < n*rowBytes {
			r.buf = make([]byte, n*rowBytes)
		}
		b := r.buf[:n*rowBytes]
		m, err := io.ReadFull(r.r, b)
		full := m / rowBytes
		decode(dst[got*cols:(got+full)*cols], b[:full*rowBytes], r.h.DType)
		got += full
		r.done += full
		if err != nil {
			switch {
			case errors.Is(err, io.EOF) && r.rows < 0 && got == 0:
				return 0, io.EOF
			case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
				if r.rows >= 0 {
					return got, fmt.Errorf("%s: truncated: data ends in row %d of %d", r.name, r.done+1, r.rows)
				}
				if m%rowBytes != 0 {
					return got, fmt.Errorf("%s: truncated: %d trailing bytes do not make a whole %d-dimension row (%d bytes)",
						r.name, m%rowBytes, cols, rowBytes)
				}
				return got, nil // a raw stream ended on a row boundary
			default:
				return got, fmt.Errorf("%s: %w", r.name, err)
			}
		}
	}
	return got, nil
}

// decode converts little-endian bytes of dtype t into dst.
func decode(dst []float32, b []byte, t DType) {
	switch t {
	case Float32:
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	case Float64:
		for i := range dst {
			dst[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:])))
		}
	case Float16:
		for i := range dst {
			dst[i] = float16.Frombits(binary.LittleEndian.Uint16(b[2*i:])).Float32()
		}
	}
}

// Writer streams float32 rows to a .npy or .f32 file, stored as float32 or,
// in a .npy, as float16. For .npy it writes a header with a row count of 0
// first and rewrites it at Close; numpy's growth padding keeps the header
// the same length whatever the count, so the result is byte for byte what
// np.save writes (for float16, what np.save writes for a.astype('<f2')).
type Writer struct {
	f      io.Writer
	seeker io.WriteSeeker // nil for .f32
	closer io.Closer      // the file opened by Create, nil otherwise
	path   string
	bw     *bufio.Writer
	dtype  DType
	cols   int
	rows   int
	buf    []byte
	err    error
	closed bool
}

// Create creates path and returns a Writer of cols-dimension float32 rows,
// in the format chosen by the extension (.npy or .f32). It writes path
// itself as it goes (for a temporary or a file resumed by name); Write
// writes a whole matrix atomically.
func Create(path string, cols int) (*Writer, error) {
	return CreateAs(path, cols, Float32)
}

// CreateAs is Create storing the values as dt: Float32, or Float16 (.npy only).
func CreateAs(path string, cols int, dt DType) (*Writer, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if cols <= 0 {
		return nil, fmt.Errorf("%s: vectors need at least 1 dimension, not %d", path, cols)
	}
	if err := checkStorable(format, dt); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	var w *Writer
	if format == NPY {
		w, err = NewNPYWriterAs(f, cols, dt)
	} else {
		w, err = NewF32Writer(f, cols)
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w.closer, w.path = f, path
	return w, nil
}

// NewNPYWriter writes a float32 .npy stream to ws, which must be positioned
// at its start; Close seeks back to patch the row count but does not close ws.
func NewNPYWriter(ws io.WriteSeeker, cols int) (*Writer, error) {
	return NewNPYWriterAs(ws, cols, Float32)
}

// NewNPYWriterAs is NewNPYWriter storing the values as dt (Float32 or Float16).
func NewNPYWriterAs(ws io.WriteSeeker, cols int, dt DType) (*Writer, error) {
	if cols <= 0 {
		return nil, fmt.Errorf("vectors need at least 1 dimension, not %d", cols)
	}
	if err := checkStorable(NPY, dt); err != nil {
		return nil, err
	}
	w := &Writer{f: ws, seeker: ws, dtype: dt, cols: cols, bw: bufio.NewWriterSize(ws, chunk)}
	hdr, err := EncodeNPYHeader(Header{DType: dt, Rows: 0, Cols: cols})
	if err != nil {
		return nil, err
	}
	if _, err := w.bw.Write(hdr); err != nil {
		return nil, err
	}
	return w, nil
}

// NewF32Writer writes raw little-endian float32 rows to w; Close does not close w.
func NewF32Writer(w io.Writer, cols int) (*Writer, error) {
	if cols <= 0 {
		return nil, fmt.Errorf("vectors need at least 1 dimension, not %d", cols)
	}
	return &Writer{f: w, dtype: Float32, cols: cols, bw: bufio.NewWriterSize(w, chunk)}, nil
}

// Write appends rows, given row-major; len(rows) must be a multiple of the
// number of columns.
//
// Stored as float16, each value is rounded to the nearest half (ties to
// even, as numpy's astype('<f2')); NaN and ±Inf stay NaN and ±Inf. A finite
// value that would round beyond float16's largest, ±65504 (|v| ≥ 65520,
// which numpy turns into ±Inf), is an error naming the row and dimension
// rather than a silent infinity or a clipped value: none of the rows
// given is written, the rows written before stay valid and the Writer can
// go on. Embedding vectors are far inside the range (unit-length ones
// lie in [-1, 1]).
func (w *Writer) Write(rows []float32) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errors.New("vecfile: write after Close")
	}
	if len(rows)%w.cols != 0 {
		return w.fail(fmt.Errorf("%d values are not a whole number of %d-dimension rows", len(rows), w.cols))
	}
	if w.dtype == Float16 {
		for i, v := range rows {
			if overflowsHalf(v) {
				err := fmt.Errorf("value %g in row %d, dimension %d, is beyond float16's range (±65504): store these vectors as float32",
					v, w.rows+i/w.cols+1, i%w.cols+1)
				if w.path != "" {
					err = fmt.Errorf("%s: %w", w.path, err)
				}
				return err
			}
		}
	}
	nrows := len(rows) / w.cols
	size := w.dtype.Size()
	for len(rows) > 0 {
		n := min(len(rows), chunk/size)
		if cap(w.buf) < size*n {
			w.buf = make([]byte, size*n)
		}
		b := w.buf[:size*n]
		encode(b, rows[:n], w.dtype)
		if _, err := w.bw.Write(b); err != nil {
			return w.fail(err)
		}
		rows = rows[n:]
	}
	w.rows += nrows
	return nil
}

// encode writes src as little-endian dtype t into b.
func encode(b []byte, src []float32, t DType) {
	switch t {
	case Float32:
		for i, v := range src {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
	case Float16:
		for i, v := range src {
			binary.LittleEndian.PutUint16(b[2*i:], float16.Fromfloat32(v).Bits())
		}
	}
}

// overflowsHalf reports whether the finite v rounds to an infinite float16:
// |v| ≥ 65520, halfway between the largest half (65504, an odd significand)
// and 65536, which ties to even round up (TestFloat16Range checks both sides).
func overflowsHalf(v float32) bool {
	a := math.Abs(float64(v))
	return a >= 65520 && a <= math.MaxFloat32
}

// DType returns the element type the Writer stores.
func (w *Writer) DType() DType { return w.dtype }

// WriteRow appends one row of exactly Cols values.
func (w *Writer) WriteRow(row []float32) error {
	if len(row) != w.cols {
		return w.fail(fmt.Errorf("row of %d values, want %d", len(row), w.cols))
	}
	return w.Write(row)
}

// Rows returns the number of rows written so far.
func (w *Writer) Rows() int { return w.rows }

// Cols returns the number of dimensions per row.
func (w *Writer) Cols() int { return w.cols }

func (w *Writer) fail(err error) error {
	if w.path != "" {
		err = fmt.Errorf("%s: %w", w.path, err)
	}
	if w.err == nil {
		w.err = err
	}
	return err
}

// Close flushes the data, writes the final .npy header and, if the Writer
// was made by Create, closes the file (removing it if anything failed).
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	err := w.err
	if err == nil {
		if e := w.bw.Flush(); e != nil {
			err = w.fail(e)
		}
	}
	if err == nil && w.seeker != nil {
		if e := w.patchHeader(); e != nil {
			err = w.fail(e)
		}
	}
	if w.closer != nil {
		if e := w.closer.Close(); e != nil && err == nil {
			err = w.fail(e)
		}
		if err != nil {
			os.Remove(w.path)
		}
	}
	return err
}

func (w *Writer) patchHeader() error {
	hdr, err := EncodeNPYHeader(Header{DType: w.dtype, Rows: w.rows, Cols: w.cols})
	if err != nil {
		return err
	}
	end, err := w.seeker.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if _, err := w.seeker.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if _, err := w.seeker.Write(hdr); err != nil {
		return err
	}
	_, err = w.seeker.Seek(end, io.SeekStart)
	return err
}
