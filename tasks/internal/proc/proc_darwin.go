//go:build darwin

package proc

import "syscall"

// sysProcAttr starts a command in a session of its own. macOS has no
// parent-death signal: a command whose runner is killed with SIGKILL goes
// on, and the next run of the recipe reports it (state.OrphansError).
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }

// BecomeSubreaper does nothing: macOS has no child subreaper; orphans go
// to launchd and are found by their session.
func BecomeSubreaper() {}
