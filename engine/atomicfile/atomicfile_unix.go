//go:build unix

package atomicfile

import (
	"os"
	"syscall"
)

func sameDevice(a, b os.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Dev == sb.Dev
}

// openProbe opens path to try its lock: never through a link, never
// blocking on a named pipe.
func openProbe(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
}

// renameWhileOpen: Unix renames an open file; the temp file stays locked
// until it has its final name.
const renameWhileOpen = true
