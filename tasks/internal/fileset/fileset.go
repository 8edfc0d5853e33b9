// Package fileset lists the files under a directory that a task works on:
// include and exclude globs (with ** for any depth), in a deterministic
// order. It reads; it never writes.
package fileset

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"
)

// Entry is one file or directory found under the root.
type Entry struct {
	Rel  string      // slash-separated path relative to the root
	Path string      // path on disk
	Info fs.FileInfo // from Lstat: symlinks are not followed
}

// Options select entries.
type Options struct {
	Include []string // globs relative to the root; every file when empty
	Exclude []string // globs relative to the root
	Skip    []string // absolute paths to leave out (a zip being written inside its own source)
	Dirs    bool     // also list empty directories
}

// Walk lists the regular files and symlinks under root that match, sorted
// by their relative path (byte order), and empty directories when asked.
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
	skip := map[string]bool{}
	for _, s := range opt.Skip {
		skip[filepath.Clean(s)] = true
	}
	var out []Entry
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walk %s: %w", path, err)
		}
		if path == root {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if skip[filepath.Clean(path)] || matchAny(opt.Exclude, rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("stat %s: %w", path, err)
		}
		if d.IsDir() {
			if opt.Dirs && len(opt.Include) == 0 {
				if entries, err := os.ReadDir(path); err == nil && len(entries) == 0 {
					out = append(out, Entry{Rel: rel + "/", Path: path, Info: info})
				}
			}
			return nil
		}
		if !info.Mode().IsRegular() && info.Mode()&fs.ModeSymlink == 0 {
			return nil // sockets, devices, pipes: not data
		}
		if len(opt.Include) > 0 && !matchAny(opt.Include, rel) {
			return nil
		}
		out = append(out, Entry{Rel: rel, Path: path, Info: info})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Rel < out[j].Rel })
	return out, nil
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
