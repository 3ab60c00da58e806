// Package bert is a pure-Go BERT encoder for sentence embeddings: it loads
// Hugging Face BertModel weights (model.safetensors or the initializers of a
// model.onnx export), runs the transformer forward pass in float32 and pools
// the result into L2-normalised sentence vectors, as sentence-transformers
// does for all-MiniLM-L6-v2, bge-small, e5-small and similar models.
//
// Batches are packed: the sequences of a batch are laid end to end with no
// padding, so the dense layers never compute padded rows and attention runs
// per sequence over its own length. This gives the same numbers as a padded
// batch whose padded keys are masked with float32 min (their softmax weight
// underflows to exactly zero).
package bert

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Config is the part of a Hugging Face config.json that the encoder needs.
type Config struct {
	ModelType             string  `json:"model_type"`
	VocabSize             int     `json:"vocab_size"`
	HiddenSize            int     `json:"hidden_size"`
	NumHiddenLayers       int     `json:"num_hidden_layers"`
	NumAttentionHeads     int     `json:"num_attention_heads"`
	IntermediateSize      int     `json:"intermediate_size"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings"`
	TypeVocabSize         int     `json:"type_vocab_size"`
	LayerNormEps          float64 `json:"layer_norm_eps"`
	HiddenAct             string  `json:"hidden_act"`
	PositionEmbeddingType string  `json:"position_embedding_type"`
}

// ReadConfig reads and validates a config.json. A missing layer_norm_eps
// takes BertConfig's default 1e-12; a missing hidden_act is "gelu".
func ReadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("bert: %w", err)
	}
	c := Config{LayerNormEps: -1}
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("bert: %s: %w", path, err)
	}
	if c.LayerNormEps < 0 {
		c.LayerNormEps = 1e-12
	}
	if c.HiddenAct == "" {
		c.HiddenAct = "gelu"
	}
	if c.TypeVocabSize == 0 {
		c.TypeVocabSize = 2
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate checks that the configuration describes a model this package runs.
func (c *Config) Validate() error {
	check := func(field string, v int) error {
		if v <= 0 {
			return fmt.Errorf("bert: field %s: %d, want a positive number", field, v)
		}
		return nil
	}
	if err := errors.Join(check("vocab_size", c.VocabSize), check("hidden_size", c.HiddenSize),
		check("num_hidden_layers", c.NumHiddenLayers), check("num_attention_heads", c.NumAttentionHeads),
		check("intermediate_size", c.IntermediateSize), check("max_position_embeddings", c.MaxPositionEmbeddings),
		check("type_vocab_size", c.TypeVocabSize)); err != nil {
		return err
	}
	if c.HiddenSize%c.NumAttentionHeads != 0 {
		return fmt.Errorf("bert: field hidden_size: %d is not a multiple of num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	}
	switch c.HiddenAct {
	case "gelu", "gelu_new", "gelu_pytorch_tanh", "relu":
	default:
		return fmt.Errorf("bert: field hidden_act: %q is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu)", c.HiddenAct)
	}
	if c.PositionEmbeddingType != "" && c.PositionEmbeddingType != "absolute" {
		return fmt.Errorf("bert: field position_embedding_type: %q is not supported (absolute)", c.PositionEmbeddingType)
	}
	if c.LayerNormEps <= 0 {
		return fmt.Errorf("bert: field layer_norm_eps: %g, want a positive number", c.LayerNormEps)
	}
	switch c.ModelType {
	case "", "bert":
	default:
		return fmt.Errorf("bert: field model_type: %q is not supported (bert)", c.ModelType)
	}
	return nil
}

// SentenceConfig is what sentence-transformers keeps beside the weights:
// sentence_bert_config.json, 1_Pooling/config.json and modules.json.
type SentenceConfig struct {
	// MaxSeqLength is the truncation length in tokens, [CLS] and [SEP] included.
	MaxSeqLength int
	// Pooling is "mean" or "cls".
	Pooling string
	// Normalize is true when the pipeline ends with an L2 Normalize module.
	Normalize bool
}

// ReadSentenceConfig reads the sentence-transformers files of a model
// folder. Missing files give the all-MiniLM-L6-v2 defaults, except that
// max_seq_length then falls back to maxPositions.
func ReadSentenceConfig(dir string, maxPositions int) (SentenceConfig, error) {
	sc := SentenceConfig{MaxSeqLength: maxPositions, Pooling: "mean", Normalize: true}
	var sb struct {
		MaxSeqLength int `json:"max_seq_length"`
	}
	ok, err := readJSON(filepath.Join(dir, "sentence_bert_config.json"), &sb)
	if err != nil {
		return sc, err
	}
	if ok && sb.MaxSeqLength > 0 {
		sc.MaxSeqLength = min(sb.MaxSeqLength, maxPositions)
	}
	var pool struct {
		Mean bool `json:"pooling_mode_mean_tokens"`
		CLS  bool `json:"pooling_mode_cls_token"`
		Max  bool `json:"pooling_mode_max_tokens"`
	}
	ok, err = readJSON(filepath.Join(dir, "1_Pooling", "config.json"), &pool)
	if err != nil {
		return sc, err
	}
	if ok {
		switch {
		case pool.Mean && !pool.CLS && !pool.Max:
			sc.Pooling = "mean"
		case pool.CLS && !pool.Mean && !pool.Max:
			sc.Pooling = "cls"
		default:
			return sc, fmt.Errorf("bert: %s: only mean or CLS pooling is supported", filepath.Join(dir, "1_Pooling", "config.json"))
		}
	}
	var modules []struct {
		Type string `json:"type"`
	}
	ok, err = readJSON(filepath.Join(dir, "modules.json"), &modules)
	if err != nil {
		return sc, err
	}
	if ok {
		sc.Normalize = false
		for _, m := range modules {
			if m.Type == "sentence_transformers.models.Normalize" {
				sc.Normalize = true
			}
		}
	}
	return sc, nil
}

func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bert: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("bert: %s: %w", path, err)
	}
	return true, nil
}
