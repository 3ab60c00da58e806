package bert

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kura-go/kura/bert/onnx"
	"github.com/kura-go/kura/bert/safetensors"
)

// layer holds one transformer layer's weights. Matrices are stored row-major
// as [in, out], the transpose of PyTorch's Linear weight, so that x·W needs no
// transposed operand (the GEMM packs such a B by plain copies); query, key and
// value are side by side in one [hidden, 3·hidden] matrix so that one GEMM
// computes all three.
type layer struct {
	qkvW, qkvB   []float32
	attnW, attnB []float32
	ln1G, ln1B   []float32
	interW       []float32
	interB       []float32
	outW, outB   []float32
	ln2G, ln2B   []float32
}

// Model is a loaded BERT encoder. It is safe for concurrent use.
type Model struct {
	cfg                      Config
	wordEmb, posEmb, typeEmb []float32
	embLNG, embLNB           []float32
	layers                   []layer
	headDim                  int
	pool                     workspacePool
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Dims returns the hidden size, the length of every output vector.
func (m *Model) Dims() int { return m.cfg.HiddenSize }

// tensorSource returns a named float32 tensor and its shape, or ok false.
type tensorSource func(name string) (data []float32, shape []int, ok bool, err error)

// TensorNames lists the weight names a model with cfg needs (HF BertModel
// names, without the pooler, which sentence embeddings do not use).
func TensorNames(cfg Config) []string {
	names := []string{
		"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
		"embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
	}
	for l := 0; l < cfg.NumHiddenLayers; l++ {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		for _, s := range []string{
			"attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense",
			"attention.output.LayerNorm", "intermediate.dense", "output.dense", "output.LayerNorm",
		} {
			names = append(names, p+s+".weight", p+s+".bias")
		}
	}
	return names
}

// build assembles a Model from a tensor source, checking every shape.
func build(cfg Config, src tensorSource, where string) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	h, inter := cfg.HiddenSize, cfg.IntermediateSize
	var errs []error
	get := func(name string, shape ...int) []float32 {
		data, got, ok, err := src(name)
		if err == nil && !ok {
			// Checkpoints of BertFor* heads prefix the encoder with "bert.".
			data, got, ok, err = src("bert." + name)
		}
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("tensor %s: %w", name, err))
			return nil
		case !ok:
			errs = append(errs, fmt.Errorf("tensor %s is missing", name))
			return nil
		}
		if !sameShape(got, shape) {
			errs = append(errs, fmt.Errorf("tensor %s has shape %v, want %v (from config.json)", name, got, shape))
			return nil
		}
		if n := product(shape); len(data) != n {
			errs = append(errs, fmt.Errorf("tensor %s has %d values, want %d for shape %v", name, len(data), n, shape))
			return nil
		}
		return data
	}
	m := &Model{cfg: cfg, headDim: h / cfg.NumAttentionHeads}
	m.wordEmb = get("embeddings.word_embeddings.weight", cfg.VocabSize, h)
	m.posEmb = get("embeddings.position_embeddings.weight", cfg.MaxPositionEmbeddings, h)
	m.typeEmb = get("embeddings.token_type_embeddings.weight", cfg.TypeVocabSize, h)
	m.embLNG = get("embeddings.LayerNorm.weight", h)
	m.embLNB = get("embeddings.LayerNorm.bias", h)
	m.layers = make([]layer, cfg.NumHiddenLayers)
	for l := range m.layers {
		p := fmt.Sprintf("encoder.layer.%d.", l)
		L := &m.layers[l]
		q, k, v := get(p+"attention.self.query.weight", h, h), get(p+"attention.self.key.weight", h, h), get(p+"attention.self.value.weight", h, h)
		qb, kb, vb := get(p+"attention.self.query.bias", h), get(p+"attention.self.key.bias", h), get(p+"attention.self.value.bias", h)
		L.qkvW = transpose(concat(q, k, v), 3*h, h)
		L.qkvB = concat(qb, kb, vb)
		L.attnW = transpose(get(p+"attention.output.dense.weight", h, h), h, h)
		L.attnB = get(p+"attention.output.dense.bias", h)
		L.ln1G = get(p+"attention.output.LayerNorm.weight", h)
		L.ln1B = get(p+"attention.output.LayerNorm.bias", h)
		L.interW = transpose(get(p+"intermediate.dense.weight", inter, h), inter, h)
		L.interB = get(p+"intermediate.dense.bias", inter)
		L.outW = transpose(get(p+"output.dense.weight", h, inter), h, inter)
		L.outB = get(p+"output.dense.bias", h)
		L.ln2G = get(p+"output.LayerNorm.weight", h)
		L.ln2B = get(p+"output.LayerNorm.bias", h)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("bert: %s: %w", where, errors.Join(errs...))
	}
	return m, nil
}

