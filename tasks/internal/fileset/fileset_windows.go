//go:build windows

package fileset

import (
	"hash/fnv"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// idOf identifies the file at path, described by info: its volume serial
// number and file index, asked of an open handle (a FileInfo carries
// neither on Windows); a link itself when info is a link's. A file that
// cannot be opened is identified by its absolute path, never equal to
// another file's id (volume ^0).
func idOf(path string, info fs.FileInfo) fileID {
	p, err := windows.UTF16PtrFromString(path)
	if err == nil {
		flags := uint32(windows.FILE_FLAG_BACKUP_SEMANTICS)
		if info.Mode()&fs.ModeSymlink != 0 {
			flags |= windows.FILE_FLAG_OPEN_REPARSE_POINT
		}
		h, err := windows.CreateFile(p, 0, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil, windows.OPEN_EXISTING, flags, 0)
		if err == nil {
			defer windows.CloseHandle(h)
			var d windows.ByHandleFileInformation
			if windows.GetFileInformationByHandle(h, &d) == nil {
				return fileID{uint64(d.VolumeSerialNumber), uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow)}
			}
		}
	}
	abs, _ := filepath.Abs(path)
	h := fnv.New64a()
	h.Write([]byte(abs))
	return fileID{^uint64(0), h.Sum64()}
}
