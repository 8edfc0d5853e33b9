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

// BecomeSubreaper makes orphans of the commands runner starts come back
// to it (PR_SET_CHILD_SUBREAPER), so that they can be found and stopped.
func BecomeSubreaper() { unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) }
