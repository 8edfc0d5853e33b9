//go:build windows

package procgroup

import (
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

const sigterm = syscall.SIGTERM

// Members returns the running processes of id: the process id itself and
// its descendants. A process is a descendant when its parent is, and it
// was created after that parent (a parent id alone may name a process
// that has since ended and whose id was given to another).
func Members(id int) []int {
	procs := snapshot()
	if procs == nil {
		if Exists(id) {
			return []int{id}
		}
		return nil
	}
	created := map[uint32]int64{}
	children := map[uint32][]uint32{}
	for _, p := range procs {
		created[p.pid] = creationTime(p.pid)
		children[p.parent] = append(children[p.parent], p.pid)
	}
	root := uint32(id)
	if _, ok := created[root]; !ok {
		return nil
	}
	pids := []int{id}
	queue := []uint32{root}
	seen := map[uint32]bool{root: true}
	for len(queue) > 0 {
		parent := queue[0]
		queue = queue[1:]
		for _, c := range children[parent] {
			if seen[c] || created[c] < created[parent] {
				continue
			}
			seen[c] = true
			pids = append(pids, int(c))
			queue = append(queue, c)
		}
	}
	return pids
}

// Leftovers reports whether anything of id still runs.
func Leftovers(id int) bool { return Alive(id) }

// Signal ends the processes of id: Windows has no signals to send, so
// whatever sig is, each process is terminated at once, as by SIGKILL.
func Signal(id int, sig syscall.Signal) { Kill(id) }

// Kill ends every process of id with TerminateProcess, parents first so
// that none starts another meanwhile, again until none is left.
func Kill(id int) {
	for range 1000 {
		pids := Members(id)
		if len(pids) == 0 {
			return
		}
		for _, pid := range pids {
			terminate(pid)
		}
		time.Sleep(time.Millisecond) // the kernel ends them
	}
}

// Reap does nothing on Windows: an ended process leaves no zombie.
func Reap(id int) {}

// ReapOrphans does nothing on Windows: an ended process leaves no zombie.
func ReapOrphans(running func(pid int) bool) {}

// Exists reports whether process pid runs.
func Exists(pid int) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return err == windows.ERROR_ACCESS_DENIED // it exists, but is not ours to look at
	}
	defer windows.CloseHandle(h)
	var code uint32
	if windows.GetExitCodeProcess(h, &code) != nil {
		return true
	}
	return code == 259 // STILL_ACTIVE
}

// StartTime is the creation time of process pid, in 100-nanosecond
// intervals since 1601, or 0 when there is no such process.
func StartTime(pid int) uint64 {
	t := creationTime(uint32(pid))
	if t < 0 {
		return 0
	}
	return uint64(t)
}

// BootID identifies the machine's current boot: the boot time, to the
// second (now minus the time since boot). Two readings of it can differ by
// a second at a tick's edge; a holder from this boot then looks like one of
// a former boot, and its leftovers go unnoticed rather than wrongly
// reported.
func BootID() string {
	up := time.Duration(windows.DurationSinceBoot())
	return time.Now().Add(-up).UTC().Truncate(time.Second).Format(time.RFC3339)
}

type process struct{ pid, parent uint32 }

// snapshot lists every process of the machine and its parent's id.
func snapshot() []process {
	h, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil
	}
	defer windows.CloseHandle(h)
	var e windows.ProcessEntry32
	e.Size = uint32(unsafe.Sizeof(e))
	var procs []process
	for err = windows.Process32First(h, &e); err == nil; err = windows.Process32Next(h, &e) {
		procs = append(procs, process{pid: e.ProcessID, parent: e.ParentProcessID})
	}
	return procs
}

// creationTime is when process pid was created, or -1 when it cannot be
// asked.
func creationTime(pid uint32) int64 {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return -1
	}
	defer windows.CloseHandle(h)
	var created, exited, kernel, user windows.Filetime
	if windows.GetProcessTimes(h, &created, &exited, &kernel, &user) != nil {
		return -1
	}
	return int64(created.HighDateTime)<<32 | int64(created.LowDateTime)
}

func terminate(pid int) {
	h, err := windows.OpenProcess(windows.PROCESS_TERMINATE, false, uint32(pid))
	if err != nil {
		return
	}
	windows.TerminateProcess(h, 1)
	windows.CloseHandle(h)
}
