package procstat

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// Machine describes the computer: its CPU model ("unknown" when /proc does
// not say), and its total and available memory in bytes (0 when unknown,
// as off Linux).
type Machine struct {
	CPUModel       string
	TotalMemory    int64
	AvailableBytes int64
}

// ReadMachine reads /proc/cpuinfo and /proc/meminfo.
func ReadMachine() Machine {
	m := Machine{CPUModel: "unknown", TotalMemory: meminfo("MemTotal"), AvailableBytes: MemAvailable()}
	if v := field("/proc/cpuinfo", "model name"); v != "" {
		m.CPUModel = v
	}
	return m
}

// MemAvailable returns the memory available for new work on this machine
// (MemAvailable of /proc/meminfo), or 0 when unknown (not Linux).
func MemAvailable() int64 { return meminfo("MemAvailable") }

// meminfo returns a /proc/meminfo field in bytes, 0 when unknown.
func meminfo(key string) int64 {
	f := strings.Fields(field("/proc/meminfo", key))
	if len(f) == 0 {
		return 0
	}
	kb, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return 0
	}
	return kb * 1024
}

// field returns the value of the first "key: value" line of a /proc file.
func field(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
