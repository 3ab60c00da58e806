// Package refdata locates the project's shared reference data (../shared beside
// the checkout: real Kura checkpoints and reference fixtures) for tests and
// benchmarks. A user's clone does not have it, so tests skip when it is absent.
package refdata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the shared folder: $KURA_SHARED if set, else ../shared beside
// the repository root. ok is false when the folder does not exist.
func Root() (dir string, ok bool) {
	if d := os.Getenv("KURA_SHARED"); d != "" {
		dir = d
	} else {
		_, file, _, _ := runtime.Caller(0)
		// file is <repo>/internal/refdata/refdata.go
		repo := filepath.Dir(filepath.Dir(filepath.Dir(file)))
		dir = filepath.Join(filepath.Dir(repo), "shared")
	}
	fi, err := os.Stat(dir)
	return dir, err == nil && fi.IsDir()
}

// Path returns the path of rel inside the shared folder, or skips the test
// with a clear message when the shared folder or that path is absent.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	dir, ok := Root()
	if !ok {
		tb.Skipf("shared reference data not found at %s (set KURA_SHARED to its location); skipping", dir)
	}
	p := filepath.Join(dir, rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("shared reference data %s not found; skipping", p)
	}
	return p
}
