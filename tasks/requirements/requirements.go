// Package requirements is the built-in task type `requirements`: check that
// every Python requirement is pinned exactly in a lock file. Registered
// with the others in package tasks.
package requirements

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
)

// Params are the params of the requirements task.
type Params struct {
	// The requirements (pip's format: PEP 508 lines, comments, -r includes, --hash options).
	Requirements params.Path `yaml:"requirements" json:"requirements" default:"requirements.txt"`
	// The lock, as `pip freeze > requirements.lock` writes it.
	Lock params.Path `yaml:"lock" json:"lock" default:"requirements.lock"`
}

// Register adds the requirements task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "requirements",
		Summary:   "Check that every requirement of requirements.txt is pinned exactly (==) in requirements.lock.",
		Doc: "Reads `requirements` as pip does — PEP 508 names with extras (`pkg[extra]`) and environment markers " +
			"(`; python_version < \"3.12\"`), comments, blank lines, line continuations, `-r other.txt` includes (relative " +
			"to the including file) and `--hash` options — and checks that the `lock` (`pip freeze` output) pins each one " +
			"with `==` (or `===`). Names are compared as PEP 503 normalises them: case, `-`, `_` and `.` do not matter. " +
			"Every requirement that is missing from the lock or pinned otherwise is named at once, with its file and " +
			"line. A requirement with a marker that is missing from the lock is only logged: the marker may not hold on " +
			"the Python that wrote the lock. Changes nothing: the lock itself is written by `pip freeze` in a `shell` task.",
		Outputs: []tasktype.Output{
			{Name: "pinned", Type: "map of string", Doc: "Each requirement's normalised name → its pinned version."},
			{Name: "skipped", Type: "list of string", Doc: "Requirements with a marker that the lock does not hold."},
		},
		Examples: []tasktype.Example{
			{Title: "Check the factory's lock", YAML: `check-lock:
  uses: requirements
  with:
    requirements: requirements.txt
    lock: requirements.lock
`},
		},
		Plan: func(_ context.Context, _ *tasktype.Env, p *Params) (tasktype.Plan, error) {
			if _, err := os.Stat(string(p.Lock)); err != nil {
				// The lock is often written by an earlier task in the same run.
				return tasktype.Plan{Summary: fmt.Sprintf("would check that %s pins every requirement of %s", p.Lock, p.Requirements)}, nil
			}
			res, err := check(p)
			if err != nil {
				return tasktype.Plan{}, err
			}
			return tasktype.Plan{Summary: fmt.Sprintf("%s pins all %d requirements of %s", p.Lock, len(res.pinned), p.Requirements), Outputs: res.outputs()}, nil
		},
		Run: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
			res, err := check(p)
			if err != nil {
				return nil, err
			}
			for _, s := range res.skipped {
				fmt.Fprintf(env.Log, "not in the lock, but conditional: %s\n", s)
			}
			fmt.Fprintf(env.Log, "%s pins all %d requirements of %s\n", p.Lock, len(res.pinned), p.Requirements)
			return res.outputs(), nil
		},
	})
}

// requirement is one requirement line.
type requirement struct {
	name      string // normalised
	specifier string // e.g. "==2.32.3", ">=1,<2", "@ https://…"
	marker    string
	file      string
	line      int
}

// nameRe is a PEP 508 name, then optional extras, then the rest.
var nameRe = regexp.MustCompile(`^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?\s*(.*)$`)

// separatorRe is PEP 503's run of separators.
var separatorRe = regexp.MustCompile(`[-_.]+`)

// normalize is a name as PEP 503 compares it.
func normalize(name string) string { return separatorRe.ReplaceAllString(strings.ToLower(name), "-") }

// read returns the requirements of path and of the files it includes.
func read(path string, seen map[string]bool) ([]requirement, []string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, err
	}
	if seen[abs] {
		return nil, nil, nil // an include cycle: pip reads each once as well
	}
	seen[abs] = true
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read requirements: %w", err)
	}
	var reqs []requirement
	var problems []string
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := lines[i]
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + lines[i]
		}
		line = stripComment(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "-") {
			flag, arg := option(line)
			switch flag {
			case "-r", "--requirement":
				inc := arg
				if !filepath.IsAbs(inc) {
					inc = filepath.Join(filepath.Dir(path), inc)
				}
				more, bad, err := read(inc, seen)
				if err != nil {
					return nil, nil, fmt.Errorf("%s:%d: %w", path, lineNo, err)
				}
				reqs, problems = append(reqs, more...), append(problems, bad...)
			case "-e", "--editable":
				problems = append(problems, fmt.Sprintf("%s:%d: %s is editable: it cannot be pinned by version", path, lineNo, arg))
			}
			continue // -c, --index-url and other options pin nothing
		}
		r, err := parse(line)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s:%d: %v", path, lineNo, err))
			continue
		}
		r.file, r.line = path, lineNo
		reqs = append(reqs, r)
	}
	return reqs, problems, nil
}

