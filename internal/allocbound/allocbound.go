// Package allocbound asserts, in tests and fuzz targets, that a piece of
// work allocates no more than a bound: the memory half of "bounded per
// input" (time is left to benchmarks, never asserted).
package allocbound

import (
	"runtime"
	"testing"
)

// Check runs f and fails t if the bytes allocated while it ran exceed limit.
// what describes the input in the failure. It reads runtime.MemStats twice
// (a short stop of the world each), so it suits fuzz targets that run one
// input at a time, not benchmarks.
func Check(t testing.TB, limit uint64, what string, f func()) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Fatalf("%s: allocated %d bytes, over the bound of %d", what, got, limit)
	}
}

// PerByte is a bound of k bytes per input byte plus base: the usual shape
// for a parser, which may hold a few copies of what it reads but nothing
// that grows faster than the input.
func PerByte(n int, k, base uint64) uint64 { return uint64(n)*k + base }
