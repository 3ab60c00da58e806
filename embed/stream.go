package embed

import (
	"context"
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/kura-go/kura/internal/human"
)

// Pooled is implemented by embedders that send texts in requests of at most
// batch texts, with at most concurrency requests in flight across all their
// calls: the API client and the mock that stands in for it. Stream then
// hands them one request's worth of texts per call and keeps a pool of such
// calls going, so that a request goes out as soon as any other comes back.
type Pooled interface {
	RequestShape() (batch, concurrency int)
}

// poolDepth is how many requests' worth of texts Stream keeps started per
// request allowed in flight: those on the wire, those waiting for a slot
// with their body ready, and those answered but waiting for an earlier one
// to be written, so that one slow answer (a retry) does not stall the rest
// at once.
const poolDepth = 4

// Stream embeds texts and hands their vectors to sink in input order:
// sink(lo, vecs) receives the vectors of texts[lo:lo+len(vecs)], and the
// calls cover texts from the first to the last without gaps. Embedding goes
// on while sink works, and memory holds the vectors of about chunk texts
// (besides what sink keeps), or of up to three chunks for local embedders.
//
// A Pooled embedder (an API, the mock) is given one request's texts per
// call, and Stream keeps up to poolDepth × concurrency of those calls going
// (no more than chunk texts, but two at least): the requests in flight never drain at a
// boundary, answers that come back out of order wait for the earlier ones,
// and each answer's vectors are written as soon as those before it are.
// Other embedders (local models, which use every core on one call) get
// chunk texts per call, two calls at a time, so that the next is computed
// while sink handles the last. chunk < 1 means all texts in one piece.
//
// The vector length is taken from the first vector returned, not from
// e.Dims() (an API model the embedder does not know reports 0 until it has
// answered); every later vector must have the same length. Stream returns
// that length. progress, if not nil, receives the number of texts finished,
// batch by batch from embedders that report progress (see WithProgress) and
// per call otherwise; it may be called from several goroutines at once.
// On the first error the calls still running are cancelled and awaited, and
// nothing after the failed piece reaches sink, but the vectors the failed
// piece's call finished before its first unfinished text (see Embedder.Embed)
// do: after an interrupt (ctx cancelled) sink has received the longest run
// of texts from the first that were embedded in time, whatever the size of
// the pieces.
func Stream(ctx context.Context, e Embedder, texts []string, chunk int, progress func(done int), sink func(lo int, vecs [][]float32) error) (dims int, err error) {
	return StreamFeed(ctx, e, FeedOf(texts), chunk, progress, sink)
}

// Feed is texts that arrive while the first of them are embedded: a reader
// adds them as it reads them (Add) and closes the feed at the end of its
// input, with the error that ended it if any (Close). It is safe for
// concurrent use.
type Feed struct {
	mu     sync.Mutex
	texts  []string
	closed bool
	err    error
	more   chan struct{} // closed, and replaced, when texts come or the feed closes
}

// NewFeed returns an open feed with no texts yet.
func NewFeed() *Feed { return &Feed{more: make(chan struct{})} }

// FeedOf returns a closed feed of texts.
func FeedOf(texts []string) *Feed {
	f := &Feed{texts: texts, closed: true, more: make(chan struct{})}
	close(f.more)
	return f
}

// Add appends texts to the feed. Adding to a closed feed panics.
func (f *Feed) Add(texts ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		panic("embed: Add to a closed Feed")
	}
	f.texts = append(f.texts, texts...)
	close(f.more)
	f.more = make(chan struct{})
}

// Close ends the feed: err nil when the input ended normally, else what
// stopped reading it. Later calls do nothing.
func (f *Feed) Close(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.closed {
		f.closed, f.err = true, err
		close(f.more)
	}
}

// Texts returns the texts added so far, whether the feed is closed, and the
// error it was closed with. The slice must not be modified.
func (f *Feed) Texts() (texts []string, closed bool, err error) {
	texts, closed, err, _ = f.state()
	return texts, closed, err
}

// state is Texts and a channel closed when that changes.
func (f *Feed) state() ([]string, bool, error, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.texts[:len(f.texts):len(f.texts)], f.closed, f.err, f.more
}

