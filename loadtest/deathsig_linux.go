package loadtest

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the worker when the load test's
// process dies, even by SIGKILL, so that no orphan worker goes on using
// memory and CPU (issue 13). Pdeathsig follows the OS thread that started
// the child: the Go runtime ends a thread only when a goroutine locked to
// it returns, which the goroutine starting workers (an ordinary one) is not.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
