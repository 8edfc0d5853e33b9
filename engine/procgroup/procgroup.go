// Package procgroup answers questions about a task's processes from the
// kernel and ends them. It starts no process itself.
//
// On Linux and macOS a task's command starts its own session (setsid),
// which is also its own process group; a process it starts stays in that
// session even when it makes a process group of its own (setpgid), so the
// session id — the command's pid — finds them all, unless one starts a
// session of its own (a daemon that detaches on purpose). Linux reads
// /proc; macOS asks sysctl(kern.proc). Only Linux adopts orphans (runner
// is a child subreaper there): on macOS an orphan goes to launchd, which
// reaps it, and is still found by its session.
//
// Windows has neither sessions nor process groups in this sense, nor
// signals: there the id is the command's process id, its processes are
// the command and its descendants (found by parent process id, each born
// after its parent), and every way of ending them — SIGTERM included — is
// TerminateProcess, at once: a Windows task gets no grace period. A
// descendant whose parent has already ended is no longer linked to the
// command, and is not found. See docs/platforms.md.
package procgroup

import "time"

// Alive reports whether any process of the session (or process group) id
// is running. A zombie — dead, waiting for a parent that may never reap it
// (a container without an init) — does not count. It reads every process
// of the machine: for checks that are rare, such as taking a lock.
func Alive(id int) bool { return len(Members(id)) > 0 }

// Stop ends the session id, if anything of it runs: SIGTERM, then SIGKILL
// for what has not ended after grace; then it reaps what it adopted.
func Stop(id int, grace time.Duration) {
	if Alive(id) {
		Signal(id, sigterm)
		for deadline := time.Now().Add(grace); Alive(id) && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		Kill(id)
	}
	Reap(id)
}
