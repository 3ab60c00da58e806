package loadtest

import (
	"os"
	"runtime"

	"github.com/kura-go/kura/internal/procstat"
)

// DetectEnvironment describes this machine and the given kura build.
func DetectEnvironment(version, commit string) Environment {
	m := procstat.ReadMachine()
	e := Environment{
		KuraVersion: version, KuraCommit: commit,
		GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		CPUModel: m.CPUModel, TotalMemBytes: m.TotalMemory,
	}
	e.Hostname, _ = os.Hostname()
	return e
}
