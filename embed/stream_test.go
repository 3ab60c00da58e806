package embed

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fakeEmbedder returns vectors [index, len] of dims components (dims 0 =
// Dims() unknown until it answers, as an API model missing from the
// known-dims table), optionally failing or returning a wrong length.
type fakeEmbedder struct {
	dims      int
	vecDims   func(text string) int
	failOn    string
	reportPer int // report progress every reportPer texts (0 = never)

	mu       sync.Mutex
	inFlight int
	maxIn    int
	calls    int
	// second, when not nil, is closed by the second call; the first call
	// waits for it, so only an overlapping caller gets past the first chunk.
	second chan struct{}
}

func (f *fakeEmbedder) Name() string { return "fake" }
func (f *fakeEmbedder) Dims() int    { return f.dims }
func (f *fakeEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	f.mu.Lock()
	f.inFlight++
	f.maxIn = max(f.maxIn, f.inFlight)
	f.calls++
	call := f.calls
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight--
		f.mu.Unlock()
	}()
	if f.second != nil {
		switch call {
		case 1:
			select {
			case <-f.second:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		case 2:
			close(f.second)
		}
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if t == f.failOn {
			return nil, errors.New("boom")
		}
		d := 3
		if f.vecDims != nil {
			d = f.vecDims(t)
		}
		v := make([]float32, d)
		if d > 0 {
			fmt.Sscanf(t, "t%f", &v[0])
		}
		out[i] = v
		if f.reportPer > 0 && (i+1)%f.reportPer == 0 {
			ReportProgress(ctx, f.reportPer)
		}
	}
	return out, nil
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("t%d", i)
	}
	return out
}

func TestStream(t *testing.T) {
	tests := []struct {
		name      string
		n, chunk  int
		e         *fakeEmbedder
		wantDims  int
		wantErr   string
		wantCalls int
	}{
		{"one chunk", 5, 10, &fakeEmbedder{dims: 3}, 3, "", 1},
		{"uneven chunks", 23, 5, &fakeEmbedder{dims: 3}, 3, "", 5},
		{"chunk 0 = all at once", 7, 0, &fakeEmbedder{dims: 3}, 3, "", 1},
		{"dims unknown before the first answer", 12, 4, &fakeEmbedder{dims: 0}, 3, "", 3},
		{"progress from the embedder", 12, 4, &fakeEmbedder{dims: 3, reportPer: 2}, 3, "", 3},
		{"embedder error names the texts", 12, 4, &fakeEmbedder{dims: 3, failOn: "t9"}, 0, "embedding texts 9-12: boom", 0},
		{"the texts with thousands separators", 2400, 1000, &fakeEmbedder{dims: 3, failOn: "t1500"}, 0, "embedding texts 1,001-2,000: boom", 0},
		{"inconsistent dims", 12, 4, &fakeEmbedder{vecDims: func(s string) int { return 3 + len(s)/3 }}, 0, "4-dimensional vector for text 11 after 3-dimensional ones", 0},
		{"empty vector", 3, 4, &fakeEmbedder{vecDims: func(string) int { return 0 }}, 0, "vector of 0 dimensions for text 1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := texts(tt.n)
			var done atomic.Int64
			var got [][]float32
			calls := 0
			dims, err := Stream(context.Background(), tt.e, in, tt.chunk, func(k int) { done.Add(int64(k)) }, func(lo int, vecs [][]float32) error {
				if lo != len(got) {
					t.Errorf("sink at %d, want %d (out of order)", lo, len(got))
				}
				got = append(got, vecs...)
				calls++
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || dims != tt.wantDims || calls != tt.wantCalls || len(got) != tt.n || done.Load() != int64(tt.n) {
				t.Fatalf("dims %d calls %d vectors %d progress %d, err %v", dims, calls, len(got), done.Load(), err)
			}
			for i, v := range got {
				if int(v[0]) != i {
					t.Fatalf("vector %d is text %v's", i, v[0])
				}
			}
		})
	}
}

// TestStreamOverlapsChunks checks that the next chunk is already being
// embedded while the sink handles the previous one, and that a sink error
// stops the stream and waits for the chunk in flight.
func TestStreamOverlapsChunks(t *testing.T) {
	e := &fakeEmbedder{dims: 3, second: make(chan struct{})}
	sinkErr := errors.New("disk full")
	var seen []int
	_, err := Stream(context.Background(), e, texts(10), 2, nil, func(lo int, vecs [][]float32) error {
		seen = append(seen, lo)
		if lo == 4 {
			return sinkErr
		}
		return nil
	})
	if !errors.Is(err, sinkErr) {
		t.Fatalf("error %v, want the sink's", err)
	}
	if e.maxIn != 2 {
		t.Errorf("at most %d chunks in flight, want 2", e.maxIn)
	}
	if fmt.Sprint(seen) != "[0 2 4]" {
		t.Errorf("sink saw chunks %v", seen)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inFlight != 0 {
		t.Errorf("%d chunks still running after Stream returned", e.inFlight)
	}
}

// gatedPool is a Pooled embedder whose calls return only when the test
// releases them, so that the test decides the order answers come back in.
// Each call's vectors are [index of the text].
type gatedPool struct {
	batch, conc int
	failOn      string

	mu       sync.Mutex
	started  []int // lo of each call, in the order the calls started
	release  map[int]chan struct{}
	released map[int]bool
	answered []int // lo of each call, in the order they were let answer
	texts    map[int][]string
	base     []string // all the texts, to find a call's offset
}

func (g *gatedPool) Name() string                           { return "gated" }
func (g *gatedPool) Dims() int                              { return 1 }
func (g *gatedPool) RequestShape() (batch, concurrency int) { return g.batch, g.conc }

func (g *gatedPool) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	var lo int
	fmt.Sscanf(texts[0], "t%d", &lo)
	ch := make(chan struct{})
	g.mu.Lock()
	g.started = append(g.started, lo)
	g.release[lo] = ch
	g.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if t == g.failOn {
			return nil, errors.New("boom")
		}
		var k float32
		fmt.Sscanf(t, "t%f", &k)
		out[i] = []float32{k}
	}
	return out, nil
}

