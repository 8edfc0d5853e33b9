// Package changelog is the built-in task type `changelog`: check, release
// and read a Keep a Changelog file. Registered with the others in package
// tasks; the file's grammar is in internal/changelogfile.
package changelog

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/changelog/internal/changelogfile"
	"github.com/novelfactory/runner/tasks/internal/semver"
)

// Params are the params of the changelog task.
type Params struct {
	// check reports every problem of the file with its line; release moves [Unreleased] to [version] - date and updates the compare links; notes only reads a version's notes.
	Mode string `yaml:"mode" json:"mode" default:"check" enum:"check,release,notes"`
	// The changelog, Keep a Changelog 1.1.0.
	Path params.Path `yaml:"path" json:"path" default:"CHANGELOG.md"`
	// The version (SemVer 2.0.0, without v) to release, check or read. Required by release; notes and check default to the latest release (check: [Unreleased] when the version is not released yet).
	Version string `yaml:"version" json:"version"`
	// The release's date, YYYY-MM-DD. When empty: the date the version was released with when it is released already
	// (a rerun on a later day changes nothing), else today in the recipe's clock (its timezone:).
	Date string `yaml:"date" json:"date"`
	// Sections (### headings) the version must have, each with an entry, e.g. [Features, Breaking, Upgrade guide]; checked by check and release.
	Required []string `yaml:"required" json:"required"`
	// What comes before a version in its tag, as the compare links use it.
	TagPrefix string `yaml:"tag_prefix" json:"tag_prefix" default:"v"`
}

// Register adds the changelog task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "changelog",
		Summary:   "Check a Keep a Changelog file, release its [Unreleased] entries as a version, read a version's notes.",
		Doc: "Reads a [Keep a Changelog 1.1.0](https://keepachangelog.com/en/1.1.0/) file: `## [Unreleased]` on top, " +
			"then `## [X.Y.Z] - YYYY-MM-DD` releases, newest first, `### Section` headings inside, compare links at the " +
			"bottom. `mode: check` reports every problem at once, each with its line: a version that is not SemVer " +
			"2.0.0, out of order or there twice, a missing or impossible date, a missing or empty `required` section, " +
			"a missing or wrong compare link. `mode: release` checks first, then moves the `[Unreleased]` entries under " +
			"`## [version] - date`, leaves an empty `[Unreleased]`, and points the links at the new version " +
			"(`[Unreleased]: …/compare/vX.Y.Z...HEAD`, `[X.Y.Z]: …/compare/vPREV...vX.Y.Z`); the file is replaced " +
			"atomically. Releasing again with the same version and date changes nothing, and so does releasing it again " +
			"without a date, on any day (an empty `date` is today only for a new release); a version already released " +
			"with another date given, or with new entries waiting under `[Unreleased]`, is an error. `mode: notes` reads only. " +
			"A dry run says what release would change.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the changelog."},
			{Name: "notes", Type: "string", Doc: "The version's notes as Markdown, without its heading (check: [Unreleased]'s when the version is not released yet)."},
			{Name: "versions", Type: "list of string", Doc: "The released versions, newest first."},
			{Name: "latest", Type: "string", Doc: "The newest released version (after a release, the released one); empty when none."},
			{Name: "changed", Type: "boolean", Doc: "Whether release changed the file."},
		},
		Examples: []tasktype.Example{
			{Title: "Check that 11.0.0 has what the factory's release needs", YAML: `check-changelog:
  uses: changelog
  with:
    version: 11.0.0
    required: [Features, Breaking, Upgrade guide]
`},
			{Title: "Release it, and pass its notes on", YAML: `release-changelog:
  uses: changelog
  with:
    mode: release
    version: 11.0.0
    required: [Features, Breaking, Upgrade guide]
`},
		},
		Check: func(p *Params) error {
			if p.Version != "" && !params.HasTemplate(p.Version) {
				if _, err := semver.Parse(p.Version); err != nil {
					return params.At("version", err)
				}
			}
			if p.Date != "" && !params.HasTemplate(p.Date) && !changelogfile.ValidDate(p.Date) {
				return params.Errorf("date", "date %q: want a real date written YYYY-MM-DD", p.Date)
			}
			if p.Mode == "release" && p.Version == "" {
				return params.Errorf("version", "release needs the version to release")
			}
			return nil
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			res, err := do(env, p)
			if err != nil {
				return tasktype.Plan{}, err
			}
			summary := res.summary
			if res.changed {
				summary = "would " + summary
			}
			return tasktype.Plan{Summary: summary, Outputs: res.outputs(p)}, nil
		},
		Run: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
			res, err := do(env, p)
			if err != nil {
				return nil, err
			}
			if res.changed {
				// A link (CHANGELOG.md → docs/CHANGELOG.md) is released
				// through: the file it points at is replaced, the link kept.
				dest, err := filepath.EvalSymlinks(string(p.Path))
				if err != nil {
					return nil, fmt.Errorf("write changelog: %w", err)
				}
				if err := atomicfile.WriteFile(dest, []byte(res.text), res.perm); err != nil {
					return nil, err
				}
			}
			fmt.Fprintln(env.Log, res.summary)
			return res.outputs(p), nil
		},
	})
}

