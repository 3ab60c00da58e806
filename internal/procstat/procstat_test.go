package procstat

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

var sink []byte

func TestReadAndResetPeak(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("VmHWM and clear_refs are Linux-only")
	}
	before, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if before.RSS <= 0 || before.PeakRSS < before.RSS || before.CPU <= 0 {
		t.Fatalf("implausible snapshot %+v", before)
	}
	// Touch 64 MiB so the peak rises by about that much.
	const size = 64 << 20
	sink = make([]byte, size)
	for i := 0; i < size; i += 4096 {
		sink[i] = 1
	}
	high, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if high.PeakRSS < before.RSS+size/2 {
		t.Fatalf("peak %d did not rise by at least 32 MiB over %d after touching 64 MiB", high.PeakRSS, before.RSS)
	}
	sink = nil
	runtime.GC()
	debug.FreeOSMemory()
	if err := ResetPeak(); err != nil {
		t.Skipf("cannot reset the peak here: %v", err)
	}
	after, err := Read()
	if err != nil {
		t.Fatal(err)
	}
	if after.PeakRSS >= high.PeakRSS-size/2 {
		t.Errorf("peak after reset %d, before reset %d: want it at least 32 MiB lower", after.PeakRSS, high.PeakRSS)
	}
}

func TestParseKB(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{{"   1234 kB", 1234 * 1024}, {"", 0}, {" x kB", 0}} {
		if got := parseKB([]byte(tt.in)); got != tt.want {
			t.Errorf("parseKB(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestReadMachine(t *testing.T) {
	if _, err := os.Stat("/proc/meminfo"); err != nil {
		t.Skip("no /proc/meminfo on this system")
	}
	m := ReadMachine()
	if m.TotalMemory <= 0 || m.AvailableBytes <= 0 || m.AvailableBytes > m.TotalMemory || m.CPUModel == "" {
		t.Errorf("machine %+v: want positive memory, available <= total, a CPU model", m)
	}
}

// DiskFree agrees with df's figure for the test's directory to within
// what other processes write meanwhile (1 GiB), for a directory not made
// yet too (its nearest existing parent's), and says 0 under a file.
func TestDiskFree(t *testing.T) {
	dir := t.TempDir()
	got := DiskFree(dir)
	if runtime.GOOS != "linux" {
		if got != 0 {
			t.Errorf("DiskFree = %d off Linux, want 0", got)
		}
		return
	}
	out, err := exec.Command("df", "-B1", "--output=avail", dir).Output()
	if err != nil {
		t.Skipf("df: %v", err)
	}
	f := strings.Fields(string(out))
	want, err := strconv.ParseInt(f[len(f)-1], 10, 64)
	if err != nil {
		t.Fatalf("df output %q: %v", out, err)
	}
	if d := got - want; d < -1<<30 || d > 1<<30 {
		t.Errorf("DiskFree(%s) = %d, df says %d", dir, got, want)
	}
	// A directory not made yet is measured where it will be made.
	if missing := DiskFree(filepath.Join(dir, "not", "yet")); missing-want < -1<<30 || missing-want > 1<<30 {
		t.Errorf("DiskFree of a directory not made yet = %d, df says %d for its parent", missing, want)
	}
	// A path under a file is not a directory that can be made: unknown.
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := DiskFree(filepath.Join(file, "x")); got != 0 {
		t.Errorf("DiskFree under a file = %d, want 0", got)
	}
}
