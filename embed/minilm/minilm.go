// Package minilm is a local sentence embedder: a BERT sentence-transformers
// model such as all-MiniLM-L6-v2 run in pure Go (package bert), found on
// disk with FindModel. It implements embed.Embedder.
package minilm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/kura-go/kura/internal/parallel"

	"github.com/kura-go/kura/bert"
	"github.com/kura-go/kura/bert/wordpiece"
	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/hfhub"
)

// DefaultModel is the model FindModel looks for in the caches.
const DefaultModel = "sentence-transformers/all-MiniLM-L6-v2"

// DefaultDims is the vector length of DefaultModel.
const DefaultDims = 384

// Options configures New.
type Options struct {
	// ModelDir is a model folder; "" means FindModel("").
	ModelDir string
	// BatchSize is the number of texts run through the encoder at once
	// (default 64). Larger batches use more memory and cores better.
	BatchSize int
	// Threads is the number of goroutines (default runtime.GOMAXPROCS(0)).
	Threads int
}

// Embedder embeds texts with a local BERT model. It is safe for concurrent use.
type Embedder struct {
	o     Options
	name  string
	dir   string
	model *bert.Model
	tok   *wordpiece.Tokenizer
	sc    bert.SentenceConfig

	requests, inputs, tokens, truncated atomic.Int64
}

var _ embed.Embedder = (*Embedder)(nil)

// New loads the model in o.ModelDir (or the one FindModel finds).
func New(o Options) (*Embedder, error) {
	dir, err := FindModel(o.ModelDir)
	if err != nil {
		return nil, err
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.Threads <= 0 {
		o.Threads = runtime.GOMAXPROCS(0)
	}
	m, err := bert.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("minilm: %w", err)
	}
	tok, err := wordpiece.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("minilm: %w", err)
	}
	if tok.VocabSize() > m.Config().VocabSize {
		return nil, fmt.Errorf("minilm: %s: the tokenizer has %d tokens but config.json says vocab_size %d", dir, tok.VocabSize(), m.Config().VocabSize)
	}
	sc, err := bert.ReadSentenceConfig(dir, m.Config().MaxPositionEmbeddings)
	if err != nil {
		return nil, fmt.Errorf("minilm: %w", err)
	}
	o.ModelDir = dir
	return &Embedder{o: o, name: "minilm:" + modelName(dir), dir: dir, model: m, tok: tok, sc: sc}, nil
}

// modelName names the model in dir: ORG/NAME for the kura and Hugging Face
// caches, else the folder's name.
func modelName(dir string) string {
	if b, err := os.ReadFile(filepath.Join(dir, hfhub.ManifestName)); err == nil {
		var m hfhub.Manifest
		if json.Unmarshal(b, &m) == nil && hfhub.ValidateRepo(m.Repo) == nil {
			return m.Repo
		}
	}
	// <hf>/models--ORG--NAME/snapshots/<sha>
	if filepath.Base(filepath.Dir(dir)) == "snapshots" {
		base := filepath.Base(filepath.Dir(filepath.Dir(dir)))
		if rest, ok := strings.CutPrefix(base, "models--"); ok {
			if org, name, ok := strings.Cut(rest, "--"); ok {
				return org + "/" + name
			}
		}
	}
	return filepath.Base(dir)
}

// Name returns "minilm:" and the model, e.g. "minilm:sentence-transformers/all-MiniLM-L6-v2".
func (e *Embedder) Name() string { return e.name }

// Dir returns the model folder in use.
func (e *Embedder) Dir() string { return e.dir }

// Dims returns the embedding size (384 for all-MiniLM-L6-v2).
func (e *Embedder) Dims() int { return e.model.Dims() }

// ModelDims returns the embedding size of the model FindModel(dir) finds,
// read from its config.json without loading the weights.
func ModelDims(dir string) (int, error) {
	d, err := FindModel(dir)
	if err != nil {
		return 0, err
	}
	c, err := bert.ReadConfig(filepath.Join(d, "config.json"))
	if err != nil {
		return 0, fmt.Errorf("minilm: %w", err)
	}
	return c.HiddenSize, nil
}

// MaxSeqLength returns the truncation length in tokens.
func (e *Embedder) MaxSeqLength() int { return e.sc.MaxSeqLength }

