// Package glob matches file paths with ** for any depth, bounded: links to
// folders are not followed and a pattern may match at most MaxMatches paths.
// Expressions (glob()) and task types (s3put's files) share it.
package glob

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/novelfactory/runner/internal/quote"
)

// MaxMatches is the most paths one glob may return: a pattern such
// as "/**" would otherwise walk a whole file system into memory before the
// expression's budget could refuse the list.
const MaxMatches = 100_000

// Match returns the sorted paths matching pattern (with ** for any depth).
// A relative pattern is matched under dir and gives paths relative to dir.
// ** does not follow symbolic links to folders (a link to a parent folder
// would make the walk endless), and a pattern matching more than
// MaxMatches paths is an error.
func Match(dir, pattern string) ([]string, error) {
	abs := pattern
	if !filepath.IsAbs(pattern) {
		// Matched on the real file system (an fs.FS refuses "../"), then
		// made relative again, so "../examples/*" gives "../examples/x".
		abs = filepath.Join(dir, pattern)
	}
	matches, err := globBounded(abs)
	if err != nil {
		return nil, fmt.Errorf("glob %s: %w", quote.Text(pattern), err)
	}
	if !filepath.IsAbs(pattern) {
		for i, m := range matches {
			if rel, rerr := filepath.Rel(dir, m); rerr == nil {
				matches[i] = rel
			}
		}
	}
	sort.Strings(matches)
	if matches == nil {
		matches = []string{}
	}
	return matches, nil
}

// errTooManyMatches stops a walk that found MaxMatches paths.
var errTooManyMatches = fmt.Errorf("it matches more than %d paths: narrow it", MaxMatches)

// globBounded is doublestar.FilepathGlob without following links to
// folders and stopping after MaxMatches paths.
func globBounded(pattern string) ([]string, error) {
	base, rest := doublestar.SplitPattern(filepath.ToSlash(filepath.Clean(pattern)))
	if rest == "" || rest == "." || rest == ".." || !strings.ContainsAny(rest, "*?[{\\") {
		return doublestar.FilepathGlob(pattern, doublestar.WithNoFollow())
	}
	var matches []string
	err := doublestar.GlobWalk(os.DirFS(base), rest, func(p string, _ fs.DirEntry) error {
		if len(matches) == MaxMatches {
			return errTooManyMatches
		}
		matches = append(matches, filepath.FromSlash(path.Join(base, p)))
		return nil
	}, doublestar.WithNoFollow())
	return matches, err
}
