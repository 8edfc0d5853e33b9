package changelogfile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/novelfactory/runner/tasks/internal/semver"
)

// Release moves [Unreleased]'s entries to a new `## [version] - date`
// section under an empty [Unreleased], and points the compare links at the
// new version. It returns the new text and whether anything changed:
// releasing a version that is already there with the same date, and
// nothing new under [Unreleased], changes nothing.
func (f *File) Release(version, date, prefix string) (string, bool, error) {
	v, err := semver.Parse(version)
	if err != nil {
		return "", false, err
	}
	if !ValidDate(date) {
		return "", false, fmt.Errorf("date %q: want a real date written YYYY-MM-DD", date)
	}
	u := f.Find(Unreleased)
	pending := u != nil && f.Body(u) != ""
	if done := f.Find(version); done != nil {
		switch {
		case done.Date != date:
			return "", false, fmt.Errorf("[%s] is already released, dated %s (line %d), not %s: give the date it was released on, or a new version", version, done.Date, done.Line, date)
		case pending:
			return "", false, fmt.Errorf("[%s] is already released (line %d) and [Unreleased] (line %d) has new entries: release them under a new version", version, done.Line, u.Line)
		}
		return f.Text(), false, nil
	}
	if u == nil {
		return "", false, fmt.Errorf("no ## [Unreleased] section to release as %s", version)
	}
	if !pending {
		return "", false, fmt.Errorf("[Unreleased] (line %d) is empty: nothing to release as %s", u.Line, version)
	}
	latest := f.Latest()
	if latest != nil && latest.VerErr == nil && semver.Compare(v, latest.Version) <= 0 {
		return "", false, fmt.Errorf("%s is not newer than the latest release [%s] (line %d)", version, latest.Name, latest.Line)
	}
	base := f.RepoURL()
	if base == "" {
		return "", false, fmt.Errorf("no compare link at the bottom to learn the repository's address from: add [Unreleased]: https://github.com/OWNER/NAME/compare/%s%s...HEAD (or …/commits/HEAD before the first release)", prefix, version)
	}
	lines := slices.Clone(f.Lines)

	// The links first: they are below the section, so its line numbers hold.
	newLinks := []string{fmt.Sprintf("[%s]: %s/compare/%s%s...HEAD", Unreleased, base, prefix, version)}
	if latest != nil {
		newLinks = append(newLinks, fmt.Sprintf("[%s]: %s/compare/%s%s...%s%s", version, base, prefix, latest.Name, prefix, version))
	} else {
		newLinks = append(newLinks, fmt.Sprintf("[%s]: %s/releases/tag/%s%s", version, base, prefix, version))
	}
	switch l := f.Link(Unreleased); {
	case l != nil:
		lines = slices.Replace(lines, l.Line-1, l.Line, newLinks...)
	case len(f.Links) > 0:
		at := f.Links[0].Line - 1
		lines = slices.Insert(lines, at, newLinks...)
	default:
		if strings.TrimSpace(lines[len(lines)-1]) != "" {
			lines = append(lines, "")
		}
		lines = append(lines, newLinks...)
	}

	body := lines[u.BodyFrom:u.BodyTo]
	for len(body) > 0 && strings.TrimSpace(body[0]) == "" {
		body = body[1:]
	}
	section := append([]string{"", fmt.Sprintf("## [%s] - %s", version, date), ""}, body...)
	lines = slices.Replace(lines, u.BodyFrom, u.BodyTo, section...)
	return strings.Join(lines, "\n") + "\n", true, nil
}
