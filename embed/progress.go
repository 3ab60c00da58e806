package embed

import "context"

type progressKey struct{}

// WithProgress returns a context that carries a progress callback. Embedders
// call it (through ReportProgress) with the number of texts finished each
// time a batch completes, from any goroutine, so that a caller can draw a
// progress bar without splitting its input into small calls.
func WithProgress(ctx context.Context, f func(done int)) context.Context {
	return context.WithValue(ctx, progressKey{}, f)
}

// ReportProgress tells the progress callback of ctx, if any, that n more
// texts are done. Embedders call it; it is a no-op without a callback.
func ReportProgress(ctx context.Context, n int) {
	if f, ok := ctx.Value(progressKey{}).(func(int)); ok && f != nil && n > 0 {
		f(n)
	}
}
