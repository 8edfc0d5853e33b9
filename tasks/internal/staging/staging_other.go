//go:build !linux

package staging

import (
	"io/fs"
	"os"
	"runtime"
)

// syncFS flushes every staged file, and on macOS every staged folder, one
// by one: macOS and Windows have no syncfs(2). On macOS File.Sync is
// F_FULLFSYNC, which reaches the disk itself; Windows' FlushFileBuffers
// cannot flush a folder, so there only files are flushed.
func syncFS(root *os.Root, _ *os.File) error {
	return fs.WalkDir(root.FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && runtime.GOOS == "windows" || !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		f, err := root.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
