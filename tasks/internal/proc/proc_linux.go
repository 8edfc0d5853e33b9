//go:build linux

package proc

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr starts a command in a session of its own that gets SIGKILL
// from the kernel when runner dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
}

// becomeSubreaper makes orphans of the commands come back to runner.
func becomeSubreaper() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }
