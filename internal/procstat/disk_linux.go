package procstat

import (
	"errors"
	"io/fs"
	"path/filepath"
	"syscall"
)

// DiskFree returns the bytes an unprivileged process can still write to the
// file system that holds dir (statfs f_bavail × f_bsize), or 0 when unknown.
// A dir that does not exist yet (a --keep-artifacts folder a run will make)
// is measured at its nearest existing parent, where it will be made.
func DiskFree(dir string) int64 {
	dir = filepath.Clean(dir)
	for {
		var st syscall.Statfs_t
		err := syscall.Statfs(dir, &st)
		if err == nil {
			return int64(st.Bavail) * st.Bsize
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, fs.ErrNotExist) || parent == dir {
			return 0
		}
		dir = parent
	}
}
