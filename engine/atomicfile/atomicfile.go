package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/novelfactory/runner/internal/flock"
)

// File is a pending replacement of a destination path. Write to it, then call
// Commit to rename it into place, or Abort to throw it away. Abort after
// Commit is a no-op, so `defer f.Abort()` is always safe.
type File struct {
	*os.File
	dest string
	done bool
}

// ErrNotRegular is the error of Create when dest is something other than a
// regular file: a folder, a named pipe, a device, a socket. The rename
// would replace it with a regular file (as root, /dev/null with one), or
// fail only once the data is written.
var ErrNotRegular = errors.New("not a regular file")

// Create starts writing a replacement for dest with the given permissions.
// Temp files of dest that a killed process left are removed first. dest
// may be missing, a regular file, or a link to one; anything else is
// refused with ErrNotRegular, and nothing is changed.
func Create(dest string, perm os.FileMode) (*File, error) {
	if err := CheckRegular(dest); err != nil {
		return nil, err
	}
	dir := filepath.Dir(dest)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create directory for %s: %w", dest, err)
	}
	tmp, err := CreateTemp(dest)
	if err != nil {
		return nil, err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("chmod temp file for %s: %w", dest, err)
	}
	return &File{File: tmp, dest: dest}, nil
}

// CheckRegular refuses, with ErrNotRegular, a dest that exists (through
// links) and is not a regular file: what Create refuses, for a caller that
// checks a user's path before doing any work.
func CheckRegular(dest string) error {
	fi, err := os.Stat(dest)
	if err != nil || fi.Mode().IsRegular() {
		return nil // missing (or unreadable): Create's own steps say why
	}
	return fmt.Errorf("replace %s: it is %s, %w", dest, kindOf(fi.Mode()), ErrNotRegular)
}

// kindOf names the kind of a file that is not a regular one.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return "a special file"
	}
}

// Commit syncs the data and renames the temp file over the destination.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("commit %s: already finished", f.dest)
	}
	f.done = true
	if err := f.File.Sync(); err != nil {
		f.File.Close()
		os.Remove(f.Name())
		return fmt.Errorf("sync %s: %w", f.dest, err)
	}
	if renameWhileOpen {
		// Renamed while still locked: closed first, another writer of
		// dest could take it for a killed process's temp file and remove
		// it before the rename.
		if err := os.Rename(f.Name(), f.dest); err != nil {
			f.File.Close()
			os.Remove(f.Name())
			return fmt.Errorf("rename into %s: %w", f.dest, err)
		}
		if err := f.File.Close(); err != nil {
			return fmt.Errorf("close %s: %w", f.dest, err)
		}
		return nil
	}
	if err := f.File.Close(); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("close %s: %w", f.dest, err)
	}
	if err := os.Rename(f.Name(), f.dest); err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("rename into %s: %w", f.dest, err)
	}
	return nil
}

// Abort removes the temp file, leaving the destination untouched.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.File.Close()
	os.Remove(f.Name())
}

// WriteFile atomically replaces dest with data.
func WriteFile(dest string, data []byte, perm os.FileMode) error {
	f, err := Create(dest, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	return f.Commit()
}

// Copy atomically replaces dest with everything read from r.
func Copy(dest string, r io.Reader, perm os.FileMode) (int64, error) {
	f, err := Create(dest, perm)
	if err != nil {
		return 0, err
	}
	defer f.Abort()
	n, err := io.Copy(f, r)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", dest, err)
	}
	return n, f.Commit()
}

// tempInfix marks the name of a temp file: "." + base + tempInfix + a
// suffix of suffixLen hex digits. Only names of exactly that shape are
// ever taken for temp files, so that a user's ".notes.tmp-old" is never
// removed as one.
const (
	tempInfix = ".tmp-"
	suffixLen = 12
)

// TempPrefix is the start of the names of dest's temp files.
func TempPrefix(dest string) string { return "." + filepath.Base(dest) + tempInfix }

// IsTemp reports whether path is a temp file of dest.
func IsTemp(path, dest string) bool {
	return filepath.Dir(path) == filepath.Dir(dest) && hasSuffix(filepath.Base(path), TempPrefix(dest))
}

// IsTempName reports whether a file name is that of some temp file.
func IsTempName(name string) bool {
	i := strings.LastIndex(name, tempInfix)
	return strings.HasPrefix(name, ".") && i > 0 && hasSuffix(name, name[:i+len(tempInfix)])
}

