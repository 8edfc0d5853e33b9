// Package semver reads and orders versions as Semantic Versioning 2.0.0
// defines them, exactly: no leading "v", no shorthand such as "1.2", no
// leading zeros in numbers. It knows nothing of tags or files.
package semver

import (
	"fmt"
	"strings"
)

// Version is a parsed SemVer 2.0.0 version. Numbers are kept as their
// digits, since SemVer puts no bound on them.
type Version struct {
	Major, Minor, Patch string
	Pre                 []string // dot-separated prerelease identifiers
	Build               []string // dot-separated build metadata, ignored in ordering
}

// Parse reads s as a SemVer 2.0.0 version, saying what is wrong when it is not one.
func Parse(s string) (Version, error) {
	var v Version
	core, build, hasBuild := strings.Cut(s, "+")
	core, pre, hasPre := strings.Cut(core, "-")
	nums := strings.Split(core, ".")
	if len(nums) != 3 {
		return v, fmt.Errorf("%q is not a SemVer version: want MAJOR.MINOR.PATCH, e.g. 1.4.0", s)
	}
	for i, n := range nums {
		if err := number(n); err != nil {
			return v, fmt.Errorf("%q is not a SemVer version: %s %w", s, [3]string{"major", "minor", "patch"}[i], err)
		}
	}
	v.Major, v.Minor, v.Patch = nums[0], nums[1], nums[2]
	if hasPre {
		v.Pre = strings.Split(pre, ".")
		for _, id := range v.Pre {
			if err := identifier(id); err != nil {
				return v, fmt.Errorf("%q is not a SemVer version: prerelease %w", s, err)
			}
			if numeric(id) && len(id) > 1 && id[0] == '0' {
				return v, fmt.Errorf("%q is not a SemVer version: prerelease number %q has a leading zero", s, id)
			}
		}
	}
	if hasBuild {
		v.Build = strings.Split(build, ".")
		for _, id := range v.Build {
			if err := identifier(id); err != nil {
				return v, fmt.Errorf("%q is not a SemVer version: build metadata %w", s, err)
			}
		}
	}
	return v, nil
}

// Valid reports whether s is a SemVer 2.0.0 version.
func Valid(s string) bool {
	_, err := Parse(s)
	return err == nil
}

// String writes the version back as it was read.
func (v Version) String() string {
	s := v.Major + "." + v.Minor + "." + v.Patch
	if len(v.Pre) > 0 {
		s += "-" + strings.Join(v.Pre, ".")
	}
	if len(v.Build) > 0 {
		s += "+" + strings.Join(v.Build, ".")
	}
	return s
}

// Compare orders a and b by SemVer precedence: -1, 0 or +1. Build
// metadata does not count, so 1.0.0+a and 1.0.0+b compare equal.
func Compare(a, b Version) int {
	for _, c := range [][2]string{{a.Major, b.Major}, {a.Minor, b.Minor}, {a.Patch, b.Patch}} {
		if r := compareNumbers(c[0], c[1]); r != 0 {
			return r
		}
	}
	switch {
	case len(a.Pre) == 0 && len(b.Pre) == 0:
		return 0
	case len(a.Pre) == 0:
		return 1 // a release outranks its prereleases
	case len(b.Pre) == 0:
		return -1
	}
	for i := 0; i < len(a.Pre) && i < len(b.Pre); i++ {
		x, y := a.Pre[i], b.Pre[i]
		nx, ny := numeric(x), numeric(y)
		var r int
		switch {
		case nx && ny:
			r = compareNumbers(x, y)
		case nx:
			r = -1 // numeric identifiers have lower precedence
		case ny:
			r = 1
		default:
			r = strings.Compare(x, y)
		}
		if r != 0 {
			return r
		}
	}
	return cmpInt(len(a.Pre), len(b.Pre))
}

// number checks a major, minor or patch number.
func number(s string) error {
	switch {
	case s == "":
		return fmt.Errorf("number is empty")
	case !numeric(s):
		return fmt.Errorf("%q is not a number", s)
	case len(s) > 1 && s[0] == '0':
		return fmt.Errorf("%q has a leading zero", s)
	}
	return nil
}

// identifier checks one prerelease or build identifier: [0-9A-Za-z-]+.
func identifier(s string) error {
	if s == "" {
		return fmt.Errorf("has an empty identifier")
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return fmt.Errorf("identifier %q may only hold ASCII letters, digits and -", s)
		}
	}
	return nil
}

func numeric(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// compareNumbers orders decimal numbers without leading zeros, of any length.
func compareNumbers(a, b string) int {
	if r := cmpInt(len(a), len(b)); r != 0 {
		return r
	}
	return strings.Compare(a, b)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
