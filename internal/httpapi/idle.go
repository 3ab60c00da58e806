package httpapi

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// IdleError is the cause given to a request's context when its body sent
// nothing for the idle timeout.
type IdleError struct{ Idle time.Duration }

func (e *IdleError) Error() string {
	return fmt.Sprintf("no data from the server for %v (idle timeout)", e.Idle)
}

// IdleReader reads a response body and cancels the request (through the
// cancel function of its context) when no byte arrives for Idle: a server
// that stalls mid-body fails after Idle, however long the whole download is
// allowed to take. Close stops the timer.
type IdleReader struct {
	r     io.Reader
	idle  time.Duration
	timer *time.Timer
	once  sync.Once
}

// NewIdleReader starts the idle timer; cancel is the request context's
// cancel function, called with an *IdleError.
func NewIdleReader(r io.Reader, idle time.Duration, cancel context.CancelCauseFunc) *IdleReader {
	ir := &IdleReader{r: r, idle: idle}
	ir.timer = time.AfterFunc(idle, func() { cancel(&IdleError{Idle: idle}) })
	return ir
}

func (ir *IdleReader) Read(p []byte) (int, error) {
	n, err := ir.r.Read(p)
	if n > 0 {
		ir.timer.Reset(ir.idle)
	}
	return n, err
}

// Close stops the timer (it does not close the body).
func (ir *IdleReader) Close() error {
	ir.once.Do(func() { ir.timer.Stop() })
	return nil
}
