//go:build windows

package staging

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// errNotEmpty is what renaming onto a folder that is not empty fails with.
const errNotEmpty = windows.ERROR_DIR_NOT_EMPTY

// move renames from (a path in root src) to to (a path in root dst).
// Windows has no renameat: the roots' paths are joined, so a junction
// swapped in for a folder on the way between the checks and the rename
// would be followed.
func move(src *os.Root, from string, dst *os.Root, to string) error {
	return os.Rename(filepath.Join(src.Name(), from), filepath.Join(dst.Name(), to))
}
