// Package progress shows how far long work has got, on one line of a
// terminal or as log lines: what runs, its stage, counts, rate, time left
// and elapsed time. It is kura's one progress display: kura embed and kura
// loadtest (and the other long commands) draw through it.
package progress

import (
	"context"
	"fmt"
	"io"
	"math"
	"sync"
	"time"

	"github.com/kura-go/kura/internal/human"
)

// plainEvery is how often a display that is not on a terminal prints a
// line while work runs, so that a CI log shows the run is alive.
const plainEvery = 5 * time.Second

// Redraw bounds: a terminal line is redrawn at most every minRedraw on
// updates, and every tickTTY by the clock so that times move in long
// stages.
const (
	minRedraw = 100 * time.Millisecond
	tickTTY   = 500 * time.Millisecond
)

// Display shows the progress of a piece of work. On a terminal it is one
// line redrawn in place, never longer than the terminal is wide (one column
// to spare, so that no terminal wraps it); else it is a whole line when the
// work starts, every 5 s while it runs, and when it finishes. A nil
// *Display shows nothing, so callers need no checks. It is safe for
// concurrent use.
type Display struct {
	mu         sync.Mutex
	w          io.Writer
	tty        bool
	quiet      bool
	width      func() int
	head       string // what runs: "[2/3] 20,000", "embed"
	clock      string // the name of the whole work's clock when it has stages ("scale")
	stage      string
	done, tot  int64
	start      time.Time
	stageStart time.Time
	last       time.Time
	wait       time.Time // the end of a pause being counted down
	drawn      bool      // a line is on screen (tty)
	ticks      bool      // redraw by the clock between updates
	stop       chan struct{}
}

// NewDisplay returns a display on w: redrawn in place when tty is true
// (width gives the terminal's width; nil = 80), whole lines (at least one
// every 5 s while work runs) when it is false. It redraws by the
// clock between updates, until End or Finish.
func NewDisplay(w io.Writer, tty bool, width func() int) *Display {
	if width == nil {
		width = func() int { return 80 }
	}
	return &Display{w: w, tty: tty, width: width, ticks: true}
}

// Bar is the display of one count of work, such as a model download.
type Bar = Display

// New returns a display of total units of work labelled label, redrawn in
// place on w as work is added (see Add), silent when enabled is false
// (stderr is not a terminal, or --quiet). Finish ends it.
func New(w io.Writer, label string, total int64, enabled bool) *Bar {
	now := time.Now()
	return &Display{w: w, tty: true, quiet: !enabled, width: func() int { return 80 },
		head: label, tot: total, start: now, stageStart: now}
}

// Begin starts showing work: head says what runs ("[2/3] 20,000",
// "embed"); clock names its clock in the line ("scale") when the work has
// stages (see Stage), or is "" for one count of work; total is the count of
// units to do (see Add), 0 when unknown or given by Stage.
func (d *Display) Begin(head, clock string, total int64) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	d.head, d.clock, d.stage, d.done, d.tot = head, clock, "", 0, total
	if clock != "" {
		d.stage = "start"
	}
	d.start, d.stageStart, d.wait = now, now, time.Time{}
	d.draw(now)
	d.tick()
}

// tick redraws the display while work runs: twice a second on a terminal,
// so that the clocks move during long stages, else every plainEvery.
func (d *Display) tick() {
	d.stopTicking()
	if !d.ticks || d.quiet {
		return
	}
	stop := make(chan struct{})
	d.stop = stop
	every := plainEvery
	if d.tty {
		every = tickTTY
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

func (d *Display) stopTicking() {
	if d.stop != nil {
		close(d.stop)
		d.stop = nil
	}
}

// Stage sets the stage that runs and how far it has got (done of total;
// total 0 when unknown).
func (d *Display) Stage(stage string, done, total int64) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := time.Now()
	if stage != d.stage {
		d.stage, d.stageStart = stage, now
	}
	d.done, d.tot = done, total
	d.update(now)
}

// SetTotal sets the count of units to do, when it becomes known after
// Begin.
func (d *Display) SetTotal(total int64) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.tot = total
	d.update(time.Now())
}

// Add records n more units done.
func (d *Display) Add(n int64) {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.done += n
	d.update(time.Now())
}

// update redraws a terminal line, at most every minRedraw but always at the
// start and the end of a count; off a terminal lines come from the clock.
func (d *Display) update(now time.Time) {
	if !d.tty || now.Sub(d.last) < minRedraw && d.done != 0 && d.done < d.tot {
		return
	}
	d.draw(now)
}

// count returns how many units are done.
func (d *Display) count() int64 {
	if d == nil {
		return 0
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.done
}

// End stops the display of the work and clears its line on a terminal
// (the work's outcome is told elsewhere).
func (d *Display) End() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopTicking()
	d.clear()
}

// Finish stops the display of the work and leaves its final state: on a
// terminal the line ends with a newline, else it is printed once more.
func (d *Display) Finish() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopTicking()
	if d.quiet {
		return
	}
	d.draw(time.Now())
	if d.tty {
		fmt.Fprintln(d.w)
		d.drawn = false
	}
}

func (d *Display) clear() {
	if d.tty && d.drawn {
		fmt.Fprint(d.w, "\r\x1b[K")
		d.drawn = false
	}
}

// Wait pauses for delay before the work head ("[2/3] 20,000"), counting
// down; it returns early with ctx's error when ctx ends. A nil display
// waits silently.
func (d *Display) Wait(ctx context.Context, delay time.Duration, head string) error {
	if d != nil {
		d.mu.Lock()
		now := time.Now()
		d.head, d.wait = head, now.Add(delay)
		d.draw(now)
		d.tick()
		d.mu.Unlock()
		defer d.End()
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
	if !d.wait.IsZero() {
		left := max(d.wait.Sub(now), 0).Round(time.Second)
		return fmt.Sprintf("%s: starts in %s (--delay)", d.head, left)
	}
	line := d.head
	if d.stage != "" {
		line += " " + d.stage
	}
	// A clock tick read just before a stage began is earlier than the
	// stage's start: its time is 0, not -0.00s.
	el := max(now.Sub(d.stageStart).Seconds(), 0)
	if d.tot > 0 {
		line += fmt.Sprintf(" %s/%s %.0f%%", human.Thousands(int(d.done)), human.Thousands(int(d.tot)), 100*min(max(float64(d.done)/float64(d.tot), 0), 1))
		if d.done > 0 && el > 0 {
			rate := float64(d.done) / el
			line += fmt.Sprintf(" %s/s", human.Thousands(int(math.Round(rate))))
			if d.done < d.tot {
				line += " ETA " + human.Duration(float64(d.tot-d.done)/rate)
			}
		}
	} else if d.done > 0 {
		line += " " + human.Thousands(int(d.done))
	}
	if d.clock == "" {
		return line + " | " + human.Duration(el)
	}
	return line + fmt.Sprintf(" | stage %s, %s %s", human.Duration(el), d.clock, human.Duration(max(now.Sub(d.start).Seconds(), 0)))
}

func (d *Display) draw(now time.Time) {
	if d.quiet {
		return
	}
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
