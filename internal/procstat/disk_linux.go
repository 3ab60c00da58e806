package procstat

import "syscall"

// DiskFree returns the bytes an unprivileged process can still write to the
// file system that holds dir (statfs f_bavail × f_bsize), or 0 when unknown.
func DiskFree(dir string) int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0
	}
	return int64(st.Bavail) * st.Bsize
}
