// Package pidtemp names temporary directories and files after the process
// that made them, so that a later run can remove those left behind by a
// process that was killed before it could clean up (SIGKILL, a crash, the
// machine's OOM killer), and only those: an entry is removed when its name
// is in the caller's own pattern, it is a directory or regular file owned by
// this user (never a symbolic link, never followed), and the process named
// in it no longer exists.
package pidtemp

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// MkdirTemp creates a new directory in dir (os.TempDir() when "") named
// prefix + "pid" + this process's ID + "-" + tag + "-" + a random number,
// e.g. kura-loadtest-pid4242-1000-81723. prefix and tag must not hold a
// path separator.
func MkdirTemp(dir, prefix, tag string) (string, error) {
	return os.MkdirTemp(dir, fmt.Sprintf("%spid%d-%s-", prefix, os.Getpid(), tag))
}

// PID returns the process ID in name when name is prefix + "pid" + digits +
// "-" + anything, as MkdirTemp makes it.
func PID(name, prefix string) (int, bool) {
	rest, ok := strings.CutPrefix(name, prefix+"pid")
	if !ok {
		return 0, false
	}
	digits, _, ok := strings.Cut(rest, "-")
	if !ok || digits == "" || len(digits) > 10 {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	pid, err := strconv.Atoi(digits)
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, true
}

// RemoveStale removes the entries of dir (os.TempDir() when "") that
// MkdirTemp made with prefix in processes that no longer exist, and
// returns their paths. Entries that are symbolic links, owned by another
// user, or named for a live process (or this one) are left alone.
func RemoveStale(dir, prefix string) ([]string, error) {
	return removeStale(dir, func(name string) (int, bool) { return PID(name, prefix) })
}

// RemoveStaleFunc is RemoveStale with the caller's own reading of a name:
// pidOf returns the process that made an entry, or false when the name is
// not one of the caller's.
func RemoveStaleFunc(dir string, pidOf func(name string) (int, bool)) ([]string, error) {
	return removeStale(dir, pidOf)
}

func removeStale(dir string, pidOf func(string) (int, bool)) ([]string, error) {
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var removed []string
	var errs []error
	for _, e := range entries {
		pid, ok := pidOf(e.Name())
		if !ok || pid == os.Getpid() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		fi, err := os.Lstat(path)
		if err != nil || !(fi.IsDir() || fi.Mode().IsRegular()) || !ownedByMe(fi) {
			continue // gone, a symbolic link or a device, or someone else's
		}
		if !Dead(pid) {
			continue
		}
		if err := os.RemoveAll(path); err != nil { // RemoveAll never follows links inside
			errs = append(errs, err)
			continue
		}
		slog.Debug("removed a temporary entry of a process that no longer exists", "path", path, "pid", pid)
		removed = append(removed, path)
	}
	return removed, errors.Join(errs...)
}

// ownedByMe reports whether this user owns fi's file.
func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// Dead reports whether process pid no longer exists (or is a zombie, which
// runs nothing and waits only to be reaped). A process of another user
// counts as alive.
func Dead(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	if errors.Is(err, syscall.ESRCH) {
		return true
	}
	if err != nil {
		return false // EPERM: it exists, another user's
	}
	// Linux: a zombie still answers signal 0.
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}
