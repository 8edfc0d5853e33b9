package zipsafe_test

import (
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/zipsafe"
)

func link(name, target string) zipsafe.Entry {
	return zipsafe.Entry{Name: name, Link: true, Target: target}
}
func file(name string) zipsafe.Entry { return zipsafe.Entry{Name: name} }

func TestCheck(t *testing.T) {
	cases := []struct {
		name    string
		entries []zipsafe.Entry
		dest    []string // links already in the destination
		want    string   // a part of the one problem, or "" for none
	}{
		{"plain files and folders pass", []zipsafe.Entry{file("a/b.md"), {Name: "a/", Dir: true}, file("c")}, nil, ""},
		{"a link beside its target passes", []zipsafe.Entry{file("ep/1.md"), link("ep/latest.md", "1.md")}, nil, ""},
		{"a link up and over passes", []zipsafe.Entry{file("ep/1.md"), link("x/latest.md", "../ep/1.md")}, nil, ""},
		{"a link to its own folder passes", []zipsafe.Entry{link("l1", ".")}, nil, ""},
		{"an absolute name is refused", []zipsafe.Entry{file("/etc/passwd")}, nil, "absolute"},
		{"a drive letter is refused", []zipsafe.Entry{file("C:/x")}, nil, "absolute"},
		{"a climbing name is refused", []zipsafe.Entry{file("a/../../x")}, nil, "outside"},
		{"a backslash is refused", []zipsafe.Entry{file(`..\..\x`)}, nil, "backslash"},
		{"bytes that are not UTF-8 are refused", []zipsafe.Entry{file("a\xff")}, nil, "UTF-8"},
		{"a duplicate is refused", []zipsafe.Entry{file("a/b"), file("a/./b")}, nil, "twice"},
		{"an absolute link is refused", []zipsafe.Entry{link("l", "/etc")}, nil, "absolute"},
		{"a link climbing out is refused", []zipsafe.Entry{link("a/l", "../../x")}, nil, "outside"},
		{"a link to .. of the root is refused", []zipsafe.Entry{link("l", "..")}, nil, "outside"},
		{"l2 -> l1/.. (l1 -> .) is refused", []zipsafe.Entry{link("l1", "."), link("l2", "l1/..")}, nil, "clean form"},
		{"a deeper chain is refused", []zipsafe.Entry{link("a", "."), link("b", "a/a/a/../../.."), file("b/x")}, nil, "clean form"},
		{"a .. after the start is refused even when clean is the same", []zipsafe.Entry{link("l", "x/../y")}, nil, "clean form"},
		{"a link to a link is refused", []zipsafe.Entry{link("l1", "."), link("l2", "l1")}, nil, "to the symlink"},
		{"a link through a link is refused", []zipsafe.Entry{link("d", "real"), link("l", "d/x")}, nil, "through the symlink"},
		{"a file under a link is refused", []zipsafe.Entry{link("d", "."), file("d/x")}, nil, "under the symlink"},
		{"a link through a link already in dest is refused", []zipsafe.Entry{link("l2", "l1/x")}, []string{"l1"}, "through the symlink"},
		{"a file under a link already in dest is refused", []zipsafe.Entry{file("l1/x")}, []string{"l1"}, "under the symlink"},
		{"a file where dest has a link is refused", []zipsafe.Entry{file("l1")}, []string{"l1"}, "same name"},
		{"an empty target is refused", []zipsafe.Entry{link("l", "")}, nil, "empty target"},
		{"a file that is also a folder is refused", []zipsafe.Entry{file("a"), file("a/b")}, nil, "also holds as a file"},
		{"the same, the other way round", []zipsafe.Entry{file("a/b"), file("a")}, nil, "also holds as a file"},
		{"a folder entry with files under it passes", []zipsafe.Entry{{Name: "a/", Dir: true}, file("a/b")}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var isLink func(string) bool
			if c.dest != nil {
				isLink = func(p string) bool {
					for _, d := range c.dest {
						if d == p {
							return true
						}
					}
					return false
				}
			}
			_, problems := zipsafe.Check(c.entries, isLink)
			if c.want == "" {
				if len(problems) > 0 {
					t.Fatalf("problems %v, want none", problems)
				}
				return
			}
			if len(problems) == 0 || !strings.Contains(strings.Join(problems, "\n"), c.want) {
				t.Fatalf("problems %v, want one about %q", problems, c.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	for _, c := range [][3]string{
		{"ep/latest.md", "1.md", "ep/1.md"},
		{"x/y/l", "../../ep/1.md", "ep/1.md"},
		{"l", ".", "."},
		{"a/l", "..", "."},
	} {
		if got := zipsafe.Resolve(c[0], c[1]); got != c[2] {
			t.Errorf("Resolve(%q, %q) = %q, want %q", c[0], c[1], got, c[2])
		}
	}
}
