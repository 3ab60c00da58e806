// Package progress draws a one-line progress bar on a terminal.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Bar is a thread-safe progress bar. A nil *Bar, or one made for a writer
// that is not a terminal, draws nothing, so callers need no checks.
type Bar struct {
	mu      sync.Mutex
	w       io.Writer
	label   string
	total   int64
	done    int64
	start   time.Time
	last    time.Time
	enabled bool
}

// New returns a bar for total units of work labelled label. When enabled is
// false (stderr is not a terminal, or --quiet) the bar stays silent.
func New(w io.Writer, label string, total int64, enabled bool) *Bar {
	now := time.Now()
	return &Bar{w: w, label: label, total: total, start: now, enabled: enabled}
}

// Add records n more units done and redraws at most ten times a second.
func (b *Bar) Add(n int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if !b.enabled {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 100*time.Millisecond && b.done < b.total {
		return
	}
	b.last = now
	b.draw(now)
}

// Done returns how many units have been recorded.
func (b *Bar) Done() int64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.done
}

// Finish draws the final state and ends the line.
func (b *Bar) Finish() {
	if b == nil || !b.enabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.draw(time.Now())
	fmt.Fprintln(b.w)
}

func (b *Bar) draw(now time.Time) {
	const width = 30
	frac := 0.0
	if b.total > 0 {
		frac = float64(b.done) / float64(b.total)
		if frac > 1 {
			frac = 1
		}
	}
	filled := int(frac * width)
	el := now.Sub(b.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(b.done) / el
	}
	fmt.Fprintf(b.w, "\r%s [%s%s] %d/%d %5.1f%% %.0f/s %.1fs ",
		b.label, strings.Repeat("=", filled), strings.Repeat(" ", width-filled),
		b.done, b.total, frac*100, rate, el)
}
