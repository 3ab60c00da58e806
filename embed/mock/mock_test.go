package mock

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/embed/tokens"
)

var _ embed.Embedder = (*Embedder)(nil)
var _ embed.UsageReporter = (*Embedder)(nil)

func TestVectorDeterministicUnit(t *testing.T) {
	for _, dims := range []int{1, 3, 384, 1536} {
		a := Vector("hello", dims, 0)
		b := Vector("hello", dims, 0)
		if len(a) != dims {
			t.Fatalf("len %d, want %d", len(a), dims)
		}
		var n float64
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("dims %d: vectors of the same text differ at %d", dims, i)
			}
			n += float64(a[i]) * float64(a[i])
		}
		if math.Abs(n-1) > 1e-5 { // float32 rounding over up to 1536 components
			t.Errorf("dims %d: squared norm %v, want 1 ± 1e-5", dims, n)
		}
	}
	// Different texts, or seeds, give nearly orthogonal vectors in high dims.
	cos := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		return s
	}
	if c := cos(Vector("hello", 1536, 0), Vector("hello!", 1536, 0)); math.Abs(c) > 0.15 {
		t.Errorf("cosine of different texts %v, want |c| < 0.15", c)
	}
	if c := cos(Vector("hello", 1536, 0), Vector("hello", 1536, 1)); math.Abs(c) > 0.15 {
		t.Errorf("cosine across seeds %v, want |c| < 0.15", c)
	}
}

func TestEmbedAccounting(t *testing.T) {
	long := strings.Repeat("lorem ipsum ", 5000) // > 8192 tokens: truncated as the API would
	texts := []string{"a b c", "hello world", long}
	for i := 0; i < 120; i++ {
		texts = append(texts, "text number "+strings.Repeat("x", i))
	}
	wantTokens := 0
	for _, b := range embed.Split(texts, 50, embed.OpenAILimits) {
		wantTokens += b.Tokens
	}
	e := New(Options{Dims: 8, BatchSize: 50})
	vs, err := e.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != len(texts) {
		t.Fatalf("%d vectors for %d texts", len(vs), len(texts))
	}
	for i, v := range vs {
		if len(v) != 8 {
			t.Fatalf("vector %d has %d dims", i, len(v))
		}
	}
	if vs[1][0] != Vector("hello world", 8, 0)[0] {
		t.Error("vector not the hash vector of its text")
	}
	u := e.Usage()
	want := embed.Usage{Requests: 3, Inputs: int64(len(texts)), Tokens: int64(wantTokens), Truncated: 1}
	if u != want {
		t.Errorf("usage %+v, want %+v", u, want)
	}
	if tokens.Count("hello world") != 2 || u.Tokens < 8192 {
		t.Errorf("tokens %d not counted with cl100k_base", u.Tokens)
	}
	if e.Name() != "mock:text-embedding-3-small" || e.Dims() != 8 {
		t.Errorf("Name %q Dims %d", e.Name(), e.Dims())
	}
}

func TestEmbedCancel(t *testing.T) {
	e := New(Options{Dims: 4, BatchSize: 1, Concurrency: 1, Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.Embed(ctx, []string{"a", "b", "c"})
		done <- err
	}()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func BenchmarkVector(b *testing.B) {
	for b.Loop() {
		Vector("The user requested grammatical corrections for a paragraph", 1536, 0)
	}
}

// BenchmarkEmbed measures the mock's throughput (hashing, token counting and
// batching) on summary-sized texts, with no simulated latency.
func BenchmarkEmbed(b *testing.B) {
	texts := make([]string, 1000)
	for i := range texts {
		texts[i] = "The user requested grammatical corrections for paragraph " + strings.Repeat("x", i%50)
	}
	e := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Embed(context.Background(), texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
}