// drive releases the calls in the worst order for Stream: whenever every
// call Stream may start has started, the one furthest from the head
// answers first. It stops when stop is closed.
func (g *gatedPool) drive(stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		g.mu.Lock()
		last := -1
		for lo := range g.release {
			if !g.released[lo] && lo > last {
				last = lo
			}
		}
		if last >= 0 {
			g.released[last] = true
			g.answered = append(g.answered, last)
			close(g.release[last])
		}
		g.mu.Unlock()
		runtime.Gosched()
	}
}

// TestStreamPoolOrder checks the pool of a Pooled embedder: one request's
// texts per call, many calls going at once (so requests do not drain at a
// boundary), answers that come back last-first handed to sink in input
// order without gaps, and never more than the pool's depth of calls started
// ahead of the vectors written (plus the piece being written).
func TestStreamPoolOrder(t *testing.T) {
	tests := []struct {
		name                   string
		n, chunk, batch, conc  int
		wantDepth, wantPieceSz int
	}{
		{"pool of 4 per request in flight", 50, 1000, 3, 2, 8, 3},
		{"chunk bounds the pool", 50, 12, 3, 2, 4, 3},
		{"chunk smaller than a batch", 10, 2, 3, 2, 2, 2},
		{"one piece", 3, 100, 5, 5, 20, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gatedPool{batch: tt.batch, conc: tt.conc, release: map[int]chan struct{}{}, released: map[int]bool{}}
			stop := make(chan struct{})
			go g.drive(stop)
			defer close(stop)
			var got []float32
			var maxAhead int
			var progressed atomic.Int64
			dims, err := Stream(context.Background(), g, texts(tt.n), tt.chunk, func(k int) { progressed.Add(int64(k)) }, func(lo int, vecs [][]float32) error {
				if lo != len(got) {
					t.Errorf("sink at %d, want %d (out of order or a gap)", lo, len(got))
				}
				if len(vecs) > tt.wantPieceSz {
					t.Errorf("%d vectors in one piece, want at most %d", len(vecs), tt.wantPieceSz)
				}
				for _, v := range vecs {
					got = append(got, v[0])
				}
				g.mu.Lock()
				// Calls started beyond the texts written, this piece included.
				ahead := 0
				for _, s := range g.started {
					if s >= lo {
						ahead++
					}
				}
				g.mu.Unlock()
				maxAhead = max(maxAhead, ahead)
				return nil
			})
			if err != nil || dims != 1 {
				t.Fatalf("dims %d, err %v", dims, err)
			}
			if len(got) != tt.n || progressed.Load() != int64(tt.n) {
				t.Fatalf("%d vectors, progress %d, want %d", len(got), progressed.Load(), tt.n)
			}
			for i, v := range got {
				if int(v) != i {
					t.Fatalf("vector %d is text %v's", i, v)
				}
			}
			pieces := (tt.n + tt.wantPieceSz - 1) / tt.wantPieceSz
			// The pool is full: as many calls as the depth allows were
			// started before the first answer was written...
			if want := min(tt.wantDepth, pieces); maxAhead < want || maxAhead > tt.wantDepth+1 {
				t.Errorf("at most %d calls started ahead of the writing, want %d (and never more than %d)", maxAhead, want, tt.wantDepth+1)
			}
			if pieces > 1 && slices.IsSorted(g.answered) {
				t.Errorf("answers came back in order %v: the test did not reorder them", g.answered)
			}
			// ...and each piece was asked for once.
			starts := append([]int(nil), g.started...)
			slices.Sort(starts)
			for i, lo := range starts {
				if lo != i*tt.wantPieceSz || len(starts) != pieces {
					t.Fatalf("calls started at texts %v, want every %d from 0, once each", g.started, tt.wantPieceSz)
				}
			}
		})
	}
}

