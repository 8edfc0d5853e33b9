// Package filelist resolves a task's `files` param — paths and globs with
// ** for any depth, relative to the recipe — to the files they name, the
// same way for every task type that has one (checksum, replace).
package filelist

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/novelfactory/runner/internal/glob"
	"github.com/novelfactory/runner/internal/quote"
)

// File is one file a pattern named.
type File struct {
	Path    string // absolute
	Given   string // as matched: relative to the recipe's folder, or absolute
	Pattern string // the path or glob that named it
}

// IsGlob reports whether pattern is a glob rather than a plain path.
func IsGlob(pattern string) bool { return strings.ContainsAny(pattern, "*?[{") }

// Resolve lists the files patterns name under dir, in the patterns'
// order (a glob's matches sorted), each once. A glob that matches nothing,
// or only folders, is an error, and so is a plain path that is a folder or
// does not exist; the folders a glob also matches (dist/* matches dist/sub)
// are skipped. skip, when not nil, leaves out a file (checksum's own
// output) before any of that is judged.
func Resolve(dir string, patterns []string, skip func(abs string) bool) ([]File, error) {
	seen := map[string]bool{}
	var out []File
	for _, pattern := range patterns {
		matches := []string{pattern}
		isGlob := IsGlob(pattern)
		if isGlob {
			var err error
			if matches, err = glob.Match(dir, pattern); err != nil {
				return nil, fmt.Errorf("files: %w", err)
			}
			if len(matches) == 0 {
				return nil, noMatch{pattern}
			}
		}
		folders := 0
		for _, m := range matches {
			path := m
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, m)
			}
			path, err := filepath.Abs(path)
			if err != nil {
				return nil, fmt.Errorf("files: %w", err)
			}
			if skip != nil && skip(path) {
				continue
			}
			info, err := os.Stat(path)
			if err != nil {
				return nil, fmt.Errorf("files: %w", err)
			}
			if info.IsDir() {
				if isGlob {
					folders++
					continue // a glob such as dist/* also matches folders
				}
				return nil, fmt.Errorf("files: %s is a folder: list the files in it (e.g. %s/**)", m, m)
			}
			if seen[path] {
				continue
			}
			seen[path] = true
			out = append(out, File{Path: path, Given: m, Pattern: pattern})
		}
		if isGlob && folders > 0 && folders == len(matches) {
			return nil, fmt.Errorf("files: %s matches only folders, no file: list the files in them (e.g. %s/**)", quote.Text(pattern), strings.TrimSuffix(pattern, "/"))
		}
	}
	return out, nil
}

// noMatch is a glob that matches nothing. It is an fs.ErrNotExist, so
// that a dry run can tell "not there yet" from a mistake.
type noMatch struct{ pattern string }

func (e noMatch) Error() string {
	return fmt.Sprintf("files: %s matches no file", quote.Text(e.pattern))
}

// Is makes errors.Is(err, fs.ErrNotExist) hold.
func (e noMatch) Is(target error) bool { return target == fs.ErrNotExist }
