package measure

import (
	"runtime"
	"runtime/debug"
	"time"

	"github.com/kura-go/kura/internal/procstat"
)

// Meter measures one stage: wall time, CPU time, peak RSS and heap.
type Meter struct {
	name  string
	start time.Time
	cpu   time.Duration
	// ResetErr is why the kernel's peak-RSS counter could not be reset
	// before the stage (the stage's peak is then the process's lifetime
	// peak); nil when it was.
	ResetErr error
}

// Start starts measuring the named stage. It first collects the garbage of
// the stage before and returns freed memory to the kernel (not timed), so
// that a stage's peak is its own work on top of the data it inherits, not
// the previous stage's leftovers.
func Start(name string) *Meter {
	debug.FreeOSMemory()
	m := &Meter{name: name}
	m.ResetErr = procstat.ResetPeak()
	m.start = time.Now()
	if s, err := procstat.Read(); err == nil {
		m.cpu = s.CPU
	}
	return m
}

// Stop ends the measurement and returns the stage's cost.
func (m *Meter) Stop() Stage {
	st := Stage{Name: m.name, WallS: time.Since(m.start).Seconds()}
	if s, err := procstat.Read(); err == nil {
		st.CPUS = (s.CPU - m.cpu).Seconds()
		st.PeakRSSBytes = s.PeakRSS
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st.HeapInuseBytes = int64(ms.HeapInuse)
	return st
}
