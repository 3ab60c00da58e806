// Package mock is an embedder that calls nothing: every text gets a
// deterministic unit vector derived from a hash of its text. It stands in for
// an API model (Kura's MOCK_MODE): it batches texts as the API client would,
// can sleep a simulated latency per request, and accounts requests and
// tokens exactly as the real model would be billed, at zero cost.
//
// The vectors carry no meaning beyond identity: equal texts get equal
// vectors, different texts get nearly orthogonal ones.
package mock

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"sync/atomic"
	"time"

	"github.com/kura-go/kura/embed"
	"github.com/kura-go/kura/internal/parallel"
)

// Options configures the mock embedder. Zero fields take the defaults.
type Options struct {
	Dims        int           // vector length; default 1536 (text-embedding-3-small)
	Model       string        // model it stands in for, for Name and token limits; default text-embedding-3-small
	Latency     time.Duration // simulated time per request (batch); default 0
	BatchSize   int           // inputs per simulated request; default 50
	Concurrency int           // simulated requests in flight; default 5
	Seed        uint64        // mixed into every vector; default 0
}

// Embedder is the mock embedder; it is safe for concurrent use, and
// Concurrency bounds the simulated requests in flight across all calls, as
// the OpenAI client's does.
type Embedder struct {
	o   Options
	sem chan struct{}

	requests, inputs, tokens, truncated atomic.Int64
}

// New returns a mock embedder.
func New(o Options) *Embedder {
	if o.Dims <= 0 {
		o.Dims = 1536
	}
	if o.Model == "" {
		o.Model = "text-embedding-3-small"
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 50
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 5
	}
	return &Embedder{o: o, sem: make(chan struct{}, o.Concurrency)}
}

// Name returns "mock:" and the model it stands in for.
func (e *Embedder) Name() string { return "mock:" + e.o.Model }

// Dims returns the vector length.
func (e *Embedder) Dims() int { return e.o.Dims }

// RequestShape returns the inputs per simulated request and the requests
// in flight (embed.Pooled), as the OpenAI client's.
func (e *Embedder) RequestShape() (batch, concurrency int) {
	return e.o.BatchSize, e.o.Concurrency
}

// Usage returns what the texts embedded so far would have taken from the
// real model: requests, inputs and tokens. CostUSD is always 0; price the
// tokens with embed.Cost and a price table (embed.Prices) for what the API would have charged.
func (e *Embedder) Usage() embed.Usage {
	return embed.Usage{
		Requests:  e.requests.Load(),
		Inputs:    e.inputs.Load(),
		Tokens:    e.tokens.Load(),
		Truncated: e.truncated.Load(),
	}
}

// Embed returns one unit vector per text. Texts are split into requests as
// the OpenAI client would split them; with a Latency, each request sleeps
// that long, Concurrency at a time.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	batches := embed.Split(texts, e.o.BatchSize, embed.OpenAILimits)
	out := make([][]float32, len(texts))
	// The embedder's semaphore bounds the requests in flight across all
	// calls; Each bounds this call's goroutines the same.
	err := parallel.Each(ctx, len(batches), cap(e.sem), func(ctx context.Context, i int) error {
		b := batches[i]
		select {
		case e.sem <- struct{}{}:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		defer func() { <-e.sem }()
		if e.o.Latency > 0 {
			t := time.NewTimer(e.o.Latency)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return context.Cause(ctx)
			}
		}
		// Vectors are made from the text as sent, i.e. after truncation,
		// as the API would see it.
		for j, s := range b.Texts {
			out[b.Offset+j] = Vector(s, e.o.Dims, e.o.Seed)
		}
		e.requests.Add(1)
		e.inputs.Add(int64(len(b.Texts)))
		e.tokens.Add(int64(b.Tokens))
		e.truncated.Add(int64(b.Truncated))
		embed.ReportProgress(ctx, len(b.Texts))
		return nil
	})
	if err != nil {
		// out holds the texts of the requests answered (see embed.Embedder).
		return out, fmt.Errorf("mock embedder: %w", err)
	}
	return out, nil
}

// Vector returns the mock embedding of text: dims components drawn
// uniformly from [-1, 1) by a SplitMix64 stream seeded with the FNV-1a hash
// of seed and text, scaled to unit length. The same arguments always give
// the same vector; vectors of different texts are independent, so their
// cosine similarity is near 0 (standard deviation about 1/sqrt(dims)).
func Vector(text string, dims int, seed uint64) []float32 {
	h := fnv.New64a()
	var sb [8]byte
	binary.LittleEndian.PutUint64(sb[:], seed)
	h.Write(sb[:])
	h.Write([]byte(text))
	state := h.Sum64()
	next := func() uint64 { // SplitMix64
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		return z ^ (z >> 31)
	}
	v := make([]float32, dims)
	var norm float64
	const scale = 1.0 / (1 << 31)
	for i := 0; i < dims; i += 2 {
		x := next()
		a := float32(float64(int32(uint32(x))) * scale)
		v[i] = a
		norm += float64(a) * float64(a)
		if i+1 < dims {
			b := float32(float64(int32(uint32(x>>32))) * scale)
			v[i+1] = b
			norm += float64(b) * float64(b)
		}
	}
	if norm == 0 {
		v[0], norm = 1, 1
	}
	inv := 1 / math.Sqrt(norm)
	for i := range v {
		v[i] = float32(float64(v[i]) * inv)
	}
	return v
}
