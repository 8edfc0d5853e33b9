// Package replace is the built-in task type `replace`: edit text files in
// place by regular expression, for release chores such as the README's
// version line and badges. Registered with the others in package tasks.
package replace

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/tasks/internal/filelist"
)

// MaxFileSize is the largest file replace edits: it works on text files
// held in memory, and a bigger one is surely not the README meant.
const MaxFileSize = 16 << 20

// Replacement is one pattern and what its matches become.
type Replacement struct {
	// A Go (RE2) regular expression; ^ and $ match at the start and end of each line. \Q…\E quotes literal text.
	Pattern string `yaml:"pattern" json:"pattern" required:"true"`
	// What each match becomes: $1, ${1} or ${name} insert a group of the match ($$ a $), as in Go's regexp.Expand;
	// write ${1}x, not $1x, when a letter, digit or _ follows. "" deletes the matches.
	With string `yaml:"with" json:"with" required:"true"`
	// Insert `with` as written: $ is not special.
	Literal bool `yaml:"literal" json:"literal"`
	// The number of matches each file must have, when set: any other number is an error, and nothing is written.
	Count *int `yaml:"count" json:"count" min:"1" shape:"a number of matches, 1 or more"`

	re *regexp.Regexp // compiled by Check
}

// Params are the params of the replace task.
type Params struct {
	// Files to edit (paths or globs with ** for any depth, relative to the recipe); a glob matching no file is an error.
	Files []string `yaml:"files" json:"files" required:"true"`
	// The replacements, applied in order to each file; every pattern must match somewhere in the files.
	Replacements []Replacement `yaml:"replacements" json:"replacements" required:"true"`
}

// Register adds the replace task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "replace",
		Summary:   "Edit text files in place by regular expression: a version line, a badge.",
		Doc: "Applies `replacements` in order to each of `files`, UTF-8 text files of at most 16 MiB (a binary file — " +
			"a NUL byte or invalid UTF-8 — is refused, not edited). Patterns are Go (RE2) regular expressions, " +
			"checked when the recipe is validated, with `^` and `$` at line starts and ends; `with` expands `$1` and " +
			"`${name}` unless `literal: true`, and a group it names that the pattern lacks is an error. Every pattern " +
			"must match at least once across the files, and exactly `count` times in each file when `count` is set: " +
			"a pattern that no longer matches means the file drifted, and the release would ship a stale version — " +
			"so write patterns that match the new text too (`version-[0-9.]+`, not `version-10.2.0`), and a second " +
			"run with the same values changes nothing. A file is written only when its content changes, atomically " +
			"(a temp file renamed over it, its mode kept); a link is edited through (the file it points at is " +
			"replaced, the link kept) when it leads inside its own folder, and refused when it leads out of it. A file whose lines all end in CRLF keeps them: patterns see LF. Nothing is " +
			"written unless every file and pattern passes. A dry run says what would change in each file.",
		Outputs: []tasktype.Output{
			{Name: "changed", Type: "list of string", Doc: "The files whose content changed, as matched (relative to the recipe)."},
			{Name: "matches", Type: "integer", Doc: "The number of matches of all patterns in all files."},
		},
		Examples: []tasktype.Example{
			{Title: "Set the README's version line and its shields.io badge", YAML: `readme-version:
  uses: replace
  with:
    files: [README.md]
    replacements:
      - pattern: '^Version: .*$'
        with: 'Version: 11.0.0-rc.1'
        count: 1
      # shields.io reads - as a separator: a - in the badge's text is written --
      # (from a var: ${{ replace(vars.version, "-", "--") }})
      - pattern: 'badge/version-[^-]+(?:--[^-]+)*-blue'
        with: 'badge/version-11.0.0--rc.1-blue'
`},
			{Title: "Keep the version in every package's manifest, with a capture group", YAML: `manifests:
  uses: replace
  with:
    files: ["packages/**/package.json"]
    replacements:
      - pattern: '("version":\s*)"[^"]*"'
        with: '${1}"11.0.0"'
        count: 1
`},
		},
		Check: check,
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			res, err := work(env, p)
			if err != nil {
				return tasktype.Plan{}, err
			}
			return tasktype.Plan{Summary: res.summary(true), Outputs: res.outputs()}, nil
		},
		Run: run,
	})
}

