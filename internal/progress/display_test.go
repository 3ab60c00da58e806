package progress

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
		for _, clock := range []string{"scale", ""} {
			var b bytes.Buffer
			d := NewDisplay(&b, true, func() int { return width })
			d.Begin("[5/5] 1,000,000", clock, 0)
			d.Stage("embed", 123456, 1000000)
			d.Add(1)
			d.End()
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
}

// The line says what runs, how far, how fast and how long is left.
func TestDisplayStatus(t *testing.T) {
	now := time.Now()
	tests := []struct {
		d    *Display
		want string
	}{
		{&Display{head: "[2/3] 20,000", clock: "scale", stage: "embed", done: 5000, tot: 20000,
			start: now.Add(-20 * time.Second), stageStart: now.Add(-10 * time.Second)},
			"[2/3] 20,000 embed 5,000/20,000 25% 500/s ETA 30s | stage 10s, scale 20s"},
		{&Display{head: "[1/1] 1,000,000", clock: "scale", stage: "embed", done: 250000, tot: 1000000,
			start: now.Add(-100 * time.Second), stageStart: now.Add(-100 * time.Second)},
			"[1/1] 1,000,000 embed 250,000/1,000,000 25% 2,500/s ETA 5.0 min | stage 100s, scale 100s"},
		// A tick read before the stage began: 0, not -0.00s.
		{&Display{head: "[5/5] 2,000", clock: "scale", stage: "cluster",
			start: now.Add(-time.Second), stageStart: now.Add(time.Millisecond)},
			"[5/5] 2,000 cluster | stage 0.00s, scale 1.00s"},
		{&Display{head: "embed", done: 20, tot: 20, start: now.Add(-10 * time.Second), stageStart: now.Add(-10 * time.Second)},
			"embed 20/20 100% 2/s | 10s"},
		{&Display{head: "[2/3] 20,000", wait: now.Add(42 * time.Second)},
			"[2/3] 20,000: starts in 42s (--delay)"},
	}
	for _, tt := range tests {
		if got := tt.d.status(now); got != tt.want {
			t.Errorf("status %q, want %q", got, tt.want)
		}
	}
}

// Off a terminal the display prints whole lines, one when work starts
// (then one every plainEvery) and one when it finishes, and the --delay
// countdown ends with ctx.
func TestDisplayPlain(t *testing.T) {
	var b bytes.Buffer
	d := NewDisplay(&b, false, nil)
	d.Begin("[1/2] 100", "scale", 0)
	d.Stage("embed", 1, 100)
	d.End()
	if got := b.String(); !strings.HasPrefix(got, "[1/2] 100 start") || !strings.HasSuffix(got, "\n") || strings.Contains(got, "\r") {
		t.Errorf("plain output %q", got)
	}
	b.Reset()
	d.Begin("embed", "", 0)
	d.Add(3)
	d.Finish()
	if lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "embed 3 |") {
		t.Errorf("plain output of a count %q", b.String())
	}
	// A count learnt after the work began (texts still being read).
	b.Reset()
	d.Begin("embed", "", 0)
	d.Add(3)
	d.SetTotal(10)
	d.Finish()
	if lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "embed 3/10 30%") {
		t.Errorf("plain output of a count learnt late %q", b.String())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b.Reset()
	if err := d.Wait(ctx, time.Hour, "[2/2] 250"); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
	if !strings.Contains(b.String(), "[2/2] 250: starts in 1h0m0s (--delay)") {
		t.Errorf("countdown %q", b.String())
	}
	var nilDisplay *Display
	if err := nilDisplay.Wait(context.Background(), time.Millisecond, "x"); err != nil {
		t.Error(err)
	}
	nilDisplay.Begin("x", "", 0)
	nilDisplay.Stage("s", 1, 2)
	nilDisplay.SetTotal(5)
	nilDisplay.End()
}

// Off a terminal a line comes at least every plainEvery while work runs,
// with no updates, so that a CI log shows the run is alive. The test waits
// for one tick (plainEvery) rather than timing anything.
func TestDisplayPlainTicks(t *testing.T) {
	if testing.Short() {
		t.Skip("waits plainEvery")
	}
	w := &syncBuffer{}
	d := NewDisplay(w, false, nil)
	d.Begin("[1/1] 100", "scale", 0)
	deadline := time.Now().Add(plainEvery + 5*time.Second)
	for strings.Count(w.String(), "\n") < 2 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	d.End()
	if n := strings.Count(w.String(), "\n"); n < 2 {
		t.Errorf("%d lines within plainEvery+5s, want a line at the start and one from the clock: %q", n, w.String())
	}
}
