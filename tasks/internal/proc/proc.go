package proc

import (
	"os/exec"
	"syscall"
	"time"
)

// gracePeriod is how long a cancelled command gets between SIGTERM and SIGKILL.
const gracePeriod = 5 * time.Second

// Configure makes cmd (built with exec.CommandContext) run in its own
// process group and, on cancellation, signal the whole group.
func Configure(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		// A negative pid signals the process group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	}
	cmd.WaitDelay = gracePeriod
}
