package onnx

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

func tensorProto(name string, dims []int64, vals []float32, packedFloats bool) []byte {
	var b []byte
	for _, d := range dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, typeFloat)
	b = protowire.AppendTag(b, 8, protowire.BytesType)
	b = protowire.AppendString(b, name)
	var data []byte
	for _, v := range vals {
		data = binary.LittleEndian.AppendUint32(data, math.Float32bits(v))
	}
	if packedFloats {
		b = protowire.AppendTag(b, 4, protowire.BytesType)
	} else {
		b = protowire.AppendTag(b, 9, protowire.BytesType)
	}
	return protowire.AppendBytes(b, data)
}

func TestParse(t *testing.T) {
	node := protowire.AppendTag(nil, 1, protowire.BytesType)
	node = protowire.AppendString(node, "x")
	node = protowire.AppendTag(node, 1, protowire.BytesType)
	node = protowire.AppendString(node, "w")
	node = protowire.AppendTag(node, 2, protowire.BytesType)
	node = protowire.AppendString(node, "y")
	node = protowire.AppendTag(node, 4, protowire.BytesType)
	node = protowire.AppendString(node, "MatMul")
	var g []byte
	g = protowire.AppendTag(g, 1, protowire.BytesType)
	g = protowire.AppendBytes(g, node)
	g = protowire.AppendTag(g, 5, protowire.BytesType)
	g = protowire.AppendBytes(g, tensorProto("w", []int64{2, 2}, []float32{1, 2, 3, 4}, false))
	g = protowire.AppendTag(g, 5, protowire.BytesType)
	g = protowire.AppendBytes(g, tensorProto("b", []int64{2}, []float32{5, 6}, true))
	var m []byte
	m = protowire.AppendTag(m, 1, protowire.VarintType) // ir_version
	m = protowire.AppendVarint(m, 7)
	m = protowire.AppendTag(m, 7, protowire.BytesType)
	m = protowire.AppendBytes(m, g)
	model, err := Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(model.Nodes) != 1 || model.Nodes[0].OpType != "MatMul" || strings.Join(model.Nodes[0].Inputs, ",") != "x,w" || model.Nodes[0].Outputs[0] != "y" {
		t.Errorf("nodes %+v", model.Nodes)
	}
	w, b := model.Initializers["w"], model.Initializers["b"]
	if w == nil || len(w.Float) != 4 || w.Float[3] != 4 || w.Dims[0] != 2 {
		t.Errorf("w = %+v", w)
	}
	if b == nil || len(b.Float) != 2 || b.Float[1] != 6 {
		t.Errorf("b = %+v", b)
	}
	if _, err := Parse([]byte{0xff}); err == nil {
		t.Error("garbage: want an error")
	}
	if _, err := Parse(nil); err == nil || !strings.Contains(err.Error(), "no graph") {
		t.Errorf("empty: error %v", err)
	}
	bad := protowire.AppendTag(nil, 5, protowire.BytesType)
	bad = protowire.AppendBytes(bad, tensorProto("w", []int64{3}, []float32{1}, false))
	bm := protowire.AppendTag(nil, 7, protowire.BytesType)
	bm = protowire.AppendBytes(bm, bad)
	if _, err := Parse(bm); err == nil || !strings.Contains(err.Error(), "initializer w") {
		t.Errorf("short tensor: error %v", err)
	}
}

func TestFixture(t *testing.T) {
	m, err := ReadFile("../testdata/bert-tiny/model.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Nodes) != 151 {
		t.Errorf("%d nodes, want 151 (bert-tiny README)", len(m.Nodes))
	}
	w := m.Initializers["embeddings.word_embeddings.weight"]
	if w == nil || len(w.Float) != 30522*32 {
		t.Fatalf("word embeddings: %v", w != nil)
	}
}