// StreamFeed is Stream on texts that may still be arriving. A Pooled
// embedder starts on the texts as they come, one request's worth at a time,
// but until the feed is closed without error it starts no more than one
// request per request allowed in flight: an input found bad part way (the
// feed closed with an error) costs at most that one round of requests, and
// the error is returned as it is (after the vectors of any piece already
// answered and before it were given to sink). Other embedders wait for the
// whole input.
func StreamFeed(ctx context.Context, e Embedder, in *Feed, chunk int, progress func(done int), sink func(lo int, vecs [][]float32) error) (dims int, err error) {
	texts, closed, ferr, more := in.state()
	wave := 0
	if p, ok := e.(Pooled); ok {
		if batch, conc := p.RequestShape(); batch > 0 && conc > 0 {
			wave = conc
		}
	}
	for wave == 0 && !closed { // a local embedder: the whole input first
		select {
		case <-more:
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		}
		texts, closed, ferr, more = in.state()
	}
	if ferr != nil {
		return 0, ferr
	}
	n := len(texts)
	if !closed {
		n = -1
	}
	piece, depth := streamShape(e, n, chunk)
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
	// pending holds the pieces started and not yet handed to sink, in input
	// order; each channel receives its piece's result once.
	var pending []chan result
	next, started := 0, 0
	launch := func() {
		lo, hi := next, min(next+piece, len(texts))
		next = hi
		started++
		batch := texts[lo:hi]
		ch := make(chan result, 1)
		go func() {
			var reported atomic.Int64
			cctx := WithProgress(ctx, func(n int) { reported.Add(int64(n)); progress(n) })
			v, err := e.Embed(cctx, batch)
			if err == nil && len(v) != hi-lo {
				err = fmt.Errorf("%s returned %d vectors for %d texts", e.Name(), len(v), hi-lo)
			}
			if err == nil {
				// Embedders that do not report progress are accounted for here.
				if rest := hi - lo - int(reported.Load()); rest > 0 {
					progress(rest)
				}
			} else {
				// What an interrupted call finished: its leading vectors.
				v = v[:donePrefix(v, hi-lo)]
				err = fmt.Errorf("embedding texts %s-%s: %w", human.Thousands(lo+1), human.Thousands(hi), err)
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
	// fill starts pieces while the pool has room: whole pieces of the texts
	// come so far, the last one short once the feed is closed, and before
	// that no more than a wave of them.
	fill := func() {
		for len(pending) < depth && next < len(texts) &&
			(closed || started < wave && next+piece <= len(texts)) {
			launch()
		}
	}
	// deliver checks the vectors of texts[lo:lo+len(vecs)] (one length for
	// all) and hands them to sink.
	deliver := func(lo int, vecs [][]float32) error {
		for i, v := range vecs {
			if dims == 0 {
				if len(v) == 0 || len(v) > MaxDims {
					return fmt.Errorf("%s returned a vector of %d dimensions for text %d", e.Name(), len(v), lo+i+1)
				}
				dims = len(v)
			}
			if len(v) != dims {
				return fmt.Errorf("%s returned a %d-dimensional vector for text %d after %d-dimensional ones", e.Name(), len(v), lo+i+1, dims)
			}
		}
		return sink(lo, vecs)
	}
	fill()
	for len(pending) > 0 || !closed {
		var head chan result
		if len(pending) > 0 {
			head = pending[0]
		}
		var arrived, done <-chan struct{}
		if !closed {
			arrived = more
		}
		if head == nil {
			done = ctx.Done() // else the head piece's error tells
		}
		var r result
		select {
		case r = <-head:
		case <-done:
			return 0, context.Cause(ctx)
		case <-arrived:
			texts, closed, ferr, more = in.state()
			if ferr != nil {
				return 0, ferr
			}
			fill()
			continue
		}
		pending[0] = nil
		pending = pending[1:]
		if r.err != nil {
			// The vectors finished before the failure follow those
			// written: keep them too (deliver's own error is secondary).
			if len(r.vecs) > 0 {
				deliver(r.lo, r.vecs)
			}
			return 0, r.err
		}
		// The head piece is done: the next one starts before its vectors
		// are checked and written, so the pool stays full meanwhile.
		fill()
		if err := deliver(r.lo, r.vecs); err != nil {
			return 0, err
		}
	}
	return dims, nil
}

// donePrefix returns how many of vecs, an interrupted Embed call's answer
// for n texts, are finished before the first unfinished (nil) one: 0 when
// the answer is not one entry per text.
func donePrefix(vecs [][]float32, n int) int {
	if len(vecs) != n {
		return 0
	}
	for i, v := range vecs {
		if v == nil {
			return i
		}
	}
	return n
}

// streamShape returns the texts per Embed call and the most calls started
// and not yet written, for n texts (-1: not known yet) and a memory bound of
// chunk texts (see Stream).
func streamShape(e Embedder, n, chunk int) (piece, depth int) {
	if chunk < 1 {
		chunk = n
		if n < 0 {
			chunk = math.MaxInt
		}
	}
	chunk = max(chunk, 1)
	if p, ok := e.(Pooled); ok {
		if batch, conc := p.RequestShape(); batch > 0 && conc > 0 {
			piece = min(batch, chunk)
			return piece, max(2, min(poolDepth*conc, chunk/piece))
		}
	}
	return chunk, 2
}
