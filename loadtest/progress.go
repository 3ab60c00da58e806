package loadtest

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/kura-go/kura/internal/human"
)

// PlainEvery is how often a display that is not on a terminal prints a
// progress line, so that a CI log shows the run is alive.
const PlainEvery = 5 * time.Second

// Display shows the progress of a run: the scale being run, its stage, how
// far the stage has got, its rate and the time left. On a terminal it is
// one line redrawn in place, never longer than the terminal is wide; else it
// is a line every PlainEvery. A nil *Display shows nothing.
type Display struct {
	mu         sync.Mutex
	w          io.Writer
	tty        bool
	width      func() int
	scale      int
	idx, count int
	stage      string
	done, tot  int
	start      time.Time
	stageStart time.Time
	last       time.Time
	wait       time.Time // the end of a --delay pause, while one runs
	drawn      bool      // a line is on screen (tty)
	stop       chan struct{}
}

// NewDisplay returns a display on w: redrawn in place when tty is true
// (width gives the terminal's width; nil = 80), a line every PlainEvery
// when it is false.
func NewDisplay(w io.Writer, tty bool, width func() int) *Display {
	if width == nil {
		width = func() int { return 80 }
	}
	return &Display{w: w, tty: tty, width: width}
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
	d.start, d.stageStart, d.wait = now, now, time.Time{}
	d.draw(now)
	d.tick()
}

// tick redraws the display while it runs: twice a second on a terminal,
// so that the clocks move during long stages, else every PlainEvery.
func (d *Display) tick() {
	if d.stop != nil {
		close(d.stop)
	}
	stop := make(chan struct{})
	d.stop = stop
	every := PlainEvery
	if d.tty {
		every = 500 * time.Millisecond
	}
	go func() {
		t := time.NewTicker(every)
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
	if !d.tty || now.Sub(d.last) < 100*time.Millisecond && e.Done != 0 && e.Done < e.Total {
		return
	}
	d.draw(now)
}

// Done clears the line at the end of a scale or a pause.
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
	d.clear()
}

func (d *Display) clear() {
	if d.tty && d.drawn {
		fmt.Fprint(d.w, "\r\x1b[K")
		d.drawn = false
	}
}

// Wait pauses for delay before scale (idx of count), counting down; it
// returns early with ctx's error when ctx ends. A nil display waits
// silently.
func (d *Display) Wait(ctx context.Context, delay time.Duration, scale, idx, count int) error {
	if d != nil {
		d.mu.Lock()
		now := time.Now()
		d.scale, d.idx, d.count, d.wait = scale, idx, count, now.Add(delay)
		d.draw(now)
		d.tick()
		d.mu.Unlock()
		defer d.Done()
	}
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// status is the display's line: what runs, how far, how fast, how long.
func (d *Display) status(now time.Time) string {
	head := fmt.Sprintf("[%d/%d] %s", d.idx+1, d.count, human.Thousands(d.scale))
	if !d.wait.IsZero() {
		left := max(d.wait.Sub(now), 0).Round(time.Second)
		return fmt.Sprintf("%s: starts in %s (--delay)", head, left)
	}
	line := head + " " + d.stage
	el := now.Sub(d.stageStart).Seconds()
	if d.tot > 0 {
		line += fmt.Sprintf(" %d/%d %.0f%%", d.done, d.tot, 100*min(max(float64(d.done)/float64(d.tot), 0), 1))
		if d.done > 0 && el > 0 {
			rate := float64(d.done) / el
			line += fmt.Sprintf(" %.0f/s", rate)
			if d.done < d.tot {
				line += " ETA " + human.Duration(float64(d.tot-d.done)/rate)
			}
		}
	}
	return line + fmt.Sprintf(" | stage %s, scale %s", human.Duration(el), human.Duration(now.Sub(d.start).Seconds()))
}

func (d *Display) draw(now time.Time) {
	d.last = now
	line := d.status(now)
	if !d.tty {
		fmt.Fprintln(d.w, line)
		return
	}
	// One column short of the width: a line that fills the last column
	// makes some terminals wrap, and the next redraw would leave a copy.
	if w := d.width() - 1; w > 0 && len(line) > w {
		line = line[:w]
	}
	fmt.Fprintf(d.w, "\r%s\x1b[K", line)
	d.drawn = true
}
