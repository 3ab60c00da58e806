package embed

import (
	"iter"
	"runtime"
	"sync"
	"sync/atomic"

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
	maxInputs := batchSize
	if maxInputs <= 0 || (lim.MaxInputs > 0 && maxInputs > lim.MaxInputs) {
		maxInputs = lim.MaxInputs
	}
	counted := make([]string, len(texts))
	ntok := make([]int, len(texts))
	cut := make([]bool, len(texts))
	countParallel(texts, func(i int) {
		t := texts[i]
		counted[i] = t
		n := tokens.Count(t)
		if lim.MaxInputTokens > 0 && n > lim.MaxInputTokens {
			t, n, _ = tokens.Truncate(t, lim.MaxInputTokens)
			counted[i] = t
			cut[i] = true
		}
		ntok[i] = n
	})

	var out []Batch
	cur := Batch{Offset: 0}
	for i := range texts {
		full := maxInputs > 0 && len(cur.Texts) >= maxInputs
		over := lim.MaxRequestTokens > 0 && len(cur.Texts) > 0 && cur.Tokens+ntok[i] > lim.MaxRequestTokens
		if full || over {
			out = append(out, cur)
			cur = Batch{Offset: i}
		}
		cur.Texts = append(cur.Texts, counted[i])
		cur.Tokens += ntok[i]
		if cut[i] {
			cur.Truncated++
		}
	}
	return append(out, cur)
}

// Batches yields the same batches as Split, but lazily: each batch's tokens
// are counted just before it is yielded, so that a client can send its first
// requests while the rest of a large input is still being counted.
func Batches(texts []string, batchSize int, lim Limits) iter.Seq[Batch] {
	maxInputs := batchSize
	if maxInputs <= 0 || (lim.MaxInputs > 0 && maxInputs > lim.MaxInputs) {
		maxInputs = lim.MaxInputs
	}
	return func(yield func(Batch) bool) {
		cur := Batch{}
		for i, t := range texts {
			n := tokens.Count(t)
			cut := false
			if lim.MaxInputTokens > 0 && n > lim.MaxInputTokens {
				t, n, _ = tokens.Truncate(t, lim.MaxInputTokens)
				cut = true
			}
			full := maxInputs > 0 && len(cur.Texts) >= maxInputs
			over := lim.MaxRequestTokens > 0 && len(cur.Texts) > 0 && cur.Tokens+n > lim.MaxRequestTokens
			if full || over {
				if !yield(cur) {
					return
				}
				cur = Batch{Offset: i}
			}
			cur.Texts = append(cur.Texts, t)
			cur.Tokens += n
			if cut {
				cur.Truncated++
			}
		}
		if len(cur.Texts) > 0 {
			yield(cur)
		}
	}
}

// countParallel calls f(i) for every index of texts, spreading the work over
// the available cores.
func countParallel(texts []string, f func(i int)) {
	workers := runtime.GOMAXPROCS(0)
	if len(texts) < 256 || workers == 1 {
		for i := range texts {
			f(i)
		}
		return
	}
	const chunk = 256
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(chunk)) - chunk
				if lo >= len(texts) {
					return
				}
				hi := min(lo+chunk, len(texts))
				for i := lo; i < hi; i++ {
					f(i)
				}
			}
		}()
	}
	wg.Wait()
}
