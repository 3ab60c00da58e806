package safetensors

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

func build(header string, data []byte) []byte {
	b := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	return append(b, data...)
}

func TestParse(t *testing.T) {
	data := make([]byte, 0, 28)
	for _, v := range []float32{1, -2.5, 3} {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	data = binary.LittleEndian.AppendUint16(data, 0x3c00) // F16 1.0
	data = binary.LittleEndian.AppendUint16(data, 0xc000) // F16 -2.0
	data = binary.LittleEndian.AppendUint16(data, 0x0001) // F16 2^-24, the smallest subnormal
	data = binary.LittleEndian.AppendUint16(data, 0xfc00) // F16 -Inf
	data = binary.LittleEndian.AppendUint16(data, 0x3f80) // BF16 1.0
	data = append(data, 0, 0)                             // padding, unused
	hdr := `{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]},` +
		`"h":{"dtype":"F16","shape":[4],"data_offsets":[12,20]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[20,22]}}`
	f, err := Parse(build(hdr, data))
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "pt" {
		t.Errorf("metadata %v", f.Metadata)
	}
	for _, tc := range []struct {
		name string
		want []float32
	}{{"a", []float32{1, -2.5, 3}}, {"h", []float32{1, -2, 0x1p-24, float32(math.Inf(-1))}}, {"b", []float32{1}}} {
		got, err := f.Tensor(tc.name).Float32()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s[%d] = %v, want %v", tc.name, i, got[i], tc.want[i])
			}
		}
	}
	if got := strings.Join(f.Names(), ","); got != "a,b,h" {
		t.Errorf("Names = %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, header string
		data         int
		want         string
	}{
		{"bad json", `{`, 0, "header JSON"},
		{"unknown dtype", `{"a":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}`, 4, "unknown dtype"},
		{"out of range", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4, "outside"},
		{"size mismatch", `{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}`, 8, "needs 12"},
		{"overlap", `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8, "overlap"},
	}
	for _, tc := range tests {
		_, err := Parse(build(tc.header, make([]byte, tc.data)))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := Parse([]byte{1, 2}); err == nil {
		t.Error("short file: want an error")
	}
	b := build(`{}`, nil)
	binary.LittleEndian.PutUint64(b, 1<<40)
	if _, err := Parse(b); err == nil {
		t.Error("huge header length: want an error")
	}
}

func TestFixture(t *testing.T) {
	f, err := ReadFile("../testdata/bert-tiny/model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	w := f.Tensor("embeddings.word_embeddings.weight")
	if w == nil || w.DType != "F32" || len(w.Shape) != 2 || w.Shape[0] != 30522 || w.Shape[1] != 32 {
		t.Fatalf("word embeddings: %+v", w)
	}
	if p := f.Tensor("embeddings.position_ids"); p == nil || p.DType != "I64" {
		t.Fatalf("position_ids: %+v", p)
	} else if _, err := p.Float32(); err == nil {
		t.Error("I64 as float32: want an error")
	}
}