// check compiles the patterns and checks the groups `with` names.
func check(p *Params) error {
	if len(p.Files) == 0 {
		return params.Errorf("files", "files: list at least one file or glob")
	}
	if len(p.Replacements) == 0 {
		return params.Errorf("replacements", "replacements: list at least one {pattern, with}")
	}
	for i := range p.Replacements {
		r := &p.Replacements[i]
		if err := r.compile(); err != nil {
			return params.Under("replacements", params.Under(fmt.Sprintf("[%d]", i), err))
		}
	}
	return nil
}

// compile compiles the pattern, unless a template makes it known only
// when the task runs, and checks that `with` names only its groups.
func (r *Replacement) compile() error {
	if r.Pattern == "" {
		return params.Errorf("pattern", "pattern is empty: it would match between every two characters")
	}
	if params.HasTemplate(r.Pattern) {
		return nil // Decode checks again, evaluated
	}
	re, err := regexp.Compile("(?m)" + r.Pattern)
	if err != nil {
		return params.Errorf("pattern", "not a Go (RE2) regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	if !r.Literal && !params.HasTemplate(r.With) {
		if err := groupsKnown(re, r.With); err != nil {
			return params.Errorf("with", "%v", err)
		}
	}
	r.re = re
	return nil
}

// groupsKnown checks that every $group template names a group of re: Go
// expands an unknown one to "", silently ($1x is the group "1x").
func groupsKnown(re *regexp.Regexp, template string) error {
	names := map[string]bool{}
	for i, name := range re.SubexpNames() {
		names[fmt.Sprint(i)] = true
		if name != "" {
			names[name] = true
		}
	}
	for s := template; ; {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			return nil
		}
		s = s[i+1:]
		var name, written string
		switch {
		case s[0] == '$':
			s = s[1:]
			continue
		case s[0] == '{':
			end := strings.IndexByte(s, '}')
			if end < 0 {
				return nil // not a template: Expand copies it as written
			}
			name, written, s = s[1:end], s[:end+1], s[end+1:]
		default:
			end := 0
			for end < len(s) && (s[end] == '_' || s[end] >= '0' && s[end] <= '9' || s[end] >= 'a' && s[end] <= 'z' || s[end] >= 'A' && s[end] <= 'Z') {
				end++
			}
			if end == 0 {
				continue
			}
			name, written, s = s[:end], s[:end], s[end:]
		}
		if !names[name] {
			hint := fmt.Sprintf("the pattern has %d %s", re.NumSubexp(), plural(re.NumSubexp(), "group"))
			if n := leadingDigits(name); n != "" && n != name && names[n] {
				hint = fmt.Sprintf("write ${%s}%s for group %s followed by %s", n, name[len(n):], n, name[len(n):])
			}
			return fmt.Errorf("$%s names no group of the pattern (%s; $$ is a $, or set literal: true)", written, hint)
		}
	}
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// edit is one file's outcome.
type edit struct {
	file    filelist.File
	text    string // the new content
	counts  []int  // matches of each replacement
	changed bool
}

// result is what the task found or would write.
type result struct {
	edits   []edit
	matches int
}

func (r *result) changedFiles() []string {
	out := []string{}
	for _, e := range r.edits {
		if e.changed {
			out = append(out, e.file.Given)
		}
	}
	return out
}

func (r *result) outputs() tasktype.Outputs {
	return tasktype.Outputs{"changed": r.changedFiles(), "matches": r.matches}
}

func (r *result) summary(dry bool) string {
	var b strings.Builder
	changed := len(r.changedFiles())
	verb := "changed"
	if dry {
		verb = "would change"
	}
	fmt.Fprintf(&b, "%s %d of %d %s (%d %s)", verb, changed, len(r.edits), plural(len(r.edits), "file"), r.matches, plural(r.matches, "match"))
	for _, e := range r.edits {
		total := 0
		for _, c := range e.counts {
			total += c
		}
		state := "as is"
		if e.changed {
			state = verb
		}
		fmt.Fprintf(&b, "\n  %s: %d %s, %s", quote.Text(e.file.Given), total, plural(total, "match"), state)
	}
	return b.String()
}

// work reads every file and applies the replacements in memory, writing
// nothing, and fails when a file or a pattern does not pass.
func work(env *tasktype.Env, p *Params) (*result, error) {
	for i := range p.Replacements {
		r := &p.Replacements[i]
		if r.re == nil {
			if err := r.compile(); err != nil {
				return nil, params.Under("replacements", params.Under(fmt.Sprintf("[%d]", i), err))
			}
		}
	}
	files, err := filelist.Resolve(env.Dir, p.Files, nil)
	if err != nil {
		return nil, err
	}
	res := &result{}
	totals := make([]int, len(p.Replacements))
	for _, f := range files {
		if err := linkStaysInside(f.Path); err != nil {
			return nil, err
		}
		data, err := readText(f.Path)
		if err != nil {
			return nil, err
		}
		text := string(data)
		crlf := strings.Contains(text, "\r\n") && strings.Count(text, "\n") == strings.Count(text, "\r\n")
		if crlf {
			text = strings.ReplaceAll(text, "\r\n", "\n")
		}
		e := edit{file: f, counts: make([]int, len(p.Replacements))}
		for i, r := range p.Replacements {
			text, e.counts[i] = r.apply(text)
			if r.Count != nil && e.counts[i] != *r.Count {
				return nil, fmt.Errorf("%s: pattern %s matches %d %s, and count says %d: nothing was written",
					f.Given, quote.Text(r.Pattern), e.counts[i], plural(e.counts[i], "time"), *r.Count)
			}
			totals[i] += e.counts[i]
			res.matches += e.counts[i]
		}
		if crlf {
			text = strings.ReplaceAll(text, "\n", "\r\n")
		}
		e.text, e.changed = text, text != string(data)
		res.edits = append(res.edits, e)
	}
	for i, r := range p.Replacements {
		if totals[i] == 0 {
			given := make([]string, len(files))
			for j, f := range files {
				given[j] = f.Given
			}
			return nil, fmt.Errorf("pattern %s matches nothing in %s: the file drifted from what the recipe expects (a release would ship it stale); nothing was written",
				quote.Text(r.Pattern), strings.Join(given, ", "))
		}
	}
	return res, nil
}

// apply replaces r's matches in text and counts them.
func (r Replacement) apply(text string) (string, int) {
	n := len(r.re.FindAllStringIndex(text, -1))
	switch {
	case n == 0:
		return text, 0
	case r.Literal:
		return r.re.ReplaceAllLiteralString(text, r.With), n
	}
	return r.re.ReplaceAllString(text, r.With), n
}

// linkStaysInside refuses a file that is a symlink leading out of the
// folder it is in:
// README.md → docs/README.md is edited through, README.md → ../x or
// /elsewhere/x is not, so that a release never rewrites a file outside its
// tree through a link someone committed.
func linkStaysInside(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	folder, err := filepath.EvalSymlinks(filepath.Dir(path))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if real == filepath.Join(folder, filepath.Base(path)) {
		return nil // no link
	}
	if rel, err := filepath.Rel(folder, real); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return fmt.Errorf("%s is a link to %s, outside its folder: replace edits through a link only when it leads inside (name the file itself)", path, real)
	}
	return nil
}

