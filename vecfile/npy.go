package vecfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// DType is the element type of a matrix stored in a .npy file.
type DType int

const (
	// Float32 is numpy's '<f4' (little-endian IEEE 754 single precision).
	Float32 DType = iota + 1
	// Float64 is numpy's '<f8' (little-endian IEEE 754 double precision).
	Float64
	// Float16 is numpy's '<f2' (little-endian IEEE 754 half precision):
	// half the storage of Float32, 11 significant bits (a relative rounding
	// error of at most 2^-11, about 0.05%), finite values up to ±65504.
	// Rows are widened to float32 when read (exactly) and rounded to the
	// nearest half, ties to even, when written; see Writer for values out of
	// its range.
	Float16
)

// ParseDType reads a storage type named as on the command line: "float32"
// or "float16" (also numpy's '<f4' and '<f2'). Float64 is read but not
// offered for vectors written by kura, so it is not accepted here.
func ParseDType(s string) (DType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "float32", "f4", "<f4":
		return Float32, nil
	case "float16", "f2", "<f2":
		return Float16, nil
	}
	return 0, fmt.Errorf("unknown vector dtype %q: want float32 or float16", s)
}

// Size returns the number of bytes of one element.
func (d DType) Size() int {
	switch d {
	case Float32:
		return 4
	case Float64:
		return 8
	case Float16:
		return 2
	}
	return 0
}

// Descr returns numpy's dtype descriptor string ('<f4' or '<f8').
func (d DType) Descr() string {
	switch d {
	case Float32:
		return "<f4"
	case Float64:
		return "<f8"
	case Float16:
		return "<f2"
	}
	return "?"
}

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Float64:
		return "float64"
	case Float16:
		return "float16"
	}
	return fmt.Sprintf("DType(%d)", int(d))
}

// Header describes a 2-D, C-order matrix stored in a .npy file.
type Header struct {
	DType DType
	Rows  int
	Cols  int
}

// DataBytes returns the size in bytes of the matrix data.
func (h Header) DataBytes() int64 {
	return int64(h.Rows) * int64(h.Cols) * int64(h.DType.Size())
}

// Constants of numpy's format (numpy/lib/format.py).
const (
	npyMagic      = "\x93NUMPY"
	npyMagicLen   = 8  // magic string plus the two version bytes
	npyAlign      = 64 // the preamble is padded so that data starts at a multiple of 64
	npyGrowDigits = 21 // numpy leaves room for shape[0] to grow to 21 digits in place
	// maxHeaderLen bounds the header dictionary we are willing to read; numpy
	// itself refuses headers over 10000 bytes unless told otherwise.
	maxHeaderLen = 1 << 20
)

