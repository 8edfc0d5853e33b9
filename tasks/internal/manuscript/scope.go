package manuscript

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// readScope is where the files a manuscript finds by itself may be: episodes
// found by walking or a glob, files named by order:, images, a book.yaml found
// beside src, and the cover and css that book.yaml names. A planted symlink
// (from a restored archive, say) once published /etc/shadow as a chapter, so
// a file is judged by what it resolves to, every link followed, never by how
// its path is spelt. What the recipe names itself (src, book:, cover:) is the
// recipe author's choice and is not held to it.
type readScope struct {
	project  string   // the project folder, Root's parent, as spelt (for messages)
	episodes string   // Root, when it resolves outside the project folder; else ""
	allowed  []string // allow_read's folders, as spelt
	real     []string // the real paths of all of them
}

// newReadScope allows the episodes folder root, its parent (the project
// folder) and the folders in allow.
func newReadScope(root string, allow []string) (*readScope, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	s := &readScope{project: filepath.Dir(root)}
	realProject, err := filepath.EvalSymlinks(s.project)
	if err != nil {
		return nil, fmt.Errorf("project folder: %w", err)
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return nil, fmt.Errorf("episodes folder: %w", err)
	}
	s.real = append(s.real, realProject)
	if !within(realRoot, realProject) {
		s.episodes = root
		s.real = append(s.real, realRoot)
	}
	for _, dir := range allow {
		if dir == "" {
			return nil, fmt.Errorf("allow_read: an empty folder name would allow the working directory; name the folder")
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, err
		}
		real, err := filepath.EvalSymlinks(abs)
		if err != nil {
			return nil, fmt.Errorf("allow_read %s: %w", dir, err)
		}
		s.allowed = append(s.allowed, dir)
		s.real = append(s.real, real)
	}
	return s, nil
}

// check resolves path and returns the real path to read it from, or an error
// naming the file, what it resolves to and the rule.
func (s *readScope) check(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", err
	}
	for _, dir := range s.real {
		if within(real, dir) {
			return real, nil
		}
	}
	name := abs
	if rel, err := filepath.Rel(s.project, abs); err == nil && filepath.IsLocal(rel) {
		name = filepath.ToSlash(rel)
	}
	how := "is"
	if info, err := os.Lstat(abs); err == nil && info.Mode()&fs.ModeSymlink != 0 {
		how = "is a symlink to " + real + ","
	} else if real != abs {
		how = "resolves to " + real + ","
	}
	where, it := "the project folder "+s.project, "it"
	if s.episodes != "" || len(s.allowed) > 0 {
		var also []string
		if s.episodes != "" {
			also = append(also, "the episodes folder "+s.episodes)
		}
		if len(s.allowed) > 0 {
			also = append(also, "allow_read's "+strings.Join(s.allowed, ", "))
		}
		where, it = where+" and "+strings.Join(also, " and "), "these"
	}
	return "", fmt.Errorf("%s %s outside %s: only files inside %s are read (list another folder under allow_read to allow it)", name, how, where, it)
}

// within says whether path is dir or inside it; both must be clean.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel)
}