// readText reads a regular file of at most MaxFileSize that is UTF-8 text.
func readText(path string) ([]byte, error) {
	f, err := regfile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB: replace edits text files such as a README, not this", path, MaxFileSize>>20)
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return nil, fmt.Errorf("%s is not text (a NUL byte at offset %d): replace edits UTF-8 text files only", path, i)
	}
	if !utf8.Valid(data) {
		at := 0
		for at < len(data) {
			r, size := utf8.DecodeRune(data[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return nil, fmt.Errorf("%s is not UTF-8 text (an invalid byte at offset %d): replace edits UTF-8 text files only", path, at)
	}
	return data, nil
}

func run(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	res, err := work(env, p)
	if err != nil {
		return nil, err
	}
	for _, e := range res.edits {
		if !e.changed {
			continue
		}
		// A link (README.md → docs/README.md) is edited through: the file
		// it points at is replaced, the link kept.
		dest, err := filepath.EvalSymlinks(e.file.Path)
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", e.file.Given, err)
		}
		info, err := os.Stat(dest)
		if err != nil {
			return nil, fmt.Errorf("write %s: %w", e.file.Given, err)
		}
		if err := atomicfile.WriteFile(dest, []byte(e.text), info.Mode().Perm()); err != nil {
			return nil, fmt.Errorf("write %s: %w", e.file.Given, err)
		}
	}
	fmt.Fprintln(env.Log, res.summary(false))
	return res.outputs(), nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	if strings.HasSuffix(word, "ch") {
		return word + "es"
	}
	return word + "s"
}
