package safetensors

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
)

// FuzzParse feeds arbitrary files to the safetensors parser: a model or an
// error, never a panic, and memory bounded by the file (tensors share it).
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../testdata/bert-tiny/model.safetensors"); err == nil {
		f.Add(b)
	}
	hdr := func(s string) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(s)))
		return append(b, s...)
	}
	f.Add(hdr(`{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}`))
	f.Add(hdr(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}}`))
	f.Add(hdr(`{"__metadata__":{"format":"pt"},"a":{"dtype":"BF16","shape":[],"data_offsets":[0,2]}}`))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{'})
	f.Fuzz(func(t *testing.T, data []byte) {
		allocbound.Check(t, allocbound.PerByte(len(data), 16, 1<<20), "safetensors file", func() {
			if file, err := Parse(data); err == nil {
				for _, n := range file.Names() {
					_ = file.Tensor(n)
				}
			}
		})
	})
}
