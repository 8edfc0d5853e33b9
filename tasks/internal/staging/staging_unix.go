//go:build unix

package staging

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// errNotEmpty is what renaming onto a folder that is not empty fails with.
const errNotEmpty = unix.ENOTEMPTY

// move renames from (a path in root src) to to (a path in root dst) by
// name, through their folders opened in each root.
func move(src *os.Root, from string, dst *os.Root, to string) error {
	fromDir, err := src.Open(filepath.Dir(from))
	if err != nil {
		return err
	}
	defer fromDir.Close()
	toDir, err := dst.Open(filepath.Dir(to))
	if err != nil {
		return err
	}
	defer toDir.Close()
	return unix.Renameat(int(fromDir.Fd()), filepath.Base(from), int(toDir.Fd()), filepath.Base(to))
}
