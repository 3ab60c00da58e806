// Package safetensors reads the safetensors tensor format: an 8-byte
// little-endian header length, a JSON header mapping tensor names to dtype,
// shape and byte offsets, then the raw little-endian tensor data.
package safetensors

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"

	"github.com/x448/float16"
)

// maxHeader bounds the JSON header (the format's reference reader uses 100 MB).
const maxHeader = 100 << 20

// Tensor describes one tensor of a file.
type Tensor struct {
	Name  string
	DType string // "F32", "F16", "BF16", "I64", …
	Shape []int
	data  []byte
}

// Len returns the number of elements (the product of the shape).
func (t *Tensor) Len() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Float32 returns the tensor's values as float32, converting F16 and BF16.
func (t *Tensor) Float32() ([]float32, error) {
	n := t.Len()
	out := make([]float32, n)
	switch t.DType {
	case "F32":
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.data[4*i:]))
		}
	case "F16":
		for i := range out {
			out[i] = float16.Frombits(binary.LittleEndian.Uint16(t.data[2*i:])).Float32()
		}
	case "BF16":
		for i := range out {
			out[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(t.data[2*i:])) << 16)
		}
	default:
		return nil, fmt.Errorf("safetensors: tensor %s: dtype %s cannot be read as float32", t.Name, t.DType)
	}
	return out, nil
}

// File is a parsed safetensors file held in memory.
type File struct {
	Path     string
	Metadata map[string]string
	tensors  map[string]*Tensor
}

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.tensors))
	for n := range f.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Tensor returns the named tensor, or nil.
func (f *File) Tensor(name string) *Tensor { return f.tensors[name] }

var dtypeSize = map[string]int{
	"BOOL": 1, "U8": 1, "I8": 1, "F8_E4M3": 1, "F8_E5M2": 1,
	"I16": 2, "U16": 2, "F16": 2, "BF16": 2,
	"I32": 4, "U32": 4, "F32": 4,
	"I64": 8, "U64": 8, "F64": 8,
}

// ReadFile reads and validates a safetensors file.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f.Path = path
	return f, nil
}

// Parse parses a safetensors file held in b. The tensors share b's memory.
func Parse(b []byte) (*File, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("safetensors: file is %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > maxHeader || n > uint64(len(b)-8) {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the file (%d bytes) or the 100 MB limit", n, len(b))
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &raw); err != nil {
		return nil, fmt.Errorf("safetensors: header JSON: %w", err)
	}
	data := b[8+n:]
	f := &File{tensors: make(map[string]*Tensor, len(raw))}
	type span struct {
		lo, hi uint64
		name   string
	}
	var spans []span
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &f.Metadata); err != nil {
				return nil, fmt.Errorf("safetensors: __metadata__: %w", err)
			}
			continue
		}
		var h struct {
			DType   string   `json:"dtype"`
			Shape   []int    `json:"shape"`
			Offsets []uint64 `json:"data_offsets"`
		}
		if err := json.Unmarshal(msg, &h); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %s: %w", name, err)
		}
		size, ok := dtypeSize[h.DType]
		if !ok {
			return nil, fmt.Errorf("safetensors: tensor %s: unknown dtype %q", name, h.DType)
		}
		if len(h.Offsets) != 2 || h.Offsets[0] > h.Offsets[1] || h.Offsets[1] > uint64(len(data)) {
			return nil, fmt.Errorf("safetensors: tensor %s: data_offsets %v outside the %d data bytes", name, h.Offsets, len(data))
		}
		t := &Tensor{Name: name, DType: h.DType, Shape: h.Shape}
		count := uint64(1)
		for _, d := range h.Shape {
			if d < 0 {
				return nil, fmt.Errorf("safetensors: tensor %s: negative dimension in shape %v", name, h.Shape)
			}
			count *= uint64(d)
		}
		if want := count * uint64(size); h.Offsets[1]-h.Offsets[0] != want {
			return nil, fmt.Errorf("safetensors: tensor %s: %d data bytes, but shape %v of %s needs %d", name, h.Offsets[1]-h.Offsets[0], h.Shape, h.DType, want)
		}
		t.data = data[h.Offsets[0]:h.Offsets[1]]
		f.tensors[name] = t
		spans = append(spans, span{h.Offsets[0], h.Offsets[1], name})
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	for i := 1; i < len(spans); i++ {
		if spans[i].lo < spans[i-1].hi {
			return nil, fmt.Errorf("safetensors: tensors %s and %s overlap", spans[i-1].name, spans[i].name)
		}
	}
	return f, nil
}
