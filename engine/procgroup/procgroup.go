// Package procgroup answers questions about process groups from the
// kernel: is anything of a group still running, when did a process start,
// and ends a group politely, then not. Linux only (it reads /proc). It
// starts no process itself.
package procgroup

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Alive reports whether any process of the group pgid is running. A
// zombie — dead, waiting for a parent that may never reap it (a container
// without an init) — does not count.
func Alive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return true // cannot tell: the kernel said it exists
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok && st.pgrp == pgid && st.state != "Z" && st.state != "X" {
			return true
		}
	}
	return false
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

// Stop ends the group pgid, if anything of it runs: SIGTERM, then SIGKILL
// when it has not ended after grace.
func Stop(pgid int, grace time.Duration) {
	if !Alive(pgid) {
		return
	}
	syscall.Kill(-pgid, syscall.SIGTERM)
	for deadline := time.Now().Add(grace); Alive(pgid) && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
}

// BootID identifies the machine's current boot: process ids and start
// times mean nothing across a reboot.
func BootID() string {
	data, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(data))
}

type stat struct {
	state string
	pgrp  int
	start uint64
}

// readStat reads /proc/PID/stat: state (field 3), process group (field 5)
// and start time (field 22).
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
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return stat{state: f[0], pgrp: pgrp, start: start}, true
}
