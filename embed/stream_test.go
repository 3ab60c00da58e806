package embed

import (
	"context"
	"errors"
	"fmt"
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
