//go:build unix

package fileset

import (
	"io/fs"
	"syscall"
)

// idOf identifies the file at path, described by info: its device and
// inode.
func idOf(_ string, info fs.FileInfo) fileID {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return fileID{uint64(st.Dev), st.Ino}
	}
	return fileID{}
}
