package minilm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kura-go/kura/embed"
)

const fixture = "../../bert/testdata/bert-tiny"

// tolerance is the bert-tiny README's max abs difference per component.
const tolerance = 1e-5

type ref struct {
	I         int       `json:"i"`
	Text      string    `json:"text"`
	Embedding []float32 `json:"embedding"`
}

func readRefs(t *testing.T) []ref {
	t.Helper()
	texts := map[int]string{}
	for _, r := range readJSONL(t, "token_ids.jsonl") {
		texts[r.I] = r.Text
	}
	refs := readJSONL(t, "expected.jsonl")
	for i := range refs {
		refs[i].Text = texts[refs[i].I]
	}
	if len(refs) != 60 {
		t.Fatalf("%d references, want 60", len(refs))
	}
	return refs
}

func readJSONL(t *testing.T, name string) []ref {
	f, err := os.Open(filepath.Join(fixture, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []ref
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r ref
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestEmbedFixture runs the whole pipeline (text → tokens → vectors) on the
// 60 bert-tiny inputs, in one call and in small batches.
func TestEmbedFixture(t *testing.T) {
	refs := readRefs(t)
	texts := make([]string, len(refs))
	for i, r := range refs {
		texts[i] = r.Text
	}
	for _, o := range []Options{{ModelDir: fixture}, {ModelDir: fixture, BatchSize: 7, Threads: 3}} {
		e, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		if e.Dims() != 32 || e.MaxSeqLength() != 256 || e.Name() != "minilm:bert-tiny" {
			t.Errorf("Dims %d MaxSeqLength %d Name %q", e.Dims(), e.MaxSeqLength(), e.Name())
		}
		done := 0
		ctx := embed.WithProgress(context.Background(), func(n int) { done += n })
		got, err := e.Embed(ctx, texts)
		if err != nil {
			t.Fatal(err)
		}
		var worst float64
		for i := range refs {
			for j, v := range got[i] {
				worst = math.Max(worst, math.Abs(float64(v)-float64(refs[i].Embedding[j])))
			}
		}
		if worst > tolerance {
			t.Errorf("batch size %d: max abs diff %g > %g", o.BatchSize, worst, tolerance)
		}
		t.Logf("batch size %d: max abs diff %.3g", e.o.BatchSize, worst)
		u := e.Usage()
		if u.Inputs != 60 || u.Truncated != 4 || u.Tokens == 0 || done != 60 {
			t.Errorf("usage %+v, progress %d", u, done)
		}
	}
}

func TestFindModel(t *testing.T) {
	empty := t.TempDir()
	t.Setenv("KURA_CACHE_DIR", empty)
	t.Setenv("HF_HUB_CACHE", filepath.Join(empty, "hf"))
	t.Setenv("KURA_MODEL_DIR", "")
	_, err := FindModel("")
	if !errors.Is(err, ErrNoModel) || !strings.Contains(err.Error(), "kura models pull sentence-transformers/all-MiniLM-L6-v2") ||
		!strings.Contains(err.Error(), "--model-dir") {
		t.Errorf("no model: error %v", err)
	}
	if _, err := New(Options{}); !errors.Is(err, ErrNoModel) {
		t.Errorf("New without a model: error %v", err)
	}
	if _, err := FindModel(empty); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("--model-dir without files: error %v", err)
	}
	if d, err := FindModel(fixture); err != nil || d != fixture {
		t.Errorf("FindModel(fixture) = %q, %v", d, err)
	}
	t.Setenv("KURA_MODEL_DIR", fixture)
	if d, err := FindModel(""); err != nil || d != fixture {
		t.Errorf("KURA_MODEL_DIR: %q, %v", d, err)
	}
	t.Setenv("KURA_MODEL_DIR", "")
	// kura's cache.
	kd := filepath.Join(empty, "models", "sentence-transformers", "all-MiniLM-L6-v2")
	link(t, fixture, kd)
	if d, err := FindModel(""); err != nil || d != kd {
		t.Errorf("kura cache: %q, %v", d, err)
	}
	os.RemoveAll(kd)
	// The Hugging Face cache.
	snap := filepath.Join(empty, "hf", "models--sentence-transformers--all-MiniLM-L6-v2", "snapshots", "0123abc")
	link(t, fixture, snap)
	d, err := FindModel("")
	if err != nil || d != snap {
		t.Errorf("HF cache: %q, %v", d, err)
	}
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "minilm:sentence-transformers/all-MiniLM-L6-v2" {
		t.Errorf("Name %q", e.Name())
	}
}

// link makes dst a model folder whose files are symbolic links to src's.
func link(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.safetensors", "tokenizer.json", "sentence_bert_config.json"} {
		abs, _ := filepath.Abs(filepath.Join(src, f))
		if err := os.Symlink(abs, filepath.Join(dst, f)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestEmbedCancelled(t *testing.T) {
	e, err := New(Options{ModelDir: fixture})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Embed(ctx, []string{"a"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v", err)
	}
	v, err := e.Embed(context.Background(), nil)
	if err != nil || len(v) != 0 {
		t.Errorf("no texts: %v, %v", v, err)
	}
}

// TestNameFromManifest: a model pulled by kura is named by its repository.
func TestNameFromManifest(t *testing.T) {
	dir := t.TempDir()
	link(t, fixture, dir)
	if err := os.WriteFile(filepath.Join(dir, ".kura-model.json"), []byte(`{"repo": "test-org/tiny", "revision": "main"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{ModelDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if e.Name() != "minilm:test-org/tiny" {
		t.Errorf("Name %q, want minilm:test-org/tiny", e.Name())
	}
}

// ModelDims reads the embedding size from the model's config.json, as the
// loaded model reports it, and fails as FindModel does without a model.
func TestModelDims(t *testing.T) {
	d, err := ModelDims(fixture)
	if err != nil || d != 32 {
		t.Fatalf("ModelDims(%s) = %d, %v; want 32 (bert-tiny's hidden_size)", fixture, d, err)
	}
	e, err := New(Options{ModelDir: fixture, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if e.Dims() != d {
		t.Errorf("ModelDims %d, the loaded model's Dims %d", d, e.Dims())
	}
	if _, err := ModelDims(t.TempDir()); err == nil {
		t.Error("ModelDims of a folder without a model: no error")
	}
}

// TestEmbedInterruptedKeepsDone: interrupted after some batches, Embed
// returns with the error the vectors of the texts it finished (the same as
// an uninterrupted call's) and nil for the others, as embed.Stream expects.
// The texts grow in length, so the shortest-first order is the input order.
func TestEmbedInterruptedKeepsDone(t *testing.T) {
	e, err := New(Options{ModelDir: fixture, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	var texts []string
	for i := range 12 {
		texts = append(texts, strings.Repeat("bread ", i+1))
	}
	want, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := 0
	got, err := e.Embed(embed.WithProgress(ctx, func(n int) {
		if done += n; done >= 4 {
			cancel()
		}
	}), texts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if len(got) != len(texts) {
		t.Fatalf("%d entries for %d texts", len(got), len(texts))
	}
	for i, v := range got {
		switch {
		case i < done && !slices.Equal(v, want[i]):
			t.Errorf("text %d: vector differs from an uninterrupted call's", i)
		case i >= done && v != nil:
			t.Errorf("text %d: a vector after the %d reported done", i, done)
		}
	}
}
