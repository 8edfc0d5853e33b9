//go:build !unix

package distrun

import (
	"os"
	"os/exec"
)

// ownGroup does nothing where there are no process groups.
func ownGroup(*exec.Cmd) {}

// killGroup ends p alone: without process groups its children survive it.
func killGroup(p *os.Process) error { return p.Kill() }
