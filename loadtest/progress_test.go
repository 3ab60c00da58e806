package loadtest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// On a terminal every redraw fits in the width (one column to spare), so a
// narrow terminal never wraps the line and leaves no stale copies.
func TestDisplayFitsWidth(t *testing.T) {
	for _, width := range []int{40, 80, 200} {
		var b bytes.Buffer
		d := NewDisplay(&b, true, func() int { return width })
		d.Scale(1000000, 4, 5)
		d.Event(Event{Stage: "embed", Done: 123456, Total: 1000000})
		d.Done()
		for _, redraw := range strings.Split(b.String(), "\r") {
			visible := strings.ReplaceAll(redraw, "\x1b[K", "")
			if len(visible) > width-1 {
				t.Errorf("width %d: redraw of %d columns: %q", width, len(visible), visible)
			}
		}
		if strings.Contains(b.String(), "\n") {
			t.Errorf("width %d: a newline in the redrawn line: %q", width, b.String())
		}
	}
}

// The line says what runs, how far, how fast and how long is left.
func TestDisplayStatus(t *testing.T) {
	now := time.Now()
	d := &Display{scale: 20000, idx: 1, count: 3, stage: "embed", done: 5000, tot: 20000,
		start: now.Add(-20 * time.Second), stageStart: now.Add(-10 * time.Second)}
	want := "[2/3] 20,000 embed 5000/20000 25% 500/s ETA 30s | stage 10s, scale 20s"
	if got := d.status(now); got != want {
		t.Errorf("status %q, want %q", got, want)
	}
	d.wait = now.Add(42 * time.Second)
	if got := d.status(now); got != "[2/3] 20,000: starts in 42s (--delay)" {
		t.Errorf("countdown %q", got)
	}
}

// Off a terminal the display prints whole lines, one when a scale starts
// (then one every PlainEvery), and the --delay countdown ends with ctx.
func TestDisplayPlain(t *testing.T) {
	var b bytes.Buffer
	d := NewDisplay(&b, false, nil)
	d.Scale(100, 0, 2)
	d.Event(Event{Stage: "embed", Done: 1, Total: 100})
	d.Done()
	if got := b.String(); !strings.HasPrefix(got, "[1/2] 100 start") || !strings.HasSuffix(got, "\n") || strings.Contains(got, "\r") {
		t.Errorf("plain output %q", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b.Reset()
	if err := d.Wait(ctx, time.Hour, 250, 1, 2); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
	if !strings.Contains(b.String(), "[2/2] 250: starts in 1h0m0s (--delay)") {
		t.Errorf("countdown %q", b.String())
	}
	var nilDisplay *Display
	if err := nilDisplay.Wait(context.Background(), time.Millisecond, 1, 0, 1); err != nil {
		t.Error(err)
	}
}
