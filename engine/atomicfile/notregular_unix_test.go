//go:build unix

package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/novelfactory/runner/engine/atomicfile"
)

// TestANamedPipeIsNeverReplaced: the rename put a regular file where a
// named pipe was (and, as root, where /dev/null was).
func TestANamedPipeIsNeverReplaced(t *testing.T) {
	dir := t.TempDir()
	pipe := filepath.Join(dir, "out")
	if err := syscall.Mkfifo(pipe, 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(pipe, link); err != nil {
		t.Fatal(err)
	}
	for _, dest := range []string{pipe, link} {
		err := atomicfile.WriteFile(dest, []byte("data"), 0o644)
		if !errors.Is(err, atomicfile.ErrNotRegular) {
			t.Errorf("WriteFile(%s) = %v, want ErrNotRegular", dest, err)
		}
	}
	if fi, err := os.Stat(pipe); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe is now %v (%v)", fi.Mode(), err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("files left behind: %v", entries)
	}
}
