package bert

import (
	"bufio"
	"context"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kura-go/kura/internal/f32"
)

const fixture = "testdata/bert-tiny"

// tolerance is the bert-tiny README's bound on the max abs difference per
// component, for sentence embeddings and for last_hidden_state.
const tolerance = 1e-5

func readJSONL[T any](t testing.TB, name string) []T {
	t.Helper()
	f, err := os.Open(filepath.Join(fixture, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for line := 1; sc.Scan(); line++ {
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("%s:%d: %v", name, line, err)
		}
		out = append(out, v)
	}
	return out
}

type tokRow struct {
	I   int     `json:"i"`
	IDs []int32 `json:"ids"`
}

type embRow struct {
	I         int       `json:"i"`
	NTokens   int       `json:"n_tokens"`
	Embedding []float32 `json:"embedding"`
}

type hiddenRow struct {
	I      int         `json:"i"`
	IDs    []int32     `json:"ids"`
	Hidden [][]float32 `json:"last_hidden_state"`
}

func loadFixture(t testing.TB) *Model {
	t.Helper()
	m, err := Load(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func fixtureInputs(t testing.TB) ([][]int32, [][]float32) {
	toks := readJSONL[tokRow](t, "token_ids.jsonl")
	embs := readJSONL[embRow](t, "expected.jsonl")
	if len(toks) != 60 || len(embs) != 60 {
		t.Fatalf("fixture has %d token rows and %d embeddings, want 60", len(toks), len(embs))
	}
	seqs := make([][]int32, len(toks))
	want := make([][]float32, len(toks))
	for i := range toks {
		if toks[i].I != i || embs[i].I != i || embs[i].NTokens != len(toks[i].IDs) {
			t.Fatalf("fixture row %d out of order or inconsistent", i)
		}
		seqs[i] = toks[i].IDs
		want[i] = embs[i].Embedding
	}
	return seqs, want
}

func maxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var d float64
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i])-float64(b[i])))
	}
	return d
}