// result is what a mode found or would write.
type result struct {
	file    *changelogfile.File // as read (check, notes) or as released
	notes   string
	latest  string
	text    string // the new content, when changed
	perm    os.FileMode
	changed bool
	summary string
}

func (r *result) outputs(p *Params) tasktype.Outputs {
	versions := r.file.Versions()
	if versions == nil {
		versions = []string{}
	}
	return tasktype.Outputs{"path": string(p.Path), "notes": r.notes, "versions": versions, "latest": r.latest, "changed": r.changed}
}

// do reads the changelog and works out the mode's result, changing nothing.
func do(env *tasktype.Env, p *Params) (*result, error) {
	path := string(p.Path)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read changelog: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read changelog: %w", err)
	}
	f := changelogfile.Parse(string(data))
	res := &result{file: f, perm: info.Mode().Perm()}
	if l := f.Latest(); l != nil {
		res.latest = l.Name
	}
	rules := changelogfile.Rules{Required: p.Required, Target: p.Version, TagPrefix: p.TagPrefix}
	switch p.Mode {
	case "notes":
		r, err := version(f, p.Version)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		res.notes = f.Body(r)
		res.summary = fmt.Sprintf("notes of [%s] from %s", r.Name, path)
		return res, nil
	case "release":
		if err := problems(path, changelogfile.Check(f, rules)); err != nil {
			return nil, err
		}
		date := p.Date
		if done := f.Find(p.Version); date == "" && done != nil && done.Date != "" {
			// Released already: no date means the one it was released
			// with, so that a rerun on a later day changes nothing.
			date = done.Date
		} else if date == "" {
			date = env.Started.Format("2006-01-02")
		}
		text, changed, err := f.Release(p.Version, date, p.TagPrefix)
		if err != nil {
			return nil, fmt.Errorf("release %s in %s: %w", p.Version, path, err)
		}
		released := changelogfile.Parse(text)
		if strings.Contains(string(data), "\r\n") {
			// Parse reads CRLF as LF; a file saved with CRLF keeps it.
			text = strings.ReplaceAll(text, "\n", "\r\n")
		}
		res.file, res.text, res.changed, res.latest = released, text, changed, p.Version
		res.notes = released.Body(released.Find(p.Version))
		if changed {
			res.summary = fmt.Sprintf("release [Unreleased] as [%s] - %s in %s and update its compare links", p.Version, date, path)
		} else {
			res.summary = fmt.Sprintf("%s already has [%s] - %s: nothing to change", path, p.Version, date)
		}
		return res, nil
	default:
		if err := problems(path, changelogfile.Check(f, rules)); err != nil {
			return nil, err
		}
		target := f.Find(p.Version)
		if p.Version == "" {
			target = f.Latest()
		}
		if p.Version != "" && target == nil {
			if target = f.Find(changelogfile.Unreleased); target == nil || f.Body(target) == "" {
				return nil, fmt.Errorf("%s: no [%s] and nothing under [Unreleased] to release as it", path, p.Version)
			}
		}
		if target != nil {
			res.notes = f.Body(target)
		}
		res.summary = fmt.Sprintf("%s: %d releases, no problem", path, len(f.Versions()))
		return res, nil
	}
}

// version returns the release called name, or the latest when name is "".
func version(f *changelogfile.File, name string) (*changelogfile.Release, error) {
	if name == "" {
		if r := f.Latest(); r != nil {
			return r, nil
		}
		return nil, errors.New("no release yet")
	}
	if r := f.Find(name); r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("no [%s] (versions: %s)", name, strings.Join(f.Versions(), ", "))
}

// problems turns Check's findings into one error listing them all, each
// as path:line so that editors jump to it.
func problems(path string, list []changelogfile.Problem) error {
	if len(list) == 0 {
		return nil
	}
	noun := "problems"
	if len(list) == 1 {
		noun = "problem"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s has %d %s:", path, len(list), noun)
	for _, p := range list {
		if p.Line > 0 {
			fmt.Fprintf(&b, "\n  %s:%d: %s", path, p.Line, p.Msg)
		} else {
			fmt.Fprintf(&b, "\n  %s: %s", path, p.Msg)
		}
	}
	return errors.New(b.String())
}
