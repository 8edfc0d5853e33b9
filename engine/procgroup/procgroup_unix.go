//go:build linux || darwin

package procgroup

import (
	"errors"
	"slices"
	"syscall"
	"time"
)

const sigterm = syscall.SIGTERM

// Leftovers reports, cheaply, whether anything of the session id may still
// run once its leader has ended: a process of its group, or one that this
// process adopted (runner is a child subreaper: the orphans of its tasks
// become its children) and whose session is id.
func Leftovers(id int) bool {
	if err := syscall.Kill(-id, 0); err == nil || errors.Is(err, syscall.EPERM) {
		return true
	}
	for _, pid := range adopted() {
		if st, ok := readStat(pid); ok && st.session == id && alive(pid, st.state) {
			return true
		}
	}
	return false
}

// Signal sends sig to the process group id and to every process of the
// session id outside it.
func Signal(id int, sig syscall.Signal) {
	syscall.Kill(-id, sig)
	for _, pid := range Members(id) {
		syscall.Kill(pid, sig)
	}
}

// Kill ends everything of the session id and reaps what it adopted. A
// process that forks in a loop would outrun killing one generation after
// another, so the session is first frozen: SIGSTOP to every member, again,
// until two looks in a row find the same members, all stopped (a stopped
// process forks no more, and one forked just before its parent stopped
// shows in the second look); then SIGKILL to them all, until none is left.
func Kill(id int) {
	var last []int
	for range 1000 {
		pids := Members(id)
		if len(pids) == 0 {
			break
		}
		syscall.Kill(-id, syscall.SIGSTOP)
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGSTOP)
		}
		if slices.Equal(pids, last) && stopped(pids) {
			break
		}
		last = pids
		time.Sleep(time.Millisecond) // the signals take effect
	}
	for range 1000 {
		pids := Members(id)
		if len(pids) == 0 {
			break
		}
		syscall.Kill(-id, syscall.SIGKILL)
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(time.Millisecond) // the kernel ends them
	}
	Reap(id)
}

// stopped reports whether every one of pids is stopped (or gone).
func stopped(pids []int) bool {
	for _, pid := range pids {
		if st, ok := readStat(pid); ok && st.state != "T" && st.state != "t" && alive(pid, st.state) {
			return false
		}
	}
	return true
}

// Reap collects the exit of the adopted processes of session id that have
// ended, so that they do not stay zombies while runner runs. It never
// touches a child runner started itself: those lead their own session.
func Reap(id int) {
	for _, pid := range adopted() {
		if st, ok := readStat(pid); ok && st.session == id && pid != id && !alive(pid, st.state) {
			var ws syscall.WaitStatus
			syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
		}
	}
}

// Exists reports whether process pid exists — running, or a zombie not yet
// reaped — whoever owns it.
func Exists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