// TestStreamPoolFailure checks that when a piece fails while later pieces
// have already answered, sink gets exactly the pieces before it, and no
// call is left running.
func TestStreamPoolFailure(t *testing.T) {
	g := &gatedPool{batch: 4, conc: 2, failOn: "t9", release: map[int]chan struct{}{}, released: map[int]bool{}}
	stop := make(chan struct{})
	go g.drive(stop)
	defer close(stop)
	var written int
	_, err := Stream(context.Background(), g, texts(40), 1000, nil, func(lo int, vecs [][]float32) error {
		written = lo + len(vecs)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "embedding texts 9-12: boom") {
		t.Fatalf("error %v, want the failed piece's", err)
	}
	if written != 8 {
		t.Errorf("sink got texts up to %d, want the 8 before the failed piece", written)
	}
}

// TestStreamFeedWaveBeforeClose checks StreamFeed on texts still arriving:
// a Pooled embedder starts on whole requests of the texts come so far, but
// no more than one per request in flight until the feed is closed; then it
// goes on, the short last piece included, and sink gets every vector in
// order.
func TestStreamFeedWaveBeforeClose(t *testing.T) {
	g := &gatedPool{batch: 3, conc: 2, release: map[int]chan struct{}{}, released: map[int]bool{}}
	stop := make(chan struct{})
	go g.drive(stop)
	defer close(stop)
	all := texts(20)
	feed := NewFeed()
	feed.Add(all[:10]...) // three whole requests' worth
	firstWave := make(chan struct{})
	var got []float32
	type outcome struct {
		dims int
		err  error
	}
	res := make(chan outcome, 1)
	go func() {
		dims, err := StreamFeed(context.Background(), g, feed, 1000, nil, func(lo int, vecs [][]float32) error {
			g.mu.Lock()
			started := append([]int(nil), g.started...)
			g.mu.Unlock()
			if lo < 6 && len(started) > 2 {
				t.Errorf("while the feed is open, calls started at %v, want at most 2 (one per request in flight)", started)
			}
			for _, v := range vecs {
				got = append(got, v[0])
			}
			if lo == 3 {
				close(firstWave)
			}
			return nil
		})
		res <- outcome{dims, err}
	}()
	<-firstWave
	feed.Add(all[10:]...)
	feed.Close(nil)
	o := <-res
	if o.err != nil || o.dims != 1 || len(got) != len(all) {
		t.Fatalf("dims %d, %d vectors, err %v", o.dims, len(got), o.err)
	}
	for i, v := range got {
		if int(v) != i {
			t.Fatalf("vector %d is text %v's", i, v)
		}
	}
	if txt, closed, err := feed.Texts(); len(txt) != 20 || !closed || err != nil {
		t.Errorf("feed holds %d texts, closed %v, err %v", len(txt), closed, err)
	}
}

// TestStreamFeedReadError checks that a feed closed with an error (bad
// input found part way) ends StreamFeed with that error, after at most one
// request per request in flight, and leaves no call running.
func TestStreamFeedReadError(t *testing.T) {
	bad := errors.New("input.jsonl:8: bad record")
	for _, when := range []string{"before", "during the first wave"} {
		t.Run(when, func(t *testing.T) {
			g := &gatedPool{batch: 3, conc: 2, release: map[int]chan struct{}{}, released: map[int]bool{}}
			stop := make(chan struct{})
			go g.drive(stop)
			defer close(stop)
			feed := NewFeed()
			feed.Add(texts(7)...)
			if when == "before" {
				feed.Close(bad)
			}
			_, err := StreamFeed(context.Background(), g, feed, 1000, nil, func(lo int, vecs [][]float32) error {
				feed.Close(bad)
				return nil
			})
			if !errors.Is(err, bad) {
				t.Fatalf("error %v, want the feed's", err)
			}
			g.mu.Lock()
			defer g.mu.Unlock()
			if want := map[string]int{"before": 0, "during the first wave": 2}[when]; len(g.started) > want {
				t.Errorf("calls started at %v, want at most %d", g.started, want)
			}
		})
	}
}

// TestStreamFeedLocalWaitsForAll checks that an embedder that is not Pooled
// gets its pieces from the whole input: with chunk 0, one call of every
// text, though they came in two parts.
func TestStreamFeedLocalWaitsForAll(t *testing.T) {
	e := &fakeEmbedder{dims: 3}
	all := texts(9)
	feed := NewFeed()
	feed.Add(all[:4]...)
	go func() {
		feed.Add(all[4:]...)
		feed.Close(nil)
	}()
	var sizes []int
	if _, err := StreamFeed(context.Background(), e, feed, 0, nil, func(lo int, vecs [][]float32) error {
		sizes = append(sizes, len(vecs))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sizes) != "[9]" || e.calls != 1 {
		t.Errorf("pieces %v in %d calls, want [9] in 1", sizes, e.calls)
	}
}

// TestStreamFeedCanceledWhileWaiting checks that StreamFeed waiting for
// texts returns when its context ends.
func TestStreamFeedCanceledWhileWaiting(t *testing.T) {
	for _, e := range []Embedder{&fakeEmbedder{dims: 3}, &gatedPool{batch: 3, conc: 2}} {
		ctx, cancel := context.WithCancel(context.Background())
		feed := NewFeed()
		go cancel()
		if _, err := StreamFeed(ctx, e, feed, 10, nil, func(int, [][]float32) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: error %v, want context.Canceled", e.Name(), err)
		}
	}
}

// interruptedEmbedder embeds texts "tN" one at a time without looking at
// ctx, except at text t<stopAt>: there it cancels the run and returns what
// it finished, as a local embedder interrupted part way does (see
// Embedder.Embed). hole, if not 0, is a text it skips (left nil) before.
type interruptedEmbedder struct {
	stopAt, hole int
	cancel       context.CancelFunc
	short        bool // return only the finished vectors, not one entry per text
}

func (f *interruptedEmbedder) Name() string { return "interrupted" }
func (f *interruptedEmbedder) Dims() int    { return 2 }
func (f *interruptedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		var n int
		fmt.Sscanf(t, "t%d", &n)
		if n == f.stopAt {
			f.cancel()
			if f.short {
				out = out[:i]
			}
			return out, context.Cause(ctx)
		}
		if n != f.hole || f.hole == 0 {
			out[i] = []float32{float32(n), 1}
		}
	}
	return out, nil
}

// TestStreamKeepsInterruptedPrefix: when a local embedder's call is
// interrupted part way, sink still receives the texts it finished from the
// first up to its first unfinished one, whatever the pieces' size, and the
// error is the interruption.
func TestStreamKeepsInterruptedPrefix(t *testing.T) {
	for _, tt := range []struct {
		name      string
		n, chunk  int
		e         interruptedEmbedder
		wantTexts int // the vectors sink receives: those of texts 0 .. wantTexts-1
	}{
		{"one piece", 20, 20000, interruptedEmbedder{stopAt: 7}, 7},
		{"in the third piece", 20, 5, interruptedEmbedder{stopAt: 12}, 12},
		{"at a piece's start", 20, 5, interruptedEmbedder{stopAt: 10}, 10},
		{"at the first text", 20, 20000, interruptedEmbedder{stopAt: 0}, 0},
		{"a text left undone before", 20, 20000, interruptedEmbedder{stopAt: 15, hole: 4}, 4},
		{"not one entry per text: nothing kept", 20, 5, interruptedEmbedder{stopAt: 12, short: true}, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			e := tt.e
			e.cancel = cancel
			var got [][]float32
			_, err := Stream(ctx, &e, texts(tt.n), tt.chunk, nil, func(lo int, vecs [][]float32) error {
				if lo != len(got) {
					t.Errorf("sink at %d, want %d (out of order)", lo, len(got))
				}
				got = append(got, vecs...)
				return nil
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			if len(got) != tt.wantTexts {
				t.Fatalf("sink received %d vectors, want %d", len(got), tt.wantTexts)
			}
			for i, v := range got {
				if v[0] != float32(i) {
					t.Fatalf("vector %d is text %v's", i, v[0])
				}
			}
		})
	}
}
