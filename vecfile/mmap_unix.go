//go:build unix

package vecfile

import (
	"os"

	"golang.org/x/sys/unix"
)

func mmapFile(f *os.File, size int64) ([]byte, error) {
	if size <= 0 || int64(int(size)) != size {
		return nil, unix.EINVAL
	}
	return unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
}

// mmapAnon returns size bytes of private anonymous memory, outside the Go
// heap, zeroed, for munmap to release.
func mmapAnon(size int) ([]byte, error) {
	if size <= 0 {
		return nil, unix.EINVAL
	}
	return unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
}

func munmap(b []byte) error { return unix.Munmap(b) }
