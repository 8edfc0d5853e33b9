// Package sourcefiles resolves the src param of the table task types: a
// path, a glob or a list of them.
package sourcefiles

import (
	"fmt"
	"sort"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/novelfactory/runner/engine/tasktype"
)

// expandSources expands a src param — a path, a glob, or a list of them —
// into files, relative to the recipe.
// Expand resolves src — a path, a glob or a list of them, relative to the
// task's folder — into the files it names, each glob's matches sorted.
func Expand(env *tasktype.Env, src any) ([]string, error) {
	patterns, err := StringOrList(src)
	if err != nil {
		return nil, fmt.Errorf("src: give a path, a glob or a list of them")
	}
	var files []string
	for _, pat := range patterns {
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

// StringOrList reads a param written as one string or a list of strings.
func StringOrList(v any) ([]string, error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("%v is not a string", x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is neither a string nor a list", v)
}
