package onnx

import (
	"os"
	"testing"

	"github.com/kura-go/kura/internal/allocbound"
)

// FuzzParse feeds arbitrary bytes to the ONNX (protobuf) parser: a model or
// an error, never a panic, and memory bounded by the file.
func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("../testdata/bert-tiny/model.onnx"); err == nil {
		f.Add(b)
		f.Add(b[:len(b)/3])
	}
	f.Add([]byte{0x3a, 0x05, 0x0a, 0x03, 'a', 'b', 'c'})
	f.Add([]byte{0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		allocbound.Check(t, allocbound.PerByte(len(data), 32, 1<<20), "ONNX file", func() {
			_, _ = Parse(data)
		})
	})
}
