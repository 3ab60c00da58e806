// Package onnx reads what a weight loader needs from an ONNX model file: the
// graph's initializers (named constant tensors) and its nodes (operator type,
// inputs, outputs). It parses the protobuf wire format directly and does not
// execute graphs.
package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"

	"google.golang.org/protobuf/encoding/protowire"
)

// ONNX TensorProto data types used here.
const (
	typeFloat = 1
	typeInt64 = 7
)

// Tensor is an initializer. Only FLOAT tensors carry Float data; others keep
// their type and shape so that callers can report or skip them.
type Tensor struct {
	Name     string
	DataType int32
	Dims     []int64
	Float    []float32
}

// Node is one operator of the graph.
type Node struct {
	Name    string
	OpType  string
	Inputs  []string
	Outputs []string
}

// Model holds the initializers and nodes of the main graph.
type Model struct {
	Initializers map[string]*Tensor
	Nodes        []Node
}

// ReadFile reads an ONNX model file.
func ReadFile(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse parses a serialised ModelProto.
func Parse(b []byte) (*Model, error) {
	m := &Model{Initializers: map[string]*Tensor{}}
	found := false
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num == 7 && typ == protowire.BytesType { // ModelProto.graph
			found = true
			return parseGraph(v, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("onnx: no graph in the model (is this an ONNX file?)")
	}
	return m, nil
}

// fields calls fn for each field of the message in b. For bytes fields v is
// the payload; for varints x is the value.
func fields(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("onnx: malformed protobuf: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var u uint32
			u, n = protowire.ConsumeFixed32(b)
			x = uint64(u)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("onnx: malformed protobuf field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func parseGraph(b []byte, m *Model) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1: // node
			nd, err := parseNode(v)
			if err != nil {
				return err
			}
			m.Nodes = append(m.Nodes, nd)
		case 5: // initializer
			t, err := parseTensor(v)
			if err != nil {
				return err
			}
			m.Initializers[t.Name] = t
		}
		return nil
	})
}

func parseNode(b []byte) (Node, error) {
	var nd Node
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if typ != protowire.BytesType {
			return nil
		}
		switch num {
		case 1:
			nd.Inputs = append(nd.Inputs, string(v))
		case 2:
			nd.Outputs = append(nd.Outputs, string(v))
		case 3:
			nd.Name = string(v)
		case 4:
			nd.OpType = string(v)
		}
		return nil
	})
	return nd, err
}

func parseTensor(b []byte) (*Tensor, error) {
	t := &Tensor{}
	var raw []byte
	var floats []float32
	external := false
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1: // dims: packed or not
			if typ == protowire.BytesType {
				for len(v) > 0 {
					d, n := protowire.ConsumeVarint(v)
					if n < 0 {
						return fmt.Errorf("onnx: malformed dims")
					}
					t.Dims = append(t.Dims, int64(d))
					v = v[n:]
				}
			} else {
				t.Dims = append(t.Dims, int64(x))
			}
		case 2:
			t.DataType = int32(x)
		case 4: // float_data: packed or not
			if typ == protowire.BytesType {
				for i := 0; i+4 <= len(v); i += 4 {
					floats = append(floats, math.Float32frombits(binary.LittleEndian.Uint32(v[i:])))
				}
			} else {
				floats = append(floats, math.Float32frombits(uint32(x)))
			}
		case 8:
			t.Name = string(v)
		case 9:
			raw = v
		case 14:
			external = x == 1
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if external {
		return nil, fmt.Errorf("onnx: initializer %s keeps its data in an external file, which is not supported", t.Name)
	}
	if t.DataType != typeFloat {
		return t, nil
	}
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	switch {
	case raw != nil:
		if int64(len(raw)) != 4*n {
			return nil, fmt.Errorf("onnx: initializer %s: %d raw bytes for dims %v (want %d)", t.Name, len(raw), t.Dims, 4*n)
		}
		t.Float = make([]float32, n)
		for i := range t.Float {
			t.Float[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
	default:
		if int64(len(floats)) != n {
			return nil, fmt.Errorf("onnx: initializer %s: %d float_data values for dims %v (want %d)", t.Name, len(floats), t.Dims, n)
		}
		t.Float = floats
	}
	return t, nil
}
