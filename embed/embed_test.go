package embed

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kura-go/kura/embed/tokens"
)

func TestPrices(t *testing.T) {
	tests := []struct {
		model string
		want  float64
		ok    bool
	}{
		{"text-embedding-3-small", 0.02, true},
		{"text-embedding-3-large", 0.13, true},
		{"text-embedding-ada-002", 0.10, true},
		{"openai/text-embedding-3-small", 0.02, true},
		{"nomic-embed-text", 0, false},
	}
	prices := DefaultPrices()
	for _, tt := range tests {
		got, ok := prices.Lookup(tt.model)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Lookup(%q) = %v, %v; want %v, %v", tt.model, got, ok, tt.want, tt.ok)
		}
	}
	if c := Cost(2_000_000, 0.02); c != 0.04 {
		t.Errorf("Cost = %v, want 0.04", c)
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "prices.json")
	os.WriteFile(file, []byte(`{"my-model": 0.5, "text-embedding-3-small": 0.025}`), 0o644)
	fromFile, err := LoadPrices(file)
	if err != nil {
		t.Fatal(err)
	}
	merged := prices.Merge(fromFile)
	if p, _ := merged.Lookup("my-model"); p != 0.5 {
		t.Errorf("my-model price %v, want 0.5", p)
	}
	if p, _ := merged.Lookup("text-embedding-3-small"); p != 0.025 {
		t.Errorf("overridden price %v, want 0.025", p)
	}
	if p, _ := prices.Lookup("text-embedding-3-small"); p != 0.02 {
		t.Errorf("Merge changed the table it was called on: %v", p)
	}
	if with, err := prices.With("x", 1); err != nil || with["x"] != 1 || len(prices) != 3 {
		t.Errorf("With: %v, %v; the original has %d prices", with, err, len(prices))
	}
	if _, err := prices.With("x", -1); err == nil {
		t.Error("a negative price: no error")
	}
	for _, bad := range []float64{-1, math.NaN(), math.Inf(1), 1e308, MaxPricePerMillion * 1.01} {
		if _, err := prices.With("x", bad); err == nil {
			t.Errorf("With(x, %v): no error", bad)
		}
	}
	for _, good := range []float64{0, 0.02, MaxPricePerMillion} {
		if err := CheckPrice(good); err != nil {
			t.Errorf("CheckPrice(%v): %v", good, err)
		}
	}
	for _, bad := range []string{`[1,2]`, `{"m": -1}`, `{"m": "cheap"}`, `{"m": 1e308}`, `{"m": 1e999}`} {
		os.WriteFile(file, []byte(bad), 0o644)
		if _, err := LoadPrices(file); err == nil || !strings.Contains(err.Error(), file) {
			t.Errorf("LoadPrices(%s) error %v, want one naming the file", bad, err)
		}
	}
	if _, err := LoadPrices(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestSplit(t *testing.T) {
	word := "hello " // 1 token each ("hello", " hello", ...)
	texts := make([]string, 10)
	for i := range texts {
		texts[i] = strings.TrimSpace(strings.Repeat(word, i+1))
	}
	long := strings.Repeat("lorem ipsum dolor sit amet ", 400)
	tests := []struct {
		name      string
		texts     []string
		batchSize int
		lim       Limits
		wantSizes []int
		wantTrunc int
	}{
		{"batch size", texts, 4, Limits{}, []int{4, 4, 2}, 0},
		{"limit inputs below batch size", texts, 50, Limits{MaxInputs: 3}, []int{3, 3, 3, 1}, 0},
		{"request token limit", texts, 50, Limits{MaxRequestTokens: 10}, []int{4, 1, 1, 1, 1, 1, 1}, 0},
		{"per input truncation", []string{"a", long, "b"}, 50, Limits{MaxInputTokens: 100}, []int{3}, 1},
		{"empty input", nil, 50, OpenAILimits, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := Split(tt.texts, tt.batchSize, tt.lim)
			checkBatchesMatchSplit(t, tt.texts, tt.batchSize, tt.lim, bs)
			var sizes []int
			next, trunc := 0, 0
			for _, b := range bs {
				sizes = append(sizes, len(b.Texts))
				if b.Offset != next {
					t.Errorf("batch offset %d, want %d", b.Offset, next)
				}
				sum := 0
				for _, s := range b.Texts {
					sum += tokens.Count(s)
				}
				if sum != b.Tokens {
					t.Errorf("batch at %d: Tokens %d, counted %d", b.Offset, b.Tokens, sum)
				}
				if tt.lim.MaxRequestTokens > 0 && b.Tokens > tt.lim.MaxRequestTokens {
					t.Errorf("batch at %d has %d tokens > %d", b.Offset, b.Tokens, tt.lim.MaxRequestTokens)
				}
				next += len(b.Texts)
				trunc += b.Truncated
			}
			if next != len(tt.texts) {
				t.Errorf("batches cover %d texts, want %d", next, len(tt.texts))
			}
			if !equalInts(sizes, tt.wantSizes) {
				t.Errorf("batch sizes %v, want %v", sizes, tt.wantSizes)
			}
			if trunc != tt.wantTrunc {
				t.Errorf("truncated %d, want %d", trunc, tt.wantTrunc)
			}
		})
	}
}

