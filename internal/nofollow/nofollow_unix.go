//go:build unix

package nofollow

import (
	"os"
	"syscall"
)

// OpenFile is os.OpenFile with O_NOFOLLOW: a symbolic link as path's last
// element fails with the kernel's ELOOP.
func OpenFile(path string, flag int, perm os.FileMode) (*os.File, error) {
	return os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
}
