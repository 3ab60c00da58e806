package embed

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Stream embeds texts in chunks of chunk texts and hands each chunk's
// vectors to sink, in order: sink(lo, vecs) receives the vectors of
// texts[lo:lo+len(vecs)]. Two chunks are in flight at a time, so the
// embedder's requests do not drain at every chunk boundary while sink works
// (the embedder bounds its own concurrency within a chunk), and memory holds
// at most about three chunks of vectors besides what sink keeps.
//
// The vector length is taken from the first vector returned, not from
// e.Dims() (an API model the embedder does not know reports 0 until it has
// answered); every later vector must have the same length. Stream returns
// that length. progress, if not nil, receives the number of texts finished,
// batch by batch from embedders that report progress (see WithProgress) and
// per chunk otherwise; it may be called from several goroutines at once.
// On the first error the other chunk in flight is cancelled and awaited.
func Stream(ctx context.Context, e Embedder, texts []string, chunk int, progress func(done int), sink func(lo int, vecs [][]float32) error) (dims int, err error) {
	if chunk < 1 {
		chunk = len(texts)
	}
	if progress == nil {
		progress = func(int) {}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		lo   int
		vecs [][]float32
		err  error
	}
	var pending []chan result
	next := 0
	launch := func() {
		lo, hi := next, min(next+chunk, len(texts))
		next = hi
		ch := make(chan result, 1)
		go func() {
			var reported atomic.Int64
			cctx := WithProgress(ctx, func(n int) { reported.Add(int64(n)); progress(n) })
			v, err := e.Embed(cctx, texts[lo:hi])
			if err == nil && len(v) != hi-lo {
				err = fmt.Errorf("%s returned %d vectors for %d texts", e.Name(), len(v), hi-lo)
			}
			if err == nil {
				// Embedders that do not report progress are accounted for here.
				if rest := hi - lo - int(reported.Load()); rest > 0 {
					progress(rest)
				}
			} else {
				err = fmt.Errorf("embedding texts %d-%d: %w", lo+1, hi, err)
			}
			ch <- result{lo, v, err}
		}()
		pending = append(pending, ch)
	}
	defer func() {
		cancel()
		for _, ch := range pending {
			<-ch
		}
	}()
	for next < len(texts) && len(pending) < 2 {
		launch()
	}
	for len(pending) > 0 {
		r := <-pending[0]
		pending = pending[1:]
		if r.err != nil {
			return 0, r.err
		}
		if next < len(texts) {
			launch()
		}
		for i, v := range r.vecs {
			if dims == 0 {
				if len(v) == 0 || len(v) > MaxDims {
					return 0, fmt.Errorf("%s returned a vector of %d dimensions for text %d", e.Name(), len(v), r.lo+i+1)
				}
				dims = len(v)
			}
			if len(v) != dims {
				return 0, fmt.Errorf("%s returned a %d-dimensional vector for text %d after %d-dimensional ones", e.Name(), len(v), r.lo+i+1, dims)
			}
		}
		if err := sink(r.lo, r.vecs); err != nil {
			return 0, err
		}
	}
	return dims, nil
}