// checkBatchesMatchSplit checks that Batches cuts and truncates texts as
// Split (which counts every text) did, and that every batch's TokenCount
// is Split's count.
func checkBatchesMatchSplit(t *testing.T, texts []string, batchSize int, lim Limits, want []Batch) {
	t.Helper()
	var lazy []Batch
	for b := range Batches(texts, batchSize, lim) {
		if b.Tokens < -1 {
			t.Errorf("batch at %d: Tokens %d", b.Offset, b.Tokens)
		}
		if b.TokenCount() < 0 {
			t.Errorf("batch at %d: TokenCount %d", b.Offset, b.TokenCount())
		}
		b.Tokens = b.TokenCount()
		lazy = append(lazy, b)
	}
	if !reflect.DeepEqual(lazy, want) {
		t.Errorf("Batches and Split differ:\n%+v\n%+v", lazy, want)
	}
}

// TestBatchesCountOnlyWhenNeeded checks that Batches leaves texts whose
// bytes prove them within the limits uncounted, and counts where the bytes
// do not: texts of more bytes than MaxInputTokens (truncated or not), and
// batches whose bytes pass MaxRequestTokens (cut where the tokens say).
func TestBatchesCountOnlyWhenNeeded(t *testing.T) {
	short := []string{"hello world", "a cat sat on the mat", "lorem ipsum dolor"}
	// 800 tokens of 5 bytes each: 4,000 bytes.
	wide := strings.Repeat(" word", 800)
	tests := []struct {
		name      string
		texts     []string
		batchSize int
		lim       Limits
		wantTok   []int // Tokens of each batch as Batches yields it
	}{
		{"short texts, API limits: nothing counted", short, 2, OpenAILimits, []int{-1, -1}},
		{"no token limits", short, 0, Limits{}, []int{-1}},
		{"bytes over the input limit, tokens not", []string{"x", wide}, 50, Limits{MaxInputTokens: 1000}, []int{-1}},
		{"bytes over the input limit, tokens too: truncated", []string{"x", wide}, 50, Limits{MaxInputTokens: 100}, []int{-1}},
		{"bytes over the request limit, tokens not: one batch", []string{wide, wide}, 50, Limits{MaxRequestTokens: 2000}, []int{1600}},
		{"tokens over the request limit: cut", []string{wide, wide, "x"}, 50, Limits{MaxRequestTokens: 1000}, []int{800, -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for b := range Batches(tt.texts, tt.batchSize, tt.lim) {
				got = append(got, b.Tokens)
			}
			if !equalInts(got, tt.wantTok) {
				t.Errorf("Tokens %v, want %v", got, tt.wantTok)
			}
			checkBatchesMatchSplit(t, tt.texts, tt.batchSize, tt.lim, Split(tt.texts, tt.batchSize, tt.lim))
		})
	}
}

// TestBatchesMatchSplitOnMixedTexts compares lazy and exact batching on
// texts of many lengths and token densities under tight limits, where the
// byte bounds sometimes decide and sometimes do not.
func TestBatchesMatchSplitOnMixedTexts(t *testing.T) {
	var texts []string
	for i := 0; i < 400; i++ {
		switch i % 4 {
		case 0:
			texts = append(texts, strings.Repeat(" word", i%53+1)) // 5 bytes a token
		case 1:
			texts = append(texts, strings.Repeat("x", i%97+1)) // several bytes a token
		case 2:
			texts = append(texts, strings.Repeat("é ", i%31+1)) // multi-byte
		default:
			texts = append(texts, fmt.Sprintf("text %d: %s", i, strings.Repeat("lorem ipsum ", i%17)))
		}
	}
	for _, lim := range []Limits{
		OpenAILimits,
		{MaxRequestTokens: 300},
		{MaxRequestTokens: 300, MaxInputTokens: 40},
		{MaxInputs: 7, MaxRequestTokens: 1000, MaxInputTokens: 60},
		{MaxInputTokens: 10},
	} {
		for _, size := range []int{0, 5, 50} {
			checkBatchesMatchSplit(t, texts, size, lim, Split(texts, size, lim))
		}
	}
}

func TestSplitParallelMatchesSerial(t *testing.T) {
	texts := make([]string, 3000)
	for i := range texts {
		texts[i] = strings.Repeat("word ", i%37+1) + strings.Repeat("x", i%11)
	}
	bs := Split(texts, 50, OpenAILimits)
	i := 0
	for _, b := range bs {
		for j, s := range b.Texts {
			if s != texts[b.Offset+j] {
				t.Fatalf("text %d changed", b.Offset+j)
			}
			i++
		}
	}
	if i != len(texts) || len(bs) != 60 {
		t.Fatalf("%d texts in %d batches, want %d in 60", i, len(bs), len(texts))
	}
}

func TestCountTokens(t *testing.T) {
	texts := []string{"hello world", strings.Repeat("lorem ipsum ", 5000), "a"}
	want := int64(0)
	for _, b := range Split(texts, 0, OpenAILimits) {
		want += int64(b.Tokens)
	}
	got, cut := CountTokens(texts, OpenAILimits)
	if got != want || cut != 1 || got != int64(2+8192+1) {
		t.Errorf("CountTokens = %d, %d; want %d, 1", got, cut, want)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestPricesModelFor(t *testing.T) {
	prices := DefaultPrices()
	tests := []struct{ configured, embedder, want string }{
		{"", "openai:text-embedding-3-large", "text-embedding-3-large"},
		{"", "mock:text-embedding-ada-002", "text-embedding-ada-002"},
		{"", "openai:my-local-model", DefaultPriceModel}, // no price known
		{"", "hash", DefaultPriceModel},
		{"", "minilm:all-MiniLM-L6-v2", DefaultPriceModel},
		{"text-embedding-3-large", "hash", "text-embedding-3-large"},
	}
	for _, tt := range tests {
		if got := prices.ModelFor(tt.configured, tt.embedder); got != tt.want {
			t.Errorf("ModelFor(%q, %q) = %q, want %q", tt.configured, tt.embedder, got, tt.want)
		}
	}
}