// transpose returns the cols×rows transpose of the row-major rows×cols
// matrix a (nil for nil).
func transpose(a []float32, rows, cols int) []float32 {
	if a == nil {
		return nil
	}
	t := make([]float32, len(a))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			t[j*rows+i] = a[i*cols+j]
		}
	}
	return t
}

func concat(parts ...[]float32) []float32 {
	n := 0
	for _, p := range parts {
		if p == nil {
			return nil
		}
		n += len(p)
	}
	out := make([]float32, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func sameShape(got, want []int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// LoadSafetensors loads the weights of a model.safetensors file.
func LoadSafetensors(path string, cfg Config) (*Model, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	return build(cfg, func(name string) ([]float32, []int, bool, error) {
		t := f.Tensor(name)
		if t == nil {
			return nil, nil, false, nil
		}
		data, err := t.Float32()
		return data, t.Shape, err == nil, err
	}, path)
}

// LoadONNX loads the weights from the initializers of a model.onnx exported
// from a BertModel. Embedding, LayerNorm and bias initializers keep their HF
// names; a Linear's matrix is an anonymous initializer of shape [in, out] fed
// to a MatMul, whose output feeds an Add with the "<prefix>.bias"
// initializer: that matrix is "<prefix>.weight", transposed.
func LoadONNX(path string, cfg Config) (*Model, error) {
	g, err := onnx.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	weights := map[string]*onnx.Tensor{} // HF weight name -> [in, out] initializer
	consumers := map[string][]onnx.Node{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			consumers[in] = append(consumers[in], n)
		}
	}
	for _, n := range g.Nodes {
		if n.OpType != "MatMul" || len(n.Inputs) != 2 || len(n.Outputs) != 1 {
			continue
		}
		w := g.Initializers[n.Inputs[1]]
		if w == nil {
			continue // activation × activation (attention)
		}
		for _, c := range consumers[n.Outputs[0]] {
			if c.OpType != "Add" || len(c.Inputs) != 2 {
				continue
			}
			other := c.Inputs[0]
			if other == n.Outputs[0] {
				other = c.Inputs[1]
			}
			if prefix, ok := strings.CutSuffix(other, ".bias"); ok && g.Initializers[other] != nil {
				weights[prefix+".weight"] = w
			}
		}
	}
	return build(cfg, func(name string) ([]float32, []int, bool, error) {
		if t := g.Initializers[name]; t != nil && t.Float != nil {
			return t.Float, dims(t.Dims), true, nil
		}
		t := weights[name]
		if t == nil {
			return nil, nil, false, nil
		}
		if len(t.Dims) != 2 {
			return nil, nil, false, fmt.Errorf("MatMul initializer %s has %d dimensions, want 2", t.Name, len(t.Dims))
		}
		in, out := int(t.Dims[0]), int(t.Dims[1])
		tr := make([]float32, in*out)
		for i := 0; i < in; i++ {
			for j := 0; j < out; j++ {
				tr[j*in+i] = t.Float[i*out+j]
			}
		}
		return tr, []int{out, in}, true, nil
	}, path)
}

func dims(d []int64) []int {
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

// Load loads a model folder: config.json, then model.safetensors when
// present, else model.onnx (or onnx/model.onnx).
func Load(dir string) (*Model, error) {
	cfg, err := ReadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	st := filepath.Join(dir, "model.safetensors")
	if _, err := os.Stat(st); err == nil {
		return LoadSafetensors(st, cfg)
	}
	for _, p := range []string{filepath.Join(dir, "model.onnx"), filepath.Join(dir, "onnx", "model.onnx")} {
		if _, err := os.Stat(p); err == nil {
			return LoadONNX(p, cfg)
		}
	}
	return nil, fmt.Errorf("bert: %s has no model.safetensors or model.onnx", dir)
}
