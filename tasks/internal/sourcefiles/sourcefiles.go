// Package sourcefiles resolves the src param of the table task types: a
// path, a glob or a list of them.
package sourcefiles

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
)

// Expand resolves src — paths and globs, relative to the task's folder —
// into the files it names, each glob's matches sorted.
func Expand(env *tasktype.Env, src params.Strings) ([]string, error) {
	var files []string
	for _, pat := range src {
		path := env.Path(pat)
		if !strings.ContainsAny(pat, "*?[{") {
			files = append(files, path)
			continue
		}
		matches, err := doublestar.FilepathGlob(path, doublestar.WithFilesOnly())
		if err != nil {
			return nil, fmt.Errorf("src %s: %w", pat, err)
		}
		if len(matches) == 0 {
			return nil, fmt.Errorf("src %s matches no file", pat)
		}
		sort.Strings(matches)
		files = append(files, matches...)
	}
	return files, nil
}
