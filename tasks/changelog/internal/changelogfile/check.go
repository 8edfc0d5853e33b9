package changelogfile

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/novelfactory/runner/tasks/internal/semver"
)

// Rules say what Check asks of a changelog beyond Keep a Changelog's form.
type Rules struct {
	// Required are the `###` sections the target release must have, each
	// with something in it (compared case-insensitively).
	Required []string
	// Target is the release Required applies to; when it is not in the
	// file (not released yet), or "", [Unreleased], which becomes it.
	Target string
	// TagPrefix comes before a version in a tag: "v" for v1.2.0.
	TagPrefix string
}

// baseRe splits a compare or tag link into the repository's address and the rest.
var baseRe = regexp.MustCompile(`^(https?://.+?)/(?:-/)?(compare|releases/tag|tree|commits)/(.+)$`)

// Check returns every problem of f, ordered by line.
func Check(f *File, rules Rules) []Problem {
	var out []Problem
	add := func(line int, format string, args ...any) {
		out = append(out, Problem{line, fmt.Sprintf(format, args...)})
	}
	seen := map[string]*Release{}
	var prev *Release // the release above, by position
	for i, r := range f.Releases {
		key := strings.ToLower(r.Name)
		if first, dup := seen[key]; dup {
			add(r.Line, "[%s] appears twice (first at line %d)", r.Name, first.Line)
			continue
		}
		seen[key] = r
		if r.IsUnreleased() {
			if i != 0 {
				add(r.Line, "[Unreleased] must come first, above every release")
			}
			if r.Date != "" {
				add(r.Line, "[Unreleased] has a date: only releases have one")
			}
			continue
		}
		if r.Name == "" {
			add(r.Line, "release heading with no version: want ## [X.Y.Z] - YYYY-MM-DD")
			continue
		}
		if r.VerErr != nil {
			add(r.Line, "%v", r.VerErr)
		}
		switch {
		case r.Date == "" && strings.ContainsAny(r.Rest, "–—‐‑−"):
			add(r.Line, "[%s] has no date: %q has a dash that is not a hyphen-minus (an en or em dash, as editors type them): want ## [%s] - YYYY-MM-DD, with -", r.Name, r.Rest, r.Name)
		case r.Date == "" && r.Rest != "":
			add(r.Line, "[%s] has no date: %q after the version is not \" - YYYY-MM-DD\": want ## [%s] - YYYY-MM-DD", r.Name, r.Rest, r.Name)
		case r.Date == "":
			add(r.Line, "[%s] has no date: want ## [%s] - YYYY-MM-DD", r.Name, r.Name)
		case !ValidDate(r.Date):
			add(r.Line, "[%s] has a bad date %q: want a real date written YYYY-MM-DD", r.Name, r.Date)
		}
		if prev != nil && !prev.IsUnreleased() && prev.VerErr == nil && r.VerErr == nil {
			if semver.Compare(r.Version, prev.Version) >= 0 {
				add(r.Line, "[%s] is out of order: it is below [%s] (line %d) but not older; newest releases come first", r.Name, prev.Name, prev.Line)
			} else if ValidDate(r.Date) && ValidDate(prev.Date) && r.Date > prev.Date {
				add(r.Line, "[%s] is dated %s, after the newer [%s] (%s, line %d)", r.Name, r.Date, prev.Name, prev.Date, prev.Line)
			}
		}
		if r.VerErr == nil {
			prev = r
		}
	}
	out = append(out, checkRequired(f, rules)...)
	out = append(out, checkLinks(f, rules.TagPrefix)...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// checkRequired checks that the target release has every required section, not empty.
func checkRequired(f *File, rules Rules) []Problem {
	if len(rules.Required) == 0 {
		return nil
	}
	target := f.Find(rules.Target)
	if rules.Target == "" || target == nil {
		target = f.Find(Unreleased)
	}
	if target == nil {
		what := "[Unreleased]"
		if rules.Target != "" {
			what = "[" + rules.Target + "] nor [Unreleased]"
		}
		return []Problem{{0, fmt.Sprintf("no %s section to hold the required sections %s", what, strings.Join(rules.Required, ", "))}}
	}
	var out []Problem
	for _, want := range rules.Required {
		var found *Section
		for _, s := range target.Sections {
			if strings.EqualFold(s.Name, want) {
				found = s
				break
			}
		}
		switch {
		case found == nil:
			out = append(out, Problem{target.Line, fmt.Sprintf("[%s] has no ### %s section", target.Name, want)})
		case found.Empty:
			out = append(out, Problem{found.Line, fmt.Sprintf("[%s] ### %s is empty", target.Name, found.Name)})
		}
	}
	return out
}

// checkLinks checks the compare links: one per release, each comparing it
// with the release below, [Unreleased] comparing the newest with HEAD.
func checkLinks(f *File, prefix string) []Problem {
	var out []Problem
	var releases []*Release // deduplicated, in order
	seen := map[string]bool{}
	for _, r := range f.Releases {
		if k := strings.ToLower(r.Name); r.Name != "" && !seen[k] {
			seen[k] = true
			releases = append(releases, r)
		}
	}
	linked := map[string]bool{}
	for _, l := range f.Links {
		k := strings.ToLower(l.Label)
		if linked[k] {
			out = append(out, Problem{l.Line, fmt.Sprintf("a second link for [%s]", l.Label)})
		}
		linked[k] = true
	}
	for i, r := range releases {
		l := f.Link(r.Name)
		if l == nil {
			out = append(out, Problem{r.Line, fmt.Sprintf("[%s] has no compare link at the bottom (%s)", r.Name, wantLink(releases, i, prefix))})
			continue
		}
		m := baseRe.FindStringSubmatch(l.URL)
		if m == nil {
			out = append(out, Problem{l.Line, fmt.Sprintf("[%s] link %s is not a compare link: want …/%s", l.Label, l.URL, wantLink(releases, i, prefix))})
			continue
		}
		if got, want := m[2]+"/"+m[3], wantLink(releases, i, prefix); got != want && !oldestTag(releases, i, prefix, got) {
			out = append(out, Problem{l.Line, fmt.Sprintf("[%s] link compares the wrong versions: %s, want %s", l.Label, got, want)})
		}
	}
	return out
}

// wantLink is the tail of the link release i should have.
func wantLink(releases []*Release, i int, prefix string) string {
	r := releases[i]
	head := "HEAD"
	if !r.IsUnreleased() {
		head = prefix + r.Name
	}
	for _, older := range releases[i+1:] {
		if !older.IsUnreleased() {
			return "compare/" + prefix + older.Name + "..." + head
		}
	}
	if r.IsUnreleased() {
		return "commits/HEAD"
	}
	return "releases/tag/" + head
}

// oldestTag accepts the other usual links of the oldest release (its tag or
// its tree) and of an [Unreleased] with no release under it.
func oldestTag(releases []*Release, i int, prefix, got string) bool {
	for _, older := range releases[i+1:] {
		if !older.IsUnreleased() {
			return false
		}
	}
	if releases[i].IsUnreleased() {
		return got == "commits/HEAD" || got == "tree/HEAD" || strings.HasPrefix(got, "compare/") && strings.HasSuffix(got, "...HEAD")
	}
	tag := prefix + releases[i].Name
	return got == "tree/"+tag || got == "releases/tag/"+tag || strings.HasPrefix(got, "compare/") && strings.HasSuffix(got, "..."+tag)
}

// RepoURL returns the repository's address as the links give it
// (https://github.com/owner/name), or "".
func (f *File) RepoURL() string {
	for _, l := range f.Links {
		if m := baseRe.FindStringSubmatch(l.URL); m != nil {
			return m[1]
		}
	}
	return ""
}
