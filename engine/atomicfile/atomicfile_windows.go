//go:build windows

package atomicfile

import (
	"os"

	"github.com/novelfactory/runner/internal/nofollow"
)

// sameDevice cannot be told from a FileInfo on Windows; a mount point
// there is a junction, which os.Lstat reports as irregular, not as a
// folder, so removeStale never enters one.
func sameDevice(a, b os.FileInfo) bool { return true }

// openProbe opens path to try its lock, never through a link.
func openProbe(path string) (*os.File, error) {
	return nofollow.OpenFile(path, os.O_RDONLY, 0)
}

// renameWhileOpen: Windows does not rename an open file.
const renameWhileOpen = false
