// Package outfile writes output files safely: each file is written to a
// temporary file beside its target and moved into place only when complete,
// so that a failure or an interruption never leaves a truncated file under
// the final name nor destroys the file it would have replaced; and it
// refuses outputs that would overwrite an input.
package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/kura-go/kura/internal/pidtemp"
)

// File is an output file being written. Write to it, then Commit to move it
// into place, or Abort to discard it. The zero File is not usable; see Create.
type File struct {
	*os.File
	path string
	done bool
}

// Create starts writing path. The directory of path must exist; the error
// names path and says so otherwise, rather than naming the temporary file.
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := CheckDir(path); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, fmt.Sprintf(".%s.pid%d-*.tmp", filepath.Base(path), os.Getpid()))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	return &File{File: tmp, path: path}, nil
}

// staleTempPID returns the PID in the name of a temporary file Create
// makes, .NAME.pidPID-N.tmp (NAME any characters but a newline, PID as
// pidtemp.PID reads it, N of at least one digit), and whether name is one.
// It is written out rather than a regular expression, whose compilation
// took 0.6 ms of every kura start.
func staleTempPID(name string) (int, bool) {
	rest, ok := strings.CutSuffix(name, ".tmp")
	i := strings.LastIndex(rest, ".pid")
	if !ok || i < 2 || rest[0] != '.' || strings.IndexByte(rest[:i], '\n') >= 0 {
		return 0, false
	}
	if _, n, _ := strings.Cut(rest[i:], "-"); !allDigits(n) {
		return 0, false
	}
	return pidtemp.PID(rest[i+1:], "")
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// RemoveStaleTemps removes from dir the temporary files that Create made in
// processes killed before they could commit or abort them (SIGKILL, the OOM
// killer): those whose process no longer exists. Files of running
// processes, links and other users' files are left alone (see
// internal/pidtemp). It returns the files removed.
func RemoveStaleTemps(dir string) ([]string, error) {
	if dir == "" {
		dir = "."
	}
	return pidtemp.RemoveStaleFunc(dir, staleTempPID)
}

// Path returns the final path of the file.
func (f *File) Path() string { return f.path }

// Commit flushes the file to disk (fsync), closes it, renames it to its
// final path, replacing any file there, and flushes the directory. The new file gets the mode of the
// file it replaces, else 0644.
// On failure the temporary file is removed and the target left untouched.
// Commit after Commit or Abort is a no-op.
func (f *File) Commit() error {
	if f.done {
		return nil
	}
	f.done = true
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(f.path); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	err := f.File.Chmod(mode)
	if err == nil {
		err = f.File.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = rename(f.File.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.File.Name())
		return fmt.Errorf("write %s: %w", f.path, err)
	}
	return nil
}

// Move puts tmp, a complete file its caller wrote under a name of its own
// (a resumable download, a temporary named for the process writing it),
// in place as final: it flushes tmp to disk, renames it over final and
// flushes the directory, so that after a crash final is the old file or the
// whole new one. tmp must be on the same file system as final (beside it).
// On failure tmp is left where it was, for the caller to keep or remove.
func Move(tmp, final string) error {
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("move %s to %s: %w", tmp, final, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = rename(tmp, final)
	}
	if err != nil {
		return fmt.Errorf("move %s to %s: %w", tmp, final, err)
	}
	return nil
}

// rename renames from to to and flushes their directory, so that the new
// name survives a crash. A directory that cannot be flushed (some file
// systems refuse fsync on directories) does not fail the rename.
func rename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(to)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// WriteNew writes b to path only if nothing is there, atomically: path
// appears complete or not at all, so a name can be claimed and filled in one
// step (two processes racing for it: one gets it, the other fs.ErrExist).
// The file is written beside path and hard-linked to it; where the file
// system has no hard links it is created exclusively and written in place.
// Any other failure leaves nothing at path.
func WriteNew(path string, b []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	f.done = true // this function closes and removes the temporary file
	defer os.Remove(f.File.Name())
	err = f.File.Chmod(0o644)
	if err == nil {
		_, err = f.File.Write(b)
	}
	if err == nil {
		err = f.File.Sync()
	}
	if cerr := f.File.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = os.Link(f.File.Name(), path)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("write %s: %w", path, fs.ErrExist)
	}
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.ENOTSUP) || errors.Is(err, syscall.EXDEV) {
		return writeExcl(path, b) // no hard links here
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// writeExcl creates path exclusively and writes b to it; on failure it
// removes what it created.
func writeExcl(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// WriteFile writes b to path atomically: a reader sees the old file or the
// whole new one, never a part (see Create and Commit).
func WriteFile(path string, b []byte) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// Abort discards the file; the target is left untouched. Abort after Commit
// is a no-op, so it can be deferred.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.File.Name())
}

// CheckDir reports, with a clear error naming path, whether the directory
// that would hold path is missing, is not a directory or does not take new
// files. It lets a command
// fail before doing long work whose result it could not write.
func CheckDir(path string) error {
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("output %s: directory %s does not exist", path, dir)
	case err != nil:
		return fmt.Errorf("output %s: %w", path, err)
	case !fi.IsDir():
		return fmt.Errorf("output %s: %s is not a directory", path, dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("output %s is a directory", path)
	}
	// Outputs are written beside their final name and renamed: the
	// directory must take a new file. Try it, rather than reading mode bits
	// (root, ACLs and read-only mounts make those lie).
	probe, err := os.CreateTemp(dir, ".kura-probe-*")
	if err != nil {
		return fmt.Errorf("output %s: cannot create files in %s: %w", path, dir, errors.Unwrap(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return nil
}

// CheckDistinct returns an error if any two of the named paths are the same
// file (the same path, a hard link or a symbolic link to it), or if an
// output's directory is missing. inputs are files read; outputs are files to
// be written; empty names and "-" (standard output) are ignored. Outputs
// that do not exist yet are compared by their cleaned absolute paths.
func CheckDistinct(inputs, outputs []string) error {
	type named struct {
		flag, path string
		abs        string
		fi         fs.FileInfo
	}
	var seen []named
	add := func(path string, output bool) error {
		if path == "" || path == "-" {
			return nil
		}
		if output {
			if err := CheckDir(path); err != nil {
				return err
			}
		}
		n := named{path: path}
		if abs, err := filepath.Abs(path); err == nil {
			n.abs = abs
		}
		if fi, err := os.Stat(path); err == nil {
			n.fi = fi
		}
		for _, s := range seen {
			if !output {
				break // inputs may repeat
			}
			same := n.abs != "" && n.abs == s.abs
			if !same && n.fi != nil && s.fi != nil {
				same = os.SameFile(n.fi, s.fi)
			}
			if same {
				if output && s.flag == "in" {
					return fmt.Errorf("output %s is the input file %s: refusing to overwrite the input", path, s.path)
				}
				return fmt.Errorf("outputs %s and %s are the same file", s.path, path)
			}
		}
		n.flag = "out"
		if !output {
			n.flag = "in"
		}
		seen = append(seen, n)
		return nil
	}
	for _, p := range inputs {
		if err := add(p, false); err != nil {
			return err
		}
	}
	for _, p := range outputs {
		if err := add(p, true); err != nil {
			return err
		}
	}
	return nil
}