func TestConfig(t *testing.T) {
	cfg, err := ReadConfig(filepath.Join(fixture, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{ModelType: "bert", VocabSize: 30522, HiddenSize: 32, NumHiddenLayers: 2, NumAttentionHeads: 4,
		IntermediateSize: 64, MaxPositionEmbeddings: 512, TypeVocabSize: 2, LayerNormEps: 1e-12, HiddenAct: "gelu",
		PositionEmbeddingType: "absolute"}
	if cfg != want {
		t.Errorf("config\n got  %+v\n want %+v", cfg, want)
	}
	sc, err := ReadSentenceConfig(fixture, cfg.MaxPositionEmbeddings)
	if err != nil {
		t.Fatal(err)
	}
	if sc != (SentenceConfig{MaxSeqLength: 256, Pooling: "mean", Normalize: true}) {
		t.Errorf("sentence config %+v", sc)
	}
	bad := []struct{ json, want string }{
		{`{"vocab_size":10,"hidden_size":30,"num_hidden_layers":1,"num_attention_heads":4,"intermediate_size":8,"max_position_embeddings":8}`, "not a multiple"},
		{`{"vocab_size":10,"hidden_size":32,"num_hidden_layers":1,"num_attention_heads":4,"intermediate_size":8,"max_position_embeddings":8,"hidden_act":"swish"}`, "hidden_act"},
		{`{"vocab_size":10,"hidden_size":32,"num_hidden_layers":0,"num_attention_heads":4,"intermediate_size":8,"max_position_embeddings":8}`, "num_hidden_layers"},
		{`{"vocab_size":`, "config.json"},
	}
	for _, b := range bad {
		p := filepath.Join(t.TempDir(), "config.json")
		if err := os.WriteFile(p, []byte(b.json), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadConfig(p); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("ReadConfig(%s): error %v, want one containing %q", b.json, err, b.want)
		}
	}
}

// TestLayerNormEpsIsRead: eps 1e-5 instead of 1e-12 moves the embeddings by
// only ~3e-6 (under the tolerance), so check directly that a different eps in
// config.json reaches the forward pass.
func TestLayerNormEpsIsRead(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(fixture, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), `"layer_norm_eps": 1e-12`, `"layer_norm_eps": 0.5`, 1))
	if err := os.WriteFile(filepath.Join(dir, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := ReadConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LayerNormEps != 0.5 {
		t.Fatalf("layer_norm_eps read as %g, want 0.5", cfg.LayerNormEps)
	}
	m, err := LoadSafetensors(filepath.Join(fixture, "model.safetensors"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ref := loadFixture(t)
	seqs, _ := fixtureInputs(t)
	o := EmbedOptions{Threads: 1, Normalize: true}
	a, err := m.Embed(context.Background(), seqs[1:2], o)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ref.Embed(context.Background(), seqs[1:2], o)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(a[0], r[0]); d < 1e-3 {
		t.Errorf("eps 0.5 changed the embedding by only %g: eps is not used", d)
	}
}

// TestEmbeddings compares with ONNX Runtime's sentence embeddings, one input
// at a time and in batches of mixed lengths split into several chunks.
func TestEmbeddings(t *testing.T) {
	m := loadFixture(t)
	seqs, want := fixtureInputs(t)
	ctx := context.Background()
	t.Logf("kernels: %v", f32.Implementation())
	if os.Getenv("KURA_F32_NOASM") == "1" && f32.Implementation() != f32.Portable {
		t.Fatalf("KURA_F32_NOASM=1 but the kernels are %v", f32.Implementation())
	}
	check := func(name string, got [][]float32, idx []int) {
		t.Helper()
		var worst float64
		for j, i := range idx {
			d := maxAbsDiff(got[j], want[i])
			if d > tolerance {
				t.Errorf("%s: input %d: max abs diff %g > %g", name, i, d, tolerance)
			}
			worst = math.Max(worst, d)
		}
		t.Logf("%s: max abs diff %.3g over %d inputs", name, worst, len(idx))
	}
	// One at a time.
	single := make([][]float32, len(seqs))
	all := make([]int, len(seqs))
	for i := range seqs {
		all[i] = i
		e, err := m.Embed(ctx, seqs[i:i+1], EmbedOptions{Threads: 1, Normalize: true})
		if err != nil {
			t.Fatal(err)
		}
		single[i] = e[0]
	}
	check("unbatched", single, all)
	// All 60 at once, and batches of 16 in shuffled order (mixed lengths),
	// with small chunks so that each batch runs as several packed chunks.
	for _, o := range []EmbedOptions{
		{Threads: 2, Normalize: true},
		{Threads: 3, Normalize: true, ChunkTokens: 200},
	} {
		got, err := m.Embed(ctx, seqs, o)
		if err != nil {
			t.Fatal(err)
		}
		check("batched", got, all)
		for i := range got {
			if !slices.Equal(got[i], single[i]) {
				// Not required by the tolerance, but the packed layout should make
				// each sequence's result independent of its batch.
				t.Logf("input %d: batched differs from unbatched by %g", i, maxAbsDiff(got[i], single[i]))
			}
		}
	}
	perm := make([]int, len(seqs))
	for i := range perm {
		perm[i] = (i * 37) % len(seqs)
	}
	for b := 0; b < len(perm); b += 16 {
		idx := perm[b:min(b+16, len(perm))]
		batch := make([][]int32, len(idx))
		for j, i := range idx {
			batch[j] = seqs[i]
		}
		got, err := m.Embed(ctx, batch, EmbedOptions{Threads: 2, Normalize: true, ChunkTokens: 300})
		if err != nil {
			t.Fatal(err)
		}
		check("batch of 16", got, idx)
	}
}

func TestLastHiddenState(t *testing.T) {
	m := loadFixture(t)
	rows := readJSONL[hiddenRow](t, "expected_last_hidden_state.jsonl")
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	seqs := make([][]int32, len(rows))
	for i, r := range rows {
		seqs[i] = r.IDs
	}
	got, err := m.HiddenStates(context.Background(), seqs, 2)
	if err != nil {
		t.Fatal(err)
	}
	h := m.Dims()
	for i, r := range rows {
		var worst float64
		for p, want := range r.Hidden {
			worst = math.Max(worst, maxAbsDiff(got[i][p*h:(p+1)*h], want))
		}
		if len(got[i]) != len(r.Hidden)*h || worst > tolerance {
			t.Errorf("input %d: %d values, max abs diff %g (tolerance %g)", r.I, len(got[i]), worst, tolerance)
		}
		t.Logf("input %d: last_hidden_state max abs diff %.3g", r.I, worst)
	}
}

// TestONNXWeights: the weights read from model.onnx (MatMul weights found
// through their Add consumer and transposed) equal those of model.safetensors.
func TestONNXWeights(t *testing.T) {
	st := loadFixture(t)
	ox, err := LoadONNX(filepath.Join(fixture, "model.onnx"), st.Config())
	if err != nil {
		t.Fatal(err)
	}
	eq := func(name string, a, b []float32) {
		if !slices.Equal(a, b) {
			t.Errorf("%s differs between model.onnx and model.safetensors", name)
		}
	}
	eq("word embeddings", st.wordEmb, ox.wordEmb)
	eq("position embeddings", st.posEmb, ox.posEmb)
	eq("token type embeddings", st.typeEmb, ox.typeEmb)
	eq("embedding LayerNorm", append(st.embLNG, st.embLNB...), append(ox.embLNG, ox.embLNB...))
	for l := range st.layers {
		a, b := st.layers[l], ox.layers[l]
		for _, p := range [][3]any{
			{"qkv weight", a.qkvW, b.qkvW}, {"qkv bias", a.qkvB, b.qkvB}, {"attention output", a.attnW, b.attnW},
			{"attention output bias", a.attnB, b.attnB}, {"LayerNorm 1", a.ln1G, b.ln1G}, {"LayerNorm 1 bias", a.ln1B, b.ln1B},
			{"intermediate", a.interW, b.interW}, {"intermediate bias", a.interB, b.interB}, {"output", a.outW, b.outW},
			{"output bias", a.outB, b.outB}, {"LayerNorm 2", a.ln2G, b.ln2G}, {"LayerNorm 2 bias", a.ln2B, b.ln2B},
		} {
			eq("layer "+string(rune('0'+l))+" "+p[0].(string), p[1].([]float32), p[2].([]float32))
		}
	}
	// And the ONNX-loaded model reproduces the reference embeddings.
	seqs, want := fixtureInputs(t)
	got, err := ox.Embed(context.Background(), seqs, EmbedOptions{Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if d := maxAbsDiff(got[i], want[i]); d > tolerance {
			t.Errorf("ONNX-loaded model, input %d: max abs diff %g", i, d)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	cfg, err := ReadConfig(filepath.Join(fixture, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	good := loadFixture(t)
	src := func(skip, reshape string) tensorSource {
		return func(name string) ([]float32, []int, bool, error) {
			switch strings.TrimPrefix(name, "bert.") {
			case skip:
				return nil, nil, false, nil
			case reshape:
				return make([]float32, 6), []int{2, 3}, true, nil
			case "embeddings.word_embeddings.weight":
				return good.wordEmb, []int{30522, 32}, true, nil
			}
			shape := shapeFor(cfg, name)
			n := 1
			for _, d := range shape {
				n *= d
			}
			return make([]float32, n), shape, true, nil
		}
	}
	_, err = build(cfg, src("encoder.layer.1.output.dense.bias", ""), "test")
	if err == nil || !strings.Contains(err.Error(), "tensor encoder.layer.1.output.dense.bias is missing") {
		t.Errorf("missing tensor: error %v", err)
	}
	_, err = build(cfg, src("", "encoder.layer.0.intermediate.dense.weight"), "test")
	if err == nil || !strings.Contains(err.Error(), "has shape [2 3], want [64 32]") {
		t.Errorf("mis-shaped tensor: error %v", err)
	}
	if _, err := build(cfg, src("", ""), "test"); err != nil {
		t.Errorf("complete source: %v", err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of an empty folder: want an error")
	}
	_, err = good.Embed(context.Background(), [][]int32{{101, 30522, 102}}, EmbedOptions{})
	if err == nil || !strings.Contains(err.Error(), "position 1: token id 30522") {
		t.Errorf("bad token id: error %v", err)
	}
	_, err = good.Embed(context.Background(), [][]int32{make([]int32, 513)}, EmbedOptions{})
	if err == nil || !strings.Contains(err.Error(), "513 tokens") {
		t.Errorf("too long: error %v", err)
	}
}

// shapeFor returns the shape config.json implies for a tensor name.
func shapeFor(cfg Config, name string) []int {
	h, in := cfg.HiddenSize, cfg.IntermediateSize
	switch {
	case strings.HasSuffix(name, "position_embeddings.weight"):
		return []int{cfg.MaxPositionEmbeddings, h}
	case strings.HasSuffix(name, "token_type_embeddings.weight"):
		return []int{cfg.TypeVocabSize, h}
	case strings.HasSuffix(name, "intermediate.dense.weight"):
		return []int{in, h}
	case strings.HasSuffix(name, "intermediate.dense.bias"):
		return []int{in}
	case strings.HasSuffix(name, "output.dense.weight") && !strings.Contains(name, "attention"):
		return []int{h, in}
	case strings.HasSuffix(name, ".weight") && !strings.Contains(name, "LayerNorm"):
		return []int{h, h}
	}
	return []int{h}
}

// TestPortableKernels reruns the fixture tests in a child process with
// KURA_F32_NOASM=1, which makes internal/f32 use its portable Go kernels, so
// that both the assembly and the portable paths are checked in one run. The
// child checks that it runs the portable kernels (TestEmbeddings).
func TestPortableKernels(t *testing.T) {
	if os.Getenv("KURA_F32_NOASM") != "" {
		t.Skip("already running with KURA_F32_NOASM set")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^(TestEmbeddings|TestLastHiddenState|TestONNXWeights|TestDeterministic)$", "-test.v")
	cmd.Env = append(os.Environ(), "KURA_F32_NOASM=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fixture tests with portable kernels failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestEmbeddings") {
		t.Fatalf("child process did not run TestEmbeddings:\n%s", out)
	}
	t.Logf("portable kernels:\n%s", out)
}

// TestDeterministic: a sequence's embedding does not depend on the number of
// goroutines or on the other sequences of its batch, bit for bit.
func TestDeterministic(t *testing.T) {
	m := loadFixture(t)
	seqs, _ := fixtureInputs(t)
	ctx := context.Background()
	ref, err := m.Embed(ctx, seqs, EmbedOptions{Threads: 1, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []EmbedOptions{{Threads: 2, Normalize: true}, {Threads: 5, Normalize: true, ChunkTokens: 100}} {
		got, err := m.Embed(ctx, seqs, o)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !slices.Equal(got[i], ref[i]) {
				t.Errorf("threads %d: input %d differs from the 1-thread result by %g", o.Threads, i, maxAbsDiff(got[i], ref[i]))
			}
		}
	}
	for i := range seqs {
		one, err := m.Embed(ctx, seqs[i:i+1], EmbedOptions{Threads: 1, Normalize: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(one[0], ref[i]) {
			t.Errorf("input %d alone differs from input %d in the batch by %g", i, i, maxAbsDiff(one[0], ref[i]))
		}
	}
}

// TestEmptySequence: an empty sequence pools to a zero vector and does not
// disturb its neighbours.
func TestEmptySequence(t *testing.T) {
	m := loadFixture(t)
	seqs, want := fixtureInputs(t)
	got, err := m.Embed(context.Background(), [][]int32{{}, seqs[3], {}}, EmbedOptions{Threads: 2, Normalize: true})
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range got[0] {
		if v != 0 || got[2][j] != 0 {
			t.Fatalf("empty sequence gave %v", got[0])
		}
	}
	if d := maxAbsDiff(got[1], want[3]); d > tolerance {
		t.Errorf("input 3 beside empty sequences: max abs diff %g", d)
	}
	if out, err := m.Embed(context.Background(), nil, EmbedOptions{}); err != nil || len(out) != 0 {
		t.Errorf("no sequences: %v, %v", out, err)
	}
}
