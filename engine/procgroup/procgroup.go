// Package procgroup answers questions about a task's processes from the
// kernel and ends them. A task's command starts its own session (setsid),
// which is also its own process group; a process it starts stays in that
// session even when it makes a process group of its own (setpgid), so the
// session id — the command's pid — finds them all, unless one starts a
// session of its own (a daemon that detaches on purpose). Linux only (it
// reads /proc). It starts no process itself.
package procgroup

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Alive reports whether any process of the session (or process group) id
// is running. A zombie — dead, waiting for a parent that may never reap it
// (a container without an init) — does not count. It reads every process
// of the machine: for checks that are rare, such as taking a lock.
func Alive(id int) bool { return len(Members(id)) > 0 }

// Members returns the running processes whose session or process group is
// id.
func Members(id int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		if syscall.Kill(-id, 0) == nil {
			return []int{id} // cannot look: the kernel said the group exists
		}
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok && (st.session == id || st.pgrp == id) && alive(pid, st.state) {
			pids = append(pids, pid)
		}
	}
	return pids
}

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

// Stop ends the session id, if anything of it runs: SIGTERM, then SIGKILL
// for what has not ended after grace; then it reaps what it adopted.
func Stop(id int, grace time.Duration) {
	if Alive(id) {
		Signal(id, syscall.SIGTERM)
		for deadline := time.Now().Add(grace); Alive(id) && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		Kill(id)
	}
	Reap(id)
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

// ReapOrphans collects the exit of every child of this process's main
// thread that has ended and is not running's (a command runner started and
// waits for itself): orphans of any session, which would otherwise stay
// zombies until runner exits — a long run could use up the process ids. A
// child that ended within a second of its start is left: it may be a
// command runner has just started and not yet told running about.
func ReapOrphans(running func(pid int) bool) {
	var now unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &now) != nil {
		return
	}
	ticks := uint64(now.Sec)*clockTicks + uint64(now.Nsec)/(1e9/clockTicks)
	for _, pid := range adopted() {
		st, ok := readStat(pid)
		if !ok || alive(pid, st.state) || running(pid) || ticks-st.start < clockTicks {
			continue
		}
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}

// clockTicks is USER_HZ, the unit of /proc's times: 100 on Linux.
const clockTicks = 100

// adopted returns the children of this process's main thread: the
// orphans it adopted as a subreaper (the kernel gives them to the thread
// group's leader) and the children that thread started itself.
func adopted() []int {
	data, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(os.Getpid()) + "/children")
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// StartTime is the start of process pid in clock ticks since boot, or 0
// when there is no such process.
func StartTime(pid int) uint64 {
	st, ok := readStat(pid)
	if !ok {
		return 0
	}
	return st.start
}

// BootID identifies the machine's current boot: process ids and start
// times mean nothing across a reboot.
func BootID() string {
	data, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(data))
}

// alive reports whether process pid, in state, still runs: not dead, not
// a zombie — but a zombie leader whose other threads go on is alive.
func alive(pid int, state string) bool {
	switch state {
	case "X", "x":
		return false
	case "Z":
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
		return err == nil && len(tasks) > 1
	}
	return true
}

type stat struct {
	state         string
	pgrp, session int
	start         uint64
}

// readStat reads /proc/PID/stat: state (field 3), process group (field 5),
// session (field 6) and start time (field 22).
func readStat(pid int) (stat, bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return stat{}, false
	}
	// The command name, field 2, is in parentheses and may hold anything.
	rest := string(data)
	i := strings.LastIndexByte(rest, ')')
	if i < 0 {
		return stat{}, false
	}
	f := strings.Fields(rest[i+1:]) // f[0] is field 3
	if len(f) < 20 {
		return stat{}, false
	}
	pgrp, _ := strconv.Atoi(f[2])
	session, _ := strconv.Atoi(f[3])
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return stat{state: f[0], pgrp: pgrp, session: session, start: start}, true
}
