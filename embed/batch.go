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
	Offset int      // index of Texts[0] among all inputs
	Texts  []string // the inputs, truncated to Limits.MaxInputTokens
	// Tokens is the cl100k_base tokens in Texts (after truncation), or -1
	// when Batches had no need to count them (see TokenCount).
	Tokens    int
	Truncated int // how many of Texts were cut
}

// TokenCount returns the cl100k_base tokens in b.Texts: b.Tokens, or when
// Batches left them uncounted, counted now.
func (b Batch) TokenCount() int {
	if b.Tokens >= 0 {
		return b.Tokens
	}
	n := 0
	for _, t := range b.Texts {
		n += tokens.Count(t)
	}
	return n
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
	return append(out, p.finish())
}

// Batches yields the same batches as Split (the same texts, cut and
// truncated alike), but lazily, and counts tokens only where the limits
// need them: a cl100k_base token is at least one byte, so a text of at most
// Limits.MaxInputTokens bytes cannot be over that limit, and a request
// whose texts add up to at most Limits.MaxRequestTokens bytes cannot be
// over that one. A batch whose texts were not all counted has Tokens -1
// (TokenCount counts them). A client can so send its first requests at
// once, without first loading the tokenizer or counting every text.
func Batches(texts []string, batchSize int, lim Limits) iter.Seq[Batch] {
	return func(yield func(Batch) bool) {
		p := newPacker(batchSize, lim)
		for i, t := range texts {
			n, cut := -1, false
			if lim.MaxInputTokens > 0 && len(t) > lim.MaxInputTokens {
				t, n, cut = prepare(t, lim)
			}
			if b, full := p.add(i, t, n, cut); full && !yield(b) {
				return
			}
		}
		if len(p.cur.Texts) > 0 {
			yield(p.finish())
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
	counts               []int // tokens of cur.Texts; -1 where not counted
	// bound is at least cur's tokens: the counted ones plus the bytes of
	// the others.
	bound int
}

func newPacker(batchSize int, lim Limits) *packer {
	maxInputs := batchSize
	if maxInputs <= 0 || (lim.MaxInputs > 0 && maxInputs > lim.MaxInputs) {
		maxInputs = lim.MaxInputs
	}
	return &packer{maxInputs: maxInputs, maxTokens: lim.MaxRequestTokens}
}

// add appends text i, of n tokens (-1: not counted yet); when it does not
// fit, the current batch is returned as full and a new one started with
// text i. Texts are counted only when their bytes do not show that they
// fit under the request's token limit, so the cut falls where exact counts
// put it.
func (p *packer) add(i int, t string, n int, cut bool) (full Batch, isFull bool) {
	if len(p.cur.Texts) > 0 {
		switch {
		case p.maxInputs > 0 && len(p.cur.Texts) >= p.maxInputs:
			isFull = true
		case p.maxTokens > 0 && p.bound+upper(t, n) > p.maxTokens:
			p.countAll()
			if n < 0 {
				n = tokens.Count(t)
			}
			isFull = p.bound+n > p.maxTokens
		}
		if isFull {
			full = p.finish()
			p.cur, p.counts, p.bound = Batch{Offset: i}, p.counts[:0], 0
		}
	}
	p.cur.Texts = append(p.cur.Texts, t)
	p.counts = append(p.counts, n)
	p.bound += upper(t, n)
	if cut {
		p.cur.Truncated++
	}
	return full, isFull
}

// upper is n, or when the text was not counted, its bytes: at least its
// tokens.
func upper(t string, n int) int {
	if n < 0 {
		return len(t)
	}
	return n
}

// countAll counts the texts of the current batch not counted yet, which
// makes bound exact.
func (p *packer) countAll() {
	for k, n := range p.counts {
		if n < 0 {
			p.counts[k] = tokens.Count(p.cur.Texts[k])
			p.bound += p.counts[k] - len(p.cur.Texts[k])
		}
	}
}

// finish returns the current batch with its token total, -1 if a text of it
// was not counted.
func (p *packer) finish() Batch {
	b := p.cur
	b.Tokens = 0
	for _, n := range p.counts {
		if n < 0 {
			b.Tokens = -1
			break
		}
		b.Tokens += n
	}
	return b
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
