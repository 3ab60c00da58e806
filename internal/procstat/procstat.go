// Package procstat reads what the kernel accounts of this process and its
// machine: the process's resident set size now and at its peak and its CPU
// time used (Read), the machine's CPUs and memory (ReadMachine,
// MemAvailable), and the disk space free under a directory (DiskFree).
package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Snapshot is the process's resource use at one moment.
type Snapshot struct {
	RSS     int64         // resident set size now, bytes (VmRSS)
	PeakRSS int64         // peak resident set size since start or the last ResetPeak, bytes (VmHWM)
	CPU     time.Duration // user + system CPU time since start
}

// Read returns the current snapshot. On systems without /proc it falls back
// to getrusage, where RSS is unknown (0) and PeakRSS is the lifetime peak.
func Read() (Snapshot, error) {
	var s Snapshot
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s, fmt.Errorf("getrusage: %w", err)
	}
	s.CPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	s.PeakRSS = ru.Maxrss * 1024 // Linux reports kilobytes
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return s, nil
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case bytes.HasPrefix(line, []byte("VmRSS:")):
			s.RSS = parseKB(line[len("VmRSS:"):])
		case bytes.HasPrefix(line, []byte("VmHWM:")):
			s.PeakRSS = parseKB(line[len("VmHWM:"):])
		}
	}
	return s, nil
}

func parseKB(b []byte) int64 {
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	v, err := strconv.ParseInt(string(f[0]), 10, 64)
	if err != nil {
		return 0
	}
	return v * 1024
}

// ResetPeak resets the kernel's peak-RSS mark (VmHWM) to the current RSS, so
// that the next Read reports the peak of the work done since. It needs Linux
// (/proc/self/clear_refs); elsewhere it returns an error and the peak stays
// the lifetime peak.
func ResetPeak() error {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		return fmt.Errorf("reset peak RSS: %w", err)
	}
	return nil
}