// hasSuffix reports whether name is prefix followed by a random suffix.
func hasSuffix(name, prefix string) bool {
	if len(name) != len(prefix)+suffixLen || !strings.HasPrefix(name, prefix) {
		return false
	}
	for _, c := range name[len(prefix):] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func randomSuffix() string {
	var b [suffixLen / 2]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CreateTemp creates a temp file for dest in dest's folder, after removing
// the stale ones of dest. It is locked (flock) until closed, so that a
// later run can tell a live temp file from one a killed process left: the
// kernel drops the lock when its holder dies, even by kill -9.
func CreateTemp(dest string) (*os.File, error) {
	dir := filepath.Dir(dest)
	RemoveStale(dir, TempPrefix(dest))
	var lastErr error
	for range 100 {
		tmp, err := os.OpenFile(filepath.Join(dir, TempPrefix(dest)+randomSuffix()), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create temp file for %s: %w", dest, err)
		}
		// Until it is locked, another writer of dest may take it for a
		// killed process's and remove it (or hold it to probe, then remove
		// it): then take another name.
		if err := lock(tmp); err != nil {
			tmp.Close()
			lastErr = fmt.Errorf("lock temp file for %s: %w", dest, err)
			continue
		}
		if !stillThere(tmp) {
			tmp.Close()
			lastErr = fmt.Errorf("create temp file for %s: another writer removed it", dest)
			continue
		}
		return tmp, nil
	}
	if lastErr != nil {
		return nil, lastErr
	}
	return nil, fmt.Errorf("create temp file for %s: no free name", dest)
}

// TempDir creates a locked temp folder in parent, named prefix + random,
// with perm less the umask (a folder renamed into place gets the mode any
// new folder would), for work that is renamed into place when done. Call
// release when done with it (after the rename or the removal).
func TempDir(parent, prefix string, perm os.FileMode) (path string, release func(), err error) {
	RemoveStaleDirs(parent, prefix)
	for range 100 {
		path = filepath.Join(parent, prefix+randomSuffix())
		if err = os.Mkdir(path, perm); !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return "", nil, fmt.Errorf("create temp folder in %s: %w", parent, err)
	}
	f, err := os.Open(path)
	if err == nil {
		// Windows cannot lock a folder: the folder is then unlocked, and
		// Stale never calls it stale (see docs/platforms.md).
		if err = lock(f); errors.Is(err, flock.ErrUnsupported) {
			err = nil
		} else if err != nil {
			f.Close()
		}
	}
	if err != nil {
		os.Remove(path)
		return "", nil, fmt.Errorf("lock temp folder %s: %w", path, err)
	}
	return path, func() { f.Close() }, nil
}

// RemoveStale removes the files in dir named prefix and a random suffix
// (as CreateTemp names them) that no live process holds: temp files of a
// run that was killed. It returns the paths it removed.
func RemoveStale(dir, prefix string) []string { return removeStale(dir, prefix, false) }

// RemoveStaleDirs removes the folders in dir named prefix and a random
// suffix (as TempDir names them) that no live process holds, with what
// they hold. A mount point is never removed, nor emptied.
func RemoveStaleDirs(dir, prefix string) []string { return removeStale(dir, prefix, true) }

func removeStale(dir, prefix string, dirs bool) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	parent, err := os.Stat(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range entries {
		if !hasSuffix(e.Name(), prefix) || e.IsDir() != dirs || !e.IsDir() && !e.Type().IsRegular() {
			continue // not ours: a link, a pipe, a file where a folder would be
		}
		p := filepath.Join(dir, e.Name())
		info, err := os.Lstat(p)
		if err != nil || !sameDevice(info, parent) {
			continue // a mount point
		}
		if Stale(p) && os.RemoveAll(p) == nil {
			removed = append(removed, p)
		}
	}
	return removed
}

// Stale reports whether the temp file or folder at path is held by no live
// process.
func Stale(path string) bool {
	f, err := openProbe(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return lock(f) == nil // closing drops our probe's lock; a folder on Windows is never stale
}

// stillThere reports whether f is still the file at its name.
func stillThere(f *os.File) bool {
	have, err := f.Stat()
	if err != nil {
		return false
	}
	now, err := os.Lstat(f.Name())
	return err == nil && os.SameFile(have, now)
}

func lock(f *os.File) error { return flock.TryExclusive(f) }