// Usage reports batches run (as Requests), texts, WordPiece tokens
// ([CLS] and [SEP] included, after truncation) and truncated texts. Local
// inference costs no money.
func (e *Embedder) Usage() embed.Usage {
	return embed.Usage{Requests: e.requests.Load(), Inputs: e.inputs.Load(), Tokens: e.tokens.Load(), Truncated: e.truncated.Load()}
}

// Tokenize returns the token ids the model sees for text and whether the
// text was truncated to MaxSeqLength.
func (e *Embedder) Tokenize(text string) ([]int32, bool) {
	return e.tok.AppendEncodeTruncated(nil, text, e.sc.MaxSeqLength)
}

// Embed returns one vector per text. Texts are tokenised in parallel, sorted
// by length and run in batches of BatchSize, each batch across all Threads;
// the vectors come back in the order of texts.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	seqs := make([][]int32, len(texts))
	var ntok, ncut atomic.Int64
	parallel.For(ctx, len(texts), 64, e.o.Threads, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			ids, cut := e.tok.AppendEncodeTruncated(nil, texts[i], e.sc.MaxSeqLength)
			seqs[i] = ids
			ntok.Add(int64(len(ids)))
			if cut {
				ncut.Add(1)
			}
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	order := make([]int, len(texts))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(seqs[order[a]]) < len(seqs[order[b]]) })
	pooling := bert.MeanPooling
	if e.sc.Pooling == "cls" {
		pooling = bert.CLSPooling
	}
	opts := bert.EmbedOptions{Threads: e.o.Threads, Pooling: pooling, Normalize: e.sc.Normalize}
	out := make([][]float32, len(texts))
	batch := make([][]int32, 0, e.o.BatchSize)
	for b := 0; b < len(order); b += e.o.BatchSize {
		idx := order[b:min(b+e.o.BatchSize, len(order))]
		batch = batch[:0]
		for _, i := range idx {
			batch = append(batch, seqs[i])
		}
		vecs, err := e.model.Embed(ctx, batch, opts)
		if err != nil {
			// out holds the texts of the batches run so far (see embed.Embedder).
			if ctx.Err() != nil {
				return out, fmt.Errorf("minilm: %w", context.Cause(ctx))
			}
			return out, fmt.Errorf("minilm: %w", err)
		}
		for j, i := range idx {
			out[i] = vecs[j]
		}
		e.requests.Add(1)
		embed.ReportProgress(ctx, len(idx))
	}
	e.inputs.Add(int64(len(texts)))
	e.tokens.Add(ntok.Load())
	e.truncated.Add(ncut.Load())
	return out, nil
}

// ErrNoModel is wrapped by FindModel's error when no model is installed.
var ErrNoModel = errors.New("no local embedding model found")

// FindModel returns the model folder to use: dir if not empty, else
// $KURA_MODEL_DIR, else DefaultModel in kura's cache
// (os.UserCacheDir()/kura/models/ORG/NAME), else DefaultModel in the Hugging
// Face cache (HF_HUB_CACHE, HF_HOME/hub or ~/.cache/huggingface/hub). The
// error says where it looked and how to install a model.
func FindModel(dir string) (string, error) {
	check := func(d, from string) (string, error) {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			return "", fmt.Errorf("minilm: %s %s is not a folder", from, d)
		}
		if missing := hfhub.MissingFiles(d); missing != nil {
			return "", fmt.Errorf("minilm: %s %s is not a model folder: it has no %s", from, d, strings.Join(missing, ", "))
		}
		return d, nil
	}
	if dir != "" {
		return check(dir, "--model-dir")
	}
	if d := os.Getenv("KURA_MODEL_DIR"); d != "" {
		return check(d, "KURA_MODEL_DIR")
	}
	var looked []string
	if cache, err := hfhub.CacheDir(); err == nil {
		d := hfhub.ModelDir(cache, DefaultModel)
		if hfhub.IsModelDir(d) {
			return d, nil
		}
		looked = append(looked, d)
	}
	hf := hfhub.HFCacheDir()
	if d, ok := hfhub.HFSnapshot(hf, DefaultModel); ok {
		return d, nil
	}
	if hf != "" {
		looked = append(looked, filepath.Join(hf, "models--"+strings.ReplaceAll(DefaultModel, "/", "--"), "snapshots", "*"))
	}
	return "", fmt.Errorf("minilm: %w (looked in %s). Install one with\n\n    kura models pull %s\n\n"+
		"or point --model-dir (or KURA_MODEL_DIR) at a folder with config.json, model.safetensors and tokenizer.json",
		ErrNoModel, strings.Join(looked, " and "), DefaultModel)
}
