// Package fileset lists the files under a directory that a task works on:
// include and exclude globs (with ** for any depth), in a deterministic
// order. A root that is a symbolic link is followed; links inside it are
// either reported as links (for the caller to judge) or followed. It
// reads; it never writes.
package fileset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/bmatcuk/doublestar/v4"
)

// Links says what Walk does with a symbolic link under the root.
type Links int

const (
	// KeepLinks lists a link as a link: Info is its Lstat, Target what it
	// says, Real where it leads.
	KeepLinks Links = iota
	// FollowLinks lists what a link points to in its place: a file as a
	// file, a folder walked into. A link that leads back into a folder
	// above it is an error (it would never end).
	FollowLinks
)

// Entry is one file, link or empty directory found under the root.
type Entry struct {
	Rel  string      // slash-separated path relative to the root
	Path string      // path on disk (under the root as given)
	Info fs.FileInfo // Lstat; with FollowLinks, what a link points to
	// Target is a kept link's target as written on disk.
	Target string
	// Real is where a kept link leads, every link resolved, or "" when it
	// leads nowhere (a dangling link).
	Real string
}

// IsLink reports whether the entry is a kept symbolic link.
func (e Entry) IsLink() bool { return e.Info.Mode()&fs.ModeSymlink != 0 }

// Options select entries.
type Options struct {
	Include []string // globs relative to the root; every file when empty
	Exclude []string // globs relative to the root
	Skip    []string // paths to leave out (a zip being written inside its own source)
	Dirs    bool     // also list empty directories
	Links   Links
	// Skipped, when set, hears of what was left out and why: sockets,
	// devices and pipes (not data), and with FollowLinks, dangling links.
	Skipped func(rel, why string)
}

// Walk lists the regular files (and kept links) under root that match,
// sorted by their relative path (byte order), and empty directories when
// asked. Root may be a symbolic link to a directory.
func Walk(root string, opt Options) ([]Entry, error) {
	for _, g := range append(append([]string{}, opt.Include...), opt.Exclude...) {
		if !doublestar.ValidatePattern(g) {
			return nil, fmt.Errorf("bad glob %q", g)
		}
	}
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", root, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	w := &walker{opt: opt, skip: map[fileID]bool{}}
	for _, s := range opt.Skip {
		if si, err := os.Stat(s); err == nil {
			w.skip[idOf(s, si)] = true
		}
	}
	if err := w.dir(root, "", info, nil); err != nil {
		return nil, err
	}
	sort.Slice(w.out, func(i, j int) bool { return w.out[i].Rel < w.out[j].Rel })
	return w.out, nil
}

type walker struct {
	opt  Options
	skip map[fileID]bool
	out  []Entry
}

// fileID identifies a file whatever path reaches it.
type fileID struct{ dev, ino uint64 }

// dir lists the folder at path (rel under the root); above holds the
// folders between the root and it, to catch links that loop.
func (w *walker) dir(path, rel string, info fs.FileInfo, above []fileID) error {
	above = append(above, idOf(path, info))
	entries, err := os.ReadDir(path)
	if err != nil {
		return fmt.Errorf("read folder %s: %w", path, err)
	}
	for _, d := range entries {
		p := filepath.Join(path, d.Name())
		r := d.Name()
		if rel != "" {
			r = rel + "/" + d.Name()
		}
		if err := w.entry(p, r, above); err != nil {
			return err
		}
	}
	if rel != "" && w.opt.Dirs && len(w.opt.Include) == 0 && len(entries) == 0 {
		w.out = append(w.out, Entry{Rel: rel + "/", Path: path, Info: info})
	}
	return nil
}

func (w *walker) entry(path, rel string, above []fileID) error {
	info, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	if w.skip[idOf(path, info)] || matchAny(w.opt.Exclude, rel) {
		return nil
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return w.link(path, rel, info, above)
	}
	return w.add(path, rel, info, above)
}

// add lists a file or walks a folder.
func (w *walker) add(path, rel string, info fs.FileInfo, above []fileID) error {
	switch {
	case info.IsDir():
		return w.dir(path, rel, info, above)
	case !info.Mode().IsRegular():
		w.skipped(rel, fmt.Sprintf("a %s, not data", kind(info.Mode())))
		return nil
	case len(w.opt.Include) > 0 && !matchAny(w.opt.Include, rel):
		return nil
	}
	w.out = append(w.out, Entry{Rel: rel, Path: path, Info: info})
	return nil
}

func (w *walker) link(path, rel string, info fs.FileInfo, above []fileID) error {
	target, err := os.Readlink(path)
	if err != nil {
		return fmt.Errorf("read link %s: %w", path, err)
	}
	real, rerr := filepath.EvalSymlinks(path)
	switch {
	case rerr == nil:
	case errors.Is(rerr, fs.ErrNotExist):
		real = "" // it leads nowhere
	case errors.Is(rerr, syscall.ELOOP) || strings.Contains(rerr.Error(), "too many links"):
		return fmt.Errorf("%s is a symlink loop (%s): it leads nowhere, ever", path, target)
	default:
		return fmt.Errorf("follow link %s: %w", path, rerr)
	}
	if w.opt.Links == KeepLinks {
		if len(w.opt.Include) > 0 && !matchAny(w.opt.Include, rel) {
			return nil
		}
		w.out = append(w.out, Entry{Rel: rel, Path: path, Info: info, Target: target, Real: real})
		return nil
	}
	if real == "" {
		w.skipped(rel, "a symlink to nothing ("+target+")")
		return nil
	}
	to, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("follow link %s: %w", path, err)
	}
	if to.IsDir() {
		id := idOf(real, to)
		for _, a := range above {
			if a == id {
				return fmt.Errorf("%s is a symlink to %s, a folder above it: following it would never end", path, real)
			}
		}
	}
	if w.skip[idOf(real, to)] {
		return nil
	}
	return w.add(path, rel, to, above)
}

func (w *walker) skipped(rel, why string) {
	if w.opt.Skipped != nil {
		w.opt.Skipped(rel, why)
	}
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

func matchAny(globs []string, rel string) bool {
	for _, g := range globs {
		if ok, _ := doublestar.Match(g, rel); ok {
			return true
		}
		// A pattern without a slash matches the base name at any depth,
		// as .gitignore does: exclude: ["*.tmp"].
		if !strings.Contains(g, "/") {
			if ok, _ := doublestar.Match(g, rel[strings.LastIndexByte(rel, '/')+1:]); ok {
				return true
			}
		}
	}
	return false
}

// Size adds up the sizes of the regular files among entries.
func Size(entries []Entry) int64 {
	var n int64
	for _, e := range entries {
		if e.Info.Mode().IsRegular() {
			n += e.Info.Size()
		}
	}
	return n
}

// Files counts the regular files and links among entries (not folders).
func Files(entries []Entry) int {
	n := 0
	for _, e := range entries {
		if !e.Info.IsDir() {
			n++
		}
	}
	return n
}

// Regular counts the regular files among entries: the data.
func Regular(entries []Entry) int {
	n := 0
	for _, e := range entries {
		if e.Info.Mode().IsRegular() {
			n++
		}
	}
	return n
}

// Excluded reports whether rel, or a folder above it, matches a glob of
// opt.Exclude (what Walk leaves out whatever the include globs say).
func Excluded(opt Options, rel string) bool {
	for p := rel; p != "." && p != ""; p = path.Dir(p) {
		if matchAny(opt.Exclude, p) {
			return true
		}
	}
	return false
}
