// Package changelogfile reads, checks and releases a Keep a Changelog 1.1.0
// file (https://keepachangelog.com/en/1.1.0/): releases under `## [X.Y.Z] -
// YYYY-MM-DD` headings, newest first, an `## [Unreleased]` one on top,
// `### Section` headings inside, and compare links at the bottom. It works
// on text; reading and writing the file is the task's.
package changelogfile

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/novelfactory/runner/tasks/internal/semver"
)

// Unreleased is the name of the section that gathers changes not yet released.
const Unreleased = "Unreleased"

// File is a parsed changelog.
type File struct {
	Lines    []string   // the text, one entry a line, without line ends
	Releases []*Release // in file order, [Unreleased] included
	Links    []*Link    // link definitions whose label is a release's name
}

// Release is one `## ` section.
type Release struct {
	Name     string // "Unreleased" or the version as written
	Date     string // as written; "" when there is none
	Rest     string // what follows the version in the heading, trimmed
	Yanked   bool
	Line     int // 1-based line of the heading
	Heading  string
	BodyFrom int // 0-based index of the body's first line
	BodyTo   int // 0-based index one past its last line
	Sections []*Section
	Version  semver.Version
	VerErr   error // why Name is not a version, for a release
}

// Section is one `### ` heading inside a release.
type Section struct {
	Name  string
	Line  int
	Empty bool // no line but blanks under it
}

// Link is a link reference definition at the bottom: `[1.0.0]: URL`.
type Link struct {
	Label string
	URL   string
	Line  int
}

var (
	releaseRe = regexp.MustCompile(`^##\s+(?:\[([^\]]*)\]|(\S+))(.*)$`)
	restRe    = regexp.MustCompile(`^\s+-\s+(\S+)(\s+\[YANKED\])?\s*$`)
	sectionRe = regexp.MustCompile(`^###\s+(.+?)\s*#*\s*$`)
	linkRe    = regexp.MustCompile(`^\[([^\]]+)\]:\s*(\S+)`)
	dateRe    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// IsUnreleased reports whether r is the [Unreleased] section.
func (r *Release) IsUnreleased() bool { return strings.EqualFold(r.Name, Unreleased) }

// Parse reads a changelog. It fails only on what it cannot read at all;
// Check says what is wrong with what it read.
func Parse(text string) *File {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	f := &File{Lines: lines}
	names := map[string]bool{}
	var cur *Release
	var sec *Section
	end := func(i int) {
		if cur != nil && cur.BodyTo == 0 {
			cur.BodyTo = i
		}
	}
	for i, line := range lines {
		if m := releaseRe.FindStringSubmatch(line); m != nil && !strings.HasPrefix(line, "###") {
			end(i)
			name := m[1] + m[2]
			r := &Release{Name: name, Line: i + 1, Heading: line, BodyFrom: i + 1}
			rest := m[3]
			r.Rest = strings.TrimSpace(rest)
			if rm := restRe.FindStringSubmatch(rest); rm != nil {
				r.Date, r.Yanked = rm[1], rm[2] != ""
			}
			if !r.IsUnreleased() {
				r.Version, r.VerErr = semver.Parse(name)
			}
			f.Releases = append(f.Releases, r)
			names[strings.ToLower(name)] = true
			cur, sec = r, nil
			continue
		}
		if m := linkRe.FindStringSubmatch(line); m != nil && cur != nil && names[strings.ToLower(m[1])] {
			end(i)
			f.Links = append(f.Links, &Link{Label: m[1], URL: m[2], Line: i + 1})
			sec = nil
			continue
		}
		if strings.HasPrefix(line, "# ") {
			end(i)
			sec = nil
			continue
		}
		if cur == nil || cur.BodyTo != 0 {
			continue
		}
		if m := sectionRe.FindStringSubmatch(line); m != nil {
			sec = &Section{Name: m[1], Line: i + 1, Empty: true}
			cur.Sections = append(cur.Sections, sec)
			continue
		}
		if sec != nil && strings.TrimSpace(line) != "" {
			sec.Empty = false
		}
	}
	end(len(lines))
	return f
}

// Find returns the release called name (case-insensitive for
// Unreleased), or nil.
func (f *File) Find(name string) *Release {
	for _, r := range f.Releases {
		if r.Name == name || strings.EqualFold(name, Unreleased) && r.IsUnreleased() {
			return r
		}
	}
	return nil
}

// Versions returns the released versions, in file order (newest first in a
// well-kept file).
func (f *File) Versions() []string {
	var out []string
	for _, r := range f.Releases {
		if !r.IsUnreleased() {
			out = append(out, r.Name)
		}
	}
	return out
}

// Latest returns the newest release in the file that is not Unreleased, or nil.
func (f *File) Latest() *Release {
	for _, r := range f.Releases {
		if !r.IsUnreleased() {
			return r
		}
	}
	return nil
}

// Body returns a release's notes: the Markdown under its heading, without
// the blank lines around it.
func (f *File) Body(r *Release) string {
	lines := f.Lines[r.BodyFrom:r.BodyTo]
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	for len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// Link returns the link definition for label, or nil.
func (f *File) Link(label string) *Link {
	for _, l := range f.Links {
		if strings.EqualFold(l.Label, label) {
			return l
		}
	}
	return nil
}

// Text writes the lines back, each ended by a newline.
func (f *File) Text() string { return strings.Join(f.Lines, "\n") + "\n" }

// ValidDate reports whether s is a real calendar date written YYYY-MM-DD.
func ValidDate(s string) bool {
	if !dateRe.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// Problem is one thing wrong in a changelog, at a line (0: the file as a whole).
type Problem struct {
	Line int
	Msg  string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return p.Msg
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Msg)
}
