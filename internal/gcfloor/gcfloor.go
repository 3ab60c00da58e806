// Package gcfloor keeps Go's garbage collector from running until a
// process's memory first reaches a size, then hands it back to the usual
// GOGC pacing. The runtime's first heap goal is 4 MB, so a command that
// builds up a working set of ten or twenty megabytes in its first
// milliseconds otherwise collects several times on the way there, each
// time stopping the world and taking a quarter of the CPU for marking, just
// when its first work (the first requests of kura embed) is starting.
//
// Set turns the collector off (debug.SetGCPercent(-1)) with a memory limit
// of the floor (debug.SetMemoryLimit), so the first collection comes when
// the Go runtime's memory reaches the floor; a cleanup attached to an
// object that this first collection frees then restores the GOGC and memory
// limit there were before. Memory is never held above what the floor
// allows, and past the first collection nothing differs from the defaults.
// A process whose GOGC or GOMEMLIMIT is set in its environment is left as
// the user tuned it.
package gcfloor

import (
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// applied is set by the first Set that changes the collector: later calls
// (a test binary running several commands) must not take the "off" they
// find for the settings to restore.
var applied atomic.Bool

// sentinel is unreachable from the moment Set returns, so the first
// collection frees it and runs its cleanup. It holds a pointer so that the
// tiny allocator does not pack it with other small objects, which could
// keep it alive.
type sentinel struct{ _ *byte }

// Set keeps the collector off until the process's Go memory reaches bytes.
// It does nothing, and returns false, when bytes <= 0, when GOGC or
// GOMEMLIMIT is set in the environment, or when it has been applied before
// in this process. The first collection, whenever it comes, undoes it.
func Set(bytes int64) bool {
	if bytes <= 0 || os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" || !applied.CompareAndSwap(false, true) {
		return false
	}
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(bytes)
	var once sync.Once
	restore := func(int) {
		once.Do(func() {
			debug.SetMemoryLimit(limit)
			debug.SetGCPercent(percent)
		})
	}
	runtime.AddCleanup(&sentinel{}, restore, 0)
	return true
}
