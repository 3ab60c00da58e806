package gcfloor

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// settings returns the current GOGC percentage and memory limit.
func settings() (int, int64) {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p, debug.SetMemoryLimit(-1) // a negative limit only reads it
}

// TestSetUntilFirstCollection checks that Set turns the collector off with
// the floor as memory limit, that the first collection gives the settings
// back, and that Set applies once per process.
func TestSetUntilFirstCollection(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	applied.Store(false)
	percent, limit := settings()
	t.Cleanup(func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	})
	if !Set(256 << 20) {
		t.Fatal("Set did nothing with GOGC and GOMEMLIMIT unset")
	}
	if p, l := settings(); p != -1 || l != 256<<20 {
		t.Fatalf("after Set: GOGC %d, memory limit %d; want off and 256 MiB", p, l)
	}
	if Set(128 << 20) {
		t.Error("a second Set in the same process changed the collector again")
	}
	// The first collection restores the settings; its cleanup runs soon
	// after it, on the runtime's cleanup goroutine.
	for range 1000 {
		runtime.GC()
		if p, l := settings(); p == percent && l == limit {
			return
		}
		time.Sleep(time.Millisecond)
	}
	p, l := settings()
	t.Fatalf("after collections: GOGC %d, memory limit %d; want %d and %d again", p, l, percent, limit)
}

func TestSetLeavesTunedProcessesAlone(t *testing.T) {
	applied.Store(false)
	percent, limit := settings()
	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			t.Setenv(env, "200")
			if Set(256 << 20) {
				t.Errorf("Set with %s set in the environment changed the collector", env)
			}
			if p, l := settings(); p != percent || l != limit {
				t.Errorf("GOGC %d, memory limit %d; want %d and %d untouched", p, l, percent, limit)
			}
		})
	}
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	if Set(0) {
		t.Error("Set(0) changed the collector")
	}
	if applied.Load() {
		t.Error("a Set that did nothing counts as applied")
	}
}
