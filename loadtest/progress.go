package loadtest

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Display is the live progress line on a terminal: the scale being run, its
// stage, and how far the stage has got. A nil *Display draws nothing.
type Display struct {
	mu         sync.Mutex
	w          io.Writer
	scale      int
	idx, count int
	stage      string
	done, tot  int
	start      time.Time
	stageStart time.Time
	last       time.Time
	width      int
	stop       chan struct{}
}

// NewDisplay returns a display drawing on w, or nil when enabled is false
// (stderr is not a terminal, or --quiet).
func NewDisplay(w io.Writer, enabled bool) *Display {
	if !enabled {
		return nil
	}
	return &Display{w: w}
}

// Scale starts the display of a scale (idx of count).
func (d *Display) Scale(scale, idx, count int) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	d.scale, d.idx, d.count, d.stage, d.done, d.tot = scale, idx, count, "start", 0, 0
	d.start, d.stageStart = now, now
	d.draw(now)
	// Redraw twice a second so that the clocks move during long stages.
	stop := make(chan struct{})
	d.stop = stop
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				d.mu.Lock()
				if d.stop == stop {
					d.draw(now)
				}
				d.mu.Unlock()
			}
		}
	}()
}

// Event updates the stage and its progress.
func (d *Display) Event(e Event) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if e.Stage != d.stage {
		d.stage, d.stageStart = e.Stage, now
	}
	d.done, d.tot = e.Done, e.Total
	if now.Sub(d.last) < 100*time.Millisecond && e.Done != 0 && e.Done < e.Total {
		return
	}
	d.draw(now)
}

// Done clears the line at the end of a scale.
func (d *Display) Done() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stop != nil {
		close(d.stop)
		d.stop = nil
	}
	fmt.Fprintf(d.w, "\r%s\r", strings.Repeat(" ", d.width))
	d.width = 0
}

func (d *Display) draw(now time.Time) {
	d.last = now
	line := fmt.Sprintf("scale %d/%d: %d conversations | %-7s", d.idx+1, d.count, d.scale, d.stage)
	if d.tot > 0 {
		const w = 24
		f := float64(d.done) / float64(d.tot)
		f = min(max(f, 0), 1)
		n := int(f * w)
		line += fmt.Sprintf(" [%s%s] %d/%d", strings.Repeat("=", n), strings.Repeat(" ", w-n), d.done, d.tot)
	}
	line += fmt.Sprintf(" | stage %.1fs, scale %.1fs", now.Sub(d.stageStart).Seconds(), now.Sub(d.start).Seconds())
	pad := ""
	if len(line) < d.width {
		pad = strings.Repeat(" ", d.width-len(line))
	}
	fmt.Fprintf(d.w, "\r%s%s", line, pad)
	d.width = len(line)
}
