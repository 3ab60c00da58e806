package progress

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestBar(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "embed", 10, true)
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); b.Add(1) }()
	}
	wg.Wait()
	b.Finish()
	if b.count() != 10 {
		t.Errorf("Done() = %d, want 10", b.count())
	}
	out := buf.String()
	if !strings.Contains(out, "\rembed ") || !strings.Contains(out, "10/10 100%") || !strings.HasSuffix(out, "\n") {
		t.Errorf("bar output %q lacks the label, the final count or the closing newline", out)
	}
}

func TestDisabledAndNil(t *testing.T) {
	var buf bytes.Buffer
	b := New(&buf, "x", 5, false)
	b.Add(5)
	b.Finish()
	if buf.Len() != 0 {
		t.Errorf("disabled bar wrote %q", buf.String())
	}
	if b.count() != 5 {
		t.Errorf("disabled bar counted %d, want 5", b.count())
	}
	var nilBar *Bar
	nilBar.Add(1)
	nilBar.Finish()
	if nilBar.count() != 0 {
		t.Error("nil bar counted work")
	}
}

// syncBuffer is a bytes.Buffer safe for a display's clock goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
