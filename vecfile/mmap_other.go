//go:build !unix

package vecfile

import (
	"errors"
	"os"
)

func mmapFile(f *os.File, size int64) ([]byte, error) {
	return nil, errors.New("mmap not supported on this platform")
}

func mmapAnon(size int) ([]byte, error) {
	return nil, errors.New("mmap not supported on this platform")
}

func munmap(b []byte) error { return nil }