// stripComment drops a comment (# at the start or after a space) and the
// spaces around what is left.
func stripComment(line string) string {
	if strings.HasPrefix(strings.TrimSpace(line), "#") {
		return ""
	}
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	if i := strings.Index(line, "\t#"); i >= 0 {
		line = line[:i]
	}
	return strings.TrimSpace(line)
}

// option splits "-r file", "-rfile" or "--requirement=file".
func option(line string) (flag, arg string) {
	if strings.HasPrefix(line, "--") {
		flag, arg, _ = strings.Cut(line, "=")
		if f, a, ok := strings.Cut(flag, " "); ok {
			flag, arg = f, a
		}
		return flag, strings.TrimSpace(arg)
	}
	if len(line) > 2 {
		return line[:2], strings.TrimSpace(line[2:])
	}
	return line, ""
}

// parse reads one requirement line, without comment.
func parse(line string) (requirement, error) {
	// --hash and other per-requirement options come after the requirement.
	if i := strings.Index(line, " --"); i >= 0 {
		line = strings.TrimSpace(line[:i])
	}
	spec, marker, _ := strings.Cut(line, ";")
	m := nameRe.FindStringSubmatch(strings.TrimSpace(spec))
	if m == nil {
		return requirement{}, fmt.Errorf("%q is not a requirement (PEP 508: name[extras] specifier ; marker)", line)
	}
	if urlRe.MatchString(spec) {
		// git+https://…#egg=name or https://…/pkg.tar.gz: not a package
		// named git or https.
		return requirement{}, fmt.Errorf("%s is a URL, not a name: it cannot be pinned by version (pin the package by name, or write name @ URL)", strings.TrimSpace(spec))
	}
	specifier := strings.Join(strings.Fields(m[3]), "")
	if strings.HasPrefix(specifier, "@") {
		specifier = "@ " + strings.TrimSpace(m[3][1:])
	}
	return requirement{name: normalize(m[1]), specifier: specifier, marker: strings.TrimSpace(marker)}, nil
}

// urlRe is a line that starts with a URL scheme (git+https://, https://,
// file:), as pip's VCS and URL requirements do.
var urlRe = regexp.MustCompile(`^\s*[A-Za-z][A-Za-z0-9+.-]*:`)

// pinRe is an exact pin: == or === and one version, no wildcard, no other clause.
var pinRe = regexp.MustCompile(`^===?([^,*=<>!~\s]+)$`)

// result is what check found.
type result struct {
	pinned  map[string]string
	skipped []string
}

func (r *result) outputs() tasktype.Outputs {
	pinned := make(map[string]any, len(r.pinned))
	for k, v := range r.pinned {
		pinned[k] = v
	}
	skipped := r.skipped
	if skipped == nil {
		skipped = []string{}
	}
	return tasktype.Outputs{"pinned": pinned, "skipped": skipped}
}

// check reads both files and names every requirement the lock does not pin.
func check(p *Params) (*result, error) {
	reqs, problems, err := read(string(p.Requirements), map[string]bool{})
	if err != nil {
		return nil, err
	}
	locked, lockProblems, err := read(string(p.Lock), map[string]bool{})
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	problems = append(problems, lockProblems...)
	lock := map[string]requirement{}
	for _, l := range locked {
		if prev, dup := lock[l.name]; dup && prev.specifier != l.specifier {
			problems = append(problems, fmt.Sprintf("%s:%d: %s is locked twice (%s at line %d, %s here)", l.file, l.line, l.name, prev.specifier, prev.line, l.specifier))
		}
		lock[l.name] = l
	}
	res := &result{pinned: map[string]string{}}
	for _, r := range reqs {
		l, ok := lock[r.name]
		switch {
		case !ok && r.marker != "":
			res.skipped = append(res.skipped, fmt.Sprintf("%s (%s:%d, ; %s)", r.name, r.file, r.line, r.marker))
		case !ok:
			problems = append(problems, fmt.Sprintf("%s:%d: %s is not in %s", r.file, r.line, r.name, p.Lock))
		default:
			m := pinRe.FindStringSubmatch(l.specifier)
			if m == nil {
				problems = append(problems, fmt.Sprintf("%s:%d: %s (%s:%d) is locked as %q, not pinned with ==", l.file, l.line, r.name, r.file, r.line, l.specifier))
				continue
			}
			if prev, dup := res.pinned[r.name]; dup && prev != m[1] {
				continue // reported with the lock's duplicates
			}
			res.pinned[r.name] = m[1]
		}
	}
	if len(problems) > 0 {
		count := "1 problem"
		if len(problems) > 1 {
			count = fmt.Sprintf("%d problems", len(problems))
		}
		return nil, fmt.Errorf("%s does not pin %s exactly (%s):\n  %s", p.Lock, p.Requirements, count, strings.Join(problems, "\n  "))
	}
	return res, nil
}
