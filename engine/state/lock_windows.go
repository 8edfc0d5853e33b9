//go:build windows

package state

import (
	"fmt"
	"os"
	"path/filepath"
)

// folderID is not available on Windows from a FileInfo alone (it carries
// no file index): the lock is then named by the recipe's absolute path,
// links resolved, so a recipe reached through a junction or a second
// drive letter gets a lock of its own — the recipe file's own lock still
// catches a second run of it.
func folderID(os.FileInfo) (string, bool) { return "", false }

// runtimeDir is the user's own folder for locks: runner in the user's
// temp folder (%TEMP%, under the user's profile, which Windows' ACLs keep
// private). Unix permission bits mean little on Windows, so they are not
// checked; the folder must be a folder, not a link.
func runtimeDir() (string, error) {
	dir := filepath.Join(os.TempDir(), "runner")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("make the lock folder: %w", err)
	}
	info, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !info.IsDir() {
		return "", fmt.Errorf("%s is not a folder: remove it (runner keeps its locks there)", dir)
	}
	return dir, nil
}
