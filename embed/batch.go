package embed

import (
	"context"
	"iter"
	"runtime"
	"sync/atomic"

	"github.com/kura-go/kura/internal/parallel"

	"github.com/kura-go/kura/embed/tokens"
)

// Limits are the per-request limits of an embeddings API. A zero field
// means no limit.
type Limits struct {
	MaxInputs        int // inputs per request
	MaxRequestTokens int // tokens summed over the inputs of one request
	MaxInputTokens   int // tokens per input; longer inputs are truncated
}

// OpenAILimits are the limits of OpenAI's /v1/embeddings endpoint for the
// text-embedding-3 and ada-002 models.
var OpenAILimits = Limits{MaxInputs: 2048, MaxRequestTokens: 300_000, MaxInputTokens: 8192}

// Batch is one request's worth of inputs.
type Batch struct {
	Offset    int      // index of Texts[0] among all inputs
	Texts     []string // the inputs, truncated to Limits.MaxInputTokens
	Tokens    int      // cl100k_base tokens in Texts (after truncation)
	Truncated int      // how many of Texts were cut
}

// Split prepares texts for an API: it counts every text's cl100k_base
// tokens (in parallel), truncates texts longer than lim.MaxInputTokens by
// tokens, and groups consecutive texts into batches of at most batchSize
// inputs that also respect lim.MaxInputs and lim.MaxRequestTokens. The
// batches cover texts in order without gaps; the caller's slice is not
// modified. batchSize <= 0 means as many as the limits allow.
func Split(texts []string, batchSize int, lim Limits) []Batch {
	if len(texts) == 0 {
		return nil
	}
	prepared := make([]string, len(texts))
	ntok := make([]int, len(texts))
	cut := make([]bool, len(texts))
	countParallel(texts, func(i int) {
		prepared[i], ntok[i], cut[i] = prepare(texts[i], lim)
	})
	var out []Batch
	p := newPacker(batchSize, lim)
	for i := range texts {
		if b, full := p.add(i, prepared[i], ntok[i], cut[i]); full {
			out = append(out, b)
		}
	}
	return append(out, p.cur)
}

// Batches yields the same batches as Split, but lazily: each batch's tokens
// are counted just before it is yielded, so that a client can send its first
// requests while the rest of a large input is still being counted.
func Batches(texts []string, batchSize int, lim Limits) iter.Seq[Batch] {
	return func(yield func(Batch) bool) {
		p := newPacker(batchSize, lim)
		for i, t := range texts {
			t, n, cut := prepare(t, lim)
			if b, full := p.add(i, t, n, cut); full && !yield(b) {
				return
			}
		}
		if len(p.cur.Texts) > 0 {
			yield(p.cur)
		}
	}
}

// prepare counts a text's tokens and truncates it to the per-input limit.
func prepare(t string, lim Limits) (string, int, bool) {
	n := tokens.Count(t)
	if lim.MaxInputTokens > 0 && n > lim.MaxInputTokens {
		t, n, _ = tokens.Truncate(t, lim.MaxInputTokens)
		return t, n, true
	}
	return t, n, false
}

// packer groups consecutive prepared texts into batches.
type packer struct {
	maxInputs, maxTokens int
	cur                  Batch
}

func newPacker(batchSize int, lim Limits) *packer {
	maxInputs := batchSize
	if maxInputs <= 0 || (lim.MaxInputs > 0 && maxInputs > lim.MaxInputs) {
		maxInputs = lim.MaxInputs
	}
	return &packer{maxInputs: maxInputs, maxTokens: lim.MaxRequestTokens}
}

// add appends text i; when it does not fit, the current batch is returned
// as full and a new one started with text i.
func (p *packer) add(i int, t string, n int, cut bool) (full Batch, isFull bool) {
	if len(p.cur.Texts) > 0 &&
		(p.maxInputs > 0 && len(p.cur.Texts) >= p.maxInputs || p.maxTokens > 0 && p.cur.Tokens+n > p.maxTokens) {
		full, isFull = p.cur, true
		p.cur = Batch{Offset: i}
	}
	p.cur.Texts = append(p.cur.Texts, t)
	p.cur.Tokens += n
	if cut {
		p.cur.Truncated++
	}
	return full, isFull
}

// countParallel calls f(i) for every index of texts, spreading the work over
// the available cores.
func countParallel(texts []string, f func(i int)) {
	parallel.For(context.Background(), len(texts), 256, runtime.GOMAXPROCS(0), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			f(i)
		}
	})
}

// CountTokens returns the cl100k_base tokens an API would bill for texts
// under lim (over-long inputs counted at lim.MaxInputTokens), and how many
// texts would be truncated. It counts in parallel.
func CountTokens(texts []string, lim Limits) (tokens int64, truncated int) {
	var tok, cut atomic.Int64
	countParallel(texts, func(i int) {
		_, n, c := prepare(texts[i], lim)
		tok.Add(int64(n))
		if c {
			cut.Add(1)
		}
	})
	return tok.Load(), int(cut.Load())
}
