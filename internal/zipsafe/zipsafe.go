// Package zipsafe holds the rules an archive's entries must follow to be
// unpacked without escaping the destination folder. The zip task checks
// them before it writes an archive and the unzip task before it unpacks
// one, with the same code: whatever zip accepts, unzip restores.
//
// The rules, for names relative to the destination:
//   - a name is relative, stays inside (no "..", no drive letter), has no
//     backslash (Windows tools read it as a separator), is valid UTF-8
//     once decoded, and appears once;
//   - nothing lies under a symbolic link;
//   - a link's target is relative and written the one way path.Clean
//     writes it, with ".." only at its start (so "l1/.." — which the kernel
//     resolves through l1, wherever l1 points — is refused); its leading
//     ".." do not climb above the destination; and no part of what it
//     points at is another link (no links to or through links).
//
// With those rules every link resolves, by the kernel as on paper, to a
// place inside the destination. The package reads no files: callers say
// which paths of the destination are already links.
package zipsafe

import (
	"archive/zip"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
)

// Entry is what the rules need to know of an archive entry.
type Entry struct {
	Name   string // slash-separated, as stored (a directory may end in "/")
	Dir    bool   // a folder
	Link   bool   // a symbolic link
	Target string // a link's target
}

// CleanName checks one entry name and returns it cleaned ("a/./b/" →
// "a/b"). The error says what is wrong with it.
func CleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", errors.New("an empty name")
	case !utf8.ValidString(name):
		return "", errors.New("a name that is not valid UTF-8")
	case strings.ContainsRune(name, 0):
		return "", errors.New("a name with a NUL byte")
	case strings.Contains(name, `\`):
		return "", errors.New(`a backslash in the name (Windows tools read it as a folder separator)`)
	}
	clean := path.Clean(name)
	switch {
	case clean == "." || clean == "/":
		return "", errors.New("an empty name")
	case path.IsAbs(clean) || len(clean) > 1 && clean[1] == ':':
		return "", errors.New("an absolute path")
	case clean == ".." || strings.HasPrefix(clean, "../"):
		return "", errors.New("it would land outside the destination")
	}
	return clean, nil
}

// CheckTarget checks a link's target against the rules that need no other
// entry: relative, in clean form, ".." only at the start, not climbing
// above the destination from the link at name (a clean name).
func CheckTarget(name, target string) error {
	switch {
	case target == "":
		return errors.New("a symlink with an empty target")
	case strings.ContainsRune(target, 0) || strings.Contains(target, `\`) || !utf8.ValidString(target):
		return fmt.Errorf("a symlink target with a NUL, a backslash or bytes that are not UTF-8 (%q)", target)
	case path.IsAbs(target) || len(target) > 1 && target[1] == ':':
		return fmt.Errorf("a symlink to an absolute path (%s)", target)
	}
	if path.Clean(target) != target {
		return fmt.Errorf("a symlink target not in clean form (%s, clean: %s): a \"..\" after a link would be resolved through that link", target, path.Clean(target))
	}
	up, rest := splitUp(target)
	if strings.Contains("/"+rest+"/", "/../") {
		return fmt.Errorf("a symlink target with \"..\" after its start (%s)", target)
	}
	if up > depth(path.Dir(name)) {
		return fmt.Errorf("a symlink pointing outside the destination (%s)", target)
	}
	return nil
}

// Resolve is where the link at name (clean) points, relative to the
// destination, for a target that passed CheckTarget.
func Resolve(name, target string) string {
	up, rest := splitUp(target)
	dir := path.Dir(name)
	for range up {
		dir = path.Dir(dir)
	}
	return path.Join(dir, rest)
}

// splitUp counts the leading ".." of a clean target and returns the rest.
func splitUp(target string) (int, string) {
	up := 0
	for target == ".." || strings.HasPrefix(target, "../") {
		up++
		target = strings.TrimPrefix(strings.TrimPrefix(target, ".."), "/")
	}
	return up, target
}

// depth is the number of folders in a clean relative directory ("." is 0).
func depth(dir string) int {
	if dir == "." {
		return 0
	}
	return strings.Count(dir, "/") + 1
}

// Check applies every rule to a whole archive. isLink, when not nil, says
// whether a clean path already is a symbolic link in the destination (an
// archive unpacked into a folder that holds links). It returns the names
// of the entries in clean form, in order, and one problem per bad entry.
func Check(entries []Entry, isLink func(name string) bool) ([]string, []string) {
	var problems []string
	names := make([]string, len(entries))
	seen := map[string]bool{}
	links := map[string]bool{}
	files := map[string]bool{} // names of entries that are not folders
	bad := make([]bool, len(entries))
	for i, e := range entries {
		clean, err := CleanName(e.Name)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%q: %v", e.Name, err))
			bad[i] = true
			continue
		}
		names[i] = clean
		if seen[clean] {
			problems = append(problems, fmt.Sprintf("%q: the name appears twice", e.Name))
			bad[i] = true
			continue
		}
		seen[clean] = true
		if e.Link {
			links[clean] = true
		}
		if !e.Dir {
			files[clean] = true
		}
	}
	linked := func(p string) bool { return links[p] || isLink != nil && isLink(p) }
	for i, e := range entries {
		if bad[i] {
			continue
		}
		name := names[i]
		// Nothing is written through a link: not a file under one, and
		// not a link whose own folder is one.
		if under := linkAbove(name, linked); under != "" {
			problems = append(problems, fmt.Sprintf("%q: it lies under the symlink %q", name, under))
			continue
		}
		if above := linkAbove(name, func(p string) bool { return files[p] }); above != "" {
			problems = append(problems, fmt.Sprintf("%q: it lies under %q, which the archive also holds as a file", name, above))
			continue
		}
		if isLink != nil && !e.Link && isLink(name) {
			problems = append(problems, fmt.Sprintf("%q: a symlink of the same name is in the destination", name))
			continue
		}
		if !e.Link {
			continue
		}
		if err := CheckTarget(name, e.Target); err != nil {
			problems = append(problems, fmt.Sprintf("%q: %v", name, err))
			continue
		}
		to := Resolve(name, e.Target)
		if to == "." {
			continue
		}
		if linked(to) {
			problems = append(problems, fmt.Sprintf("%q: a symlink to the symlink %q", name, to))
		} else if via := linkAbove(to, linked); via != "" {
			problems = append(problems, fmt.Sprintf("%q: a symlink through the symlink %q", name, via))
		}
	}
	return names, problems
}

// linkAbove returns the nearest folder above name that is a link, or "".
func linkAbove(name string, linked func(string) bool) string {
	for dir := path.Dir(name); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if linked(dir) {
			return dir
		}
	}
	return ""
}

// EntryName decodes a zip entry's name: UTF-8 when it is valid UTF-8
// (flagged or not: many tools write UTF-8 without the flag), else CP949,
// the code page of Korean Windows zip tools. The unzip task and the
// zipped exports csvsum reads name entries alike.
func EntryName(f *zip.File) string {
	if utf8.ValidString(f.Name) {
		return f.Name
	}
	if decoded, err := korean.EUCKR.NewDecoder().String(f.Name); err == nil {
		return decoded
	}
	return f.Name
}
