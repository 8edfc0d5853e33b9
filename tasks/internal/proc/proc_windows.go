//go:build windows

package proc

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// sysProcAttr starts a command in a process group of its own, so that a
// Ctrl+C at runner's console is runner's to handle, not the command's.
// Windows ends the command's tree on cancellation with TerminateProcess
// (see procgroup); a command whose runner is killed goes on, and the next
// run of the recipe reports it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{CreationFlags: windows.CREATE_NEW_PROCESS_GROUP}
}

// BecomeSubreaper does nothing: Windows has no zombies to reap.
func BecomeSubreaper() {}
