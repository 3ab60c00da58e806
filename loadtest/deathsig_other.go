//go:build !linux

package loadtest

import "os/exec"

// dieWithParent does nothing where the kernel has no parent-death signal:
// a worker whose parent was killed ends when it next writes to the closed
// pipe of its stderr or stdout.
func dieWithParent(cmd *exec.Cmd) {}
