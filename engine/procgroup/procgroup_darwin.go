//go:build darwin

package procgroup

import (
	"os"

	"golang.org/x/sys/unix"
)

// Members returns the running processes whose session or process group is
// id.
func Members(id int) []int {
	procs, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		if unix.Kill(-id, 0) == nil {
			return []int{id} // cannot look: the kernel said the group exists
		}
		return nil
	}
	var pids []int
	for i := range procs {
		st := statOf(&procs[i])
		if (st.session == id || st.pgrp == id) && alive(st.pid, st.state) {
			pids = append(pids, st.pid)
		}
	}
	return pids
}

// ReapOrphans does nothing on macOS: it has no child subreaper, so the
// orphans of a task go to launchd, which reaps them, and the only
// children of runner are the commands it waits for itself.
func ReapOrphans(running func(pid int) bool) {}

// adopted returns the children of this process — on macOS only the
// commands it started, since orphans are not adopted.
func adopted() []int {
	procs, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil
	}
	var pids []int
	for i := range procs {
		if int(procs[i].Eproc.Ppid) == os.Getpid() {
			pids = append(pids, int(procs[i].Proc.P_pid))
		}
	}
	return pids
}

// StartTime is the start of process pid, in microseconds since the epoch
// (macOS records the wall clock at a process's start), or 0 when there is
// no such process. It is compared only with itself, to tell whether a pid
// now belongs to another process.
func StartTime(pid int) uint64 {
	st, ok := readStat(pid)
	if !ok {
		return 0
	}
	return st.start
}

// BootID identifies the machine's current boot (kern.bootsessionuuid):
// process ids and start times mean nothing across a reboot.
func BootID() string {
	id, _ := unix.Sysctl("kern.bootsessionuuid")
	return id
}

// alive reports whether process pid, in state, still runs: not a zombie.
func alive(_ int, state string) bool { return state != "Z" }

type stat struct {
	pid           int
	state         string // as in /proc on Linux: T stopped, Z zombie
	pgrp, session int
	start         uint64
}

// readStat asks the kernel for process pid.
func readStat(pid int) (stat, bool) {
	p, err := unix.SysctlKinfoProc("kern.proc.pid", pid)
	if err != nil || p == nil || int(p.Proc.P_pid) != pid {
		return stat{}, false
	}
	return statOf(p), true
}

// statOf reads a kinfo_proc. Its session is a kernel pointer, so the
// session id is asked for with getsid(2); a process gone since is left
// with no session.
func statOf(p *unix.KinfoProc) stat {
	pid := int(p.Proc.P_pid)
	st := stat{pid: pid, pgrp: int(p.Eproc.Pgid), session: -1}
	if sid, err := unix.Getsid(pid); err == nil {
		st.session = sid
	}
	switch p.Proc.P_stat {
	case 4: // SSTOP
		st.state = "T"
	case 5: // SZOMB
		st.state = "Z"
	default:
		st.state = "R"
	}
	tv := p.Proc.P_starttime
	st.start = uint64(tv.Sec)*1e6 + uint64(tv.Usec)
	return st
}
