package embed

import (
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
			var lazy []Batch
			for b := range Batches(tt.texts, tt.batchSize, tt.lim) {
				lazy = append(lazy, b)
			}
			if !reflect.DeepEqual(lazy, bs) {
				t.Errorf("Batches and Split differ:\n%+v\n%+v", lazy, bs)
			}
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
