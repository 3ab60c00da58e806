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
	if b.Done() != 10 {
		t.Errorf("Done() = %d, want 10", b.Done())
	}
	out := buf.String()
	if !strings.Contains(out, "embed [") || !strings.Contains(out, "10/10 100.0%") || !strings.HasSuffix(out, "\n") {
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
	if b.Done() != 5 {
		t.Errorf("disabled bar counted %d, want 5", b.Done())
	}
	var nilBar *Bar
	nilBar.Add(1)
	nilBar.Finish()
	if nilBar.Done() != 0 {
		t.Error("nil bar counted work")
	}
}
