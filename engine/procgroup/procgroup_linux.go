//go:build linux

package procgroup

import (
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

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