// EncodeNPYHeader returns the preamble numpy's np.save writes for a 2-D,
// C-order array described by h: magic, version 1.0, header length and the
// header dictionary, with numpy's growth padding for shape[0] and padding to
// a multiple of 64 bytes. Because of the growth padding its length does not
// depend on h.Rows, which lets a streaming writer patch the row count in place.
func EncodeNPYHeader(h Header) ([]byte, error) {
	if h.DType.Size() == 0 {
		return nil, fmt.Errorf("npy: unsupported dtype %v", h.DType)
	}
	if h.Rows < 0 || h.Cols < 0 {
		return nil, fmt.Errorf("npy: negative shape (%d, %d)", h.Rows, h.Cols)
	}
	rows := strconv.Itoa(h.Rows)
	// numpy sorts the keys: descr, fortran_order, shape.
	dict := "{'descr': '" + h.DType.Descr() + "', 'fortran_order': False, 'shape': (" +
		rows + ", " + strconv.Itoa(h.Cols) + "), }"
	dict += strings.Repeat(" ", npyGrowDigits-len(rows))
	hlen := len(dict) + 1 // the final newline
	// numpy pads with ARRAY_ALIGN - (total % ARRAY_ALIGN) spaces, which is a
	// full 64 when the preamble happens to be aligned already.
	pad := npyAlign - (npyMagicLen+2+hlen)%npyAlign
	hlen += pad
	if hlen > 0xffff {
		// Cannot happen for a 2-D float matrix; kept for safety.
		return nil, fmt.Errorf("npy: header of %d bytes too long for format 1.0", hlen)
	}
	var b bytes.Buffer
	b.Grow(npyMagicLen + 2 + hlen)
	b.WriteString(npyMagic)
	b.Write([]byte{1, 0})
	_ = binary.Write(&b, binary.LittleEndian, uint16(hlen))
	b.WriteString(dict)
	b.WriteString(strings.Repeat(" ", pad))
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// ReadNPYHeader reads a .npy preamble (format 1.0, 2.0 or 3.0) from r and
// returns the matrix it describes and the number of bytes read, which is the
// offset of the data. It accepts only 2-D, C-order, little-endian float32,
// float64 or float16 arrays and says precisely what else it found.
func ReadNPYHeader(r io.Reader) (Header, int64, error) {
	var pre [npyMagicLen]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return Header{}, 0, fmt.Errorf("not a .npy file: shorter than the %d-byte magic", npyMagicLen)
		}
		return Header{}, 0, err
	}
	if string(pre[:6]) != npyMagic {
		return Header{}, 0, fmt.Errorf("not a .npy file: missing the \\x93NUMPY magic")
	}
	major, minor := pre[6], pre[7]
	var hlen int
	var n int64 = npyMagicLen
	switch major {
	case 1:
		var l [2]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return Header{}, 0, fmt.Errorf("truncated .npy header: %w", noEOF(err))
		}
		hlen = int(binary.LittleEndian.Uint16(l[:]))
		n += 2
	case 2, 3:
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return Header{}, 0, fmt.Errorf("truncated .npy header: %w", noEOF(err))
		}
		v := binary.LittleEndian.Uint32(l[:])
		if v > maxHeaderLen {
			return Header{}, 0, fmt.Errorf(".npy header length %d is implausibly large", v)
		}
		hlen = int(v)
		n += 4
	default:
		return Header{}, 0, fmt.Errorf("unsupported .npy format version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	if minor != 0 {
		return Header{}, 0, fmt.Errorf("unsupported .npy format version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	buf := make([]byte, hlen)
	if _, err := io.ReadFull(r, buf); err != nil {
		return Header{}, 0, fmt.Errorf("truncated .npy header: want %d bytes: %w", hlen, noEOF(err))
	}
	n += int64(hlen)
	h, err := parseHeaderDict(string(buf))
	if err != nil {
		return Header{}, 0, err
	}
	return h, n, nil
}

func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseHeaderDict interprets the Python dictionary literal of a .npy header.
func parseHeaderDict(s string) (Header, error) {
	p := &pyParser{s: strings.TrimRight(s, " \n\x00")}
	v, err := p.value()
	if err != nil {
		return Header{}, fmt.Errorf("bad .npy header %q: %w", s, err)
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return Header{}, fmt.Errorf("bad .npy header %q: unexpected text at offset %d", s, p.i)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return Header{}, fmt.Errorf("bad .npy header %q: not a dictionary", s)
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if _, ok := d[k]; !ok {
			return Header{}, fmt.Errorf("bad .npy header %q: missing key %q", s, k)
		}
	}
	for k := range d {
		if k != "descr" && k != "fortran_order" && k != "shape" {
			return Header{}, fmt.Errorf("bad .npy header %q: unexpected key %q", s, k)
		}
	}
	var h Header
	switch descr := d["descr"].(type) {
	case string:
		switch descr {
		case "<f4":
			h.DType = Float32
		case "<f8":
			h.DType = Float64
		case "<f2":
			h.DType = Float16
		case ">f4", ">f8", ">f2":
			return Header{}, fmt.Errorf("unsupported dtype %q: big-endian; save a little-endian array (a.astype('<%s'))", descr, descr[1:])
		default:
			return Header{}, fmt.Errorf("unsupported dtype %q: want float32 ('<f4'), float16 ('<f2') or float64 ('<f8')", descr)
		}
	default:
		return Header{}, fmt.Errorf("unsupported dtype: a structured dtype; want float32 ('<f4'), float16 ('<f2') or float64 ('<f8')")
	}
	fo, ok := d["fortran_order"].(bool)
	if !ok {
		return Header{}, fmt.Errorf("bad .npy header %q: fortran_order must be True or False", s)
	}
	if fo {
		return Header{}, fmt.Errorf("unsupported Fortran-order array: save a C-order array (np.ascontiguousarray(a))")
	}
	shape, ok := d["shape"].([]int)
	if !ok {
		return Header{}, fmt.Errorf("bad .npy header %q: shape must be a tuple of integers", s)
	}
	if len(shape) != 2 {
		return Header{}, fmt.Errorf("unsupported %d-D array of shape %s: want a 2-D matrix (rows, dims)", len(shape), shapeString(shape))
	}
	h.Rows, h.Cols = shape[0], shape[1]
	if h.Cols == 0 && h.Rows != 0 {
		return Header{}, fmt.Errorf("unsupported shape %s: vectors have no dimensions", shapeString(shape))
	}
	if h.Cols != 0 && int64(h.Rows) > (1<<62)/int64(h.Cols)/int64(h.DType.Size()) {
		return Header{}, fmt.Errorf("shape %s is too large", shapeString(shape))
	}
	return h, nil
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, v := range shape {
		parts[i] = strconv.Itoa(v)
	}
	if len(shape) == 1 {
		return "(" + parts[0] + ",)"
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// pyParser parses the subset of Python literals that .npy headers use:
// dictionaries, strings, True/False, and tuples or lists of integers (lists
// appear in structured dtypes, which are then rejected).
type pyParser struct {
	s string
	i int
}

func (p *pyParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *pyParser) value() (any, error) {
	p.skipSpace()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.dict()
	case c == '\'' || c == '"':
		return p.str()
	case c == '(' || c == '[':
		return p.seq()
	case strings.HasPrefix(p.s[p.i:], "True"):
		p.i += 4
		return true, nil
	case strings.HasPrefix(p.s[p.i:], "False"):
		p.i += 5
		return false, nil
	case c >= '0' && c <= '9':
		j := p.i
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		v, err := strconv.Atoi(p.s[j:p.i])
		if err != nil {
			return nil, fmt.Errorf("integer %s: %w", p.s[j:p.i], err)
		}
		if p.i < len(p.s) && p.s[p.i] == 'L' { // Python 2 long, e.g. (2000L, 10L)
			p.i++
		}
		return v, nil
	default:
		return nil, fmt.Errorf("unexpected %q at offset %d", c, p.i)
	}
}

func (p *pyParser) str() (string, error) {
	q := p.s[p.i]
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+j]
	p.i += j + 2
	return v, nil
}

func (p *pyParser) dict() (map[string]any, error) {
	p.i++ // {
	d := map[string]any{}
	for {
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return d, nil
		}
		if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
			return nil, fmt.Errorf("expected a string key at offset %d", p.i)
		}
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, fmt.Errorf("expected ':' after key %q", k)
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
		if _, dup := d[k]; dup {
			return nil, fmt.Errorf("duplicate key %q", k)
		}
		d[k] = v
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return d, nil
		}
		return nil, fmt.Errorf("expected ',' or '}' at offset %d", p.i)
	}
}

// seq parses a tuple or list. A sequence of integers is returned as []int;
// anything else (a structured dtype's field list) as []any.
func (p *pyParser) seq() (any, error) {
	closer := byte(')')
	if p.s[p.i] == '[' {
		closer = ']'
	}
	p.i++
	var items []any
	allInts := true
	for {
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == closer {
			p.i++
			break
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if _, ok := v.(int); !ok {
			allInts = false
		}
		items = append(items, v)
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.s) && p.s[p.i] == closer {
			p.i++
			break
		}
		return nil, fmt.Errorf("expected ',' or %q at offset %d", closer, p.i)
	}
	if !allInts || closer == ']' {
		return items, nil
	}
	ints := make([]int, len(items))
	for i, v := range items {
		ints[i] = v.(int)
	}
	return ints, nil
}
