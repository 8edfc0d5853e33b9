//go:build unix

package state

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// folderID identifies a folder whatever path reaches it: its device and
// inode.
func folderID(info os.FileInfo) (string, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%d:%d", st.Dev, st.Ino), true
}

// runtimeDir is the user's own folder for locks: $XDG_RUNTIME_DIR/runner;
// else /run/runner for root; else runner-UID in the temp folder. It is
// made private and checked to be the user's.
func runtimeDir() (string, error) {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	switch {
	case dir != "":
		dir = filepath.Join(dir, "runner")
	case os.Geteuid() == 0 && syscall.Access("/run", 2 /* W_OK */) == nil:
		dir = "/run/runner"
	default:
		dir = filepath.Join(os.TempDir(), fmt.Sprintf("runner-%d", os.Geteuid()))
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("make the lock folder: %w", err)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	st, ok := info.Sys().(*syscall.Stat_t)
	if !info.IsDir() || !ok || int(st.Uid) != os.Geteuid() || info.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("%s is not a private folder of this user: remove it (runner keeps its locks there)", dir)
	}
	return dir, nil
}
