package changelog_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A CHANGELOG.md that is a link (to docs/CHANGELOG.md, say) is released
// through the link: the file it points at gets the release and the link
// stays a link.
func TestReleaseWritesThroughASymlinkedChangelog(t *testing.T) {
	dir := copyTestdata(t, "good.md")
	docs := filepath.Join(dir, "docs")
	if err := os.Mkdir(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "CHANGELOG.md")
	target := filepath.Join(docs, "CHANGELOG.md")
	if err := os.Rename(link, target); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("docs", "CHANGELOG.md"), link); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, map[string]any{"mode": "release", "version": "11.0.0", "date": "2026-04-01"}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("CHANGELOG.md is no longer a link: %v, %v", fi.Mode(), err)
	}
	data, err := os.ReadFile(target)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "## [11.0.0] - 2026-04-01") {
		t.Errorf("the linked file did not get the release:\n%s", data)
	}
}

// A changelog saved with CRLF line endings keeps them: a release changes
// the lines it moves, not every line of the file.
func TestReleaseKeepsCRLFLineEndings(t *testing.T) {
	dir := copyTestdata(t, "good.md")
	path := filepath.Join(dir, "CHANGELOG.md")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(data), "\n", "\r\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, map[string]any{"mode": "release", "version": "11.0.0", "date": "2026-04-01"}); err != nil {
		t.Fatal(err)
	}
	out, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n, crlf := strings.Count(string(out), "\n"), strings.Count(string(out), "\r\n"); n != crlf {
		t.Errorf("%d of %d lines end in CRLF after the release", crlf, n)
	}
}

// A release heading whose dash is an en dash (as editors and word
// processors type " - ") is named as such, not only as "has no date"
// (hostile review of issue 14, left open then).
func TestAnEnDashInAHeadingIsNamed(t *testing.T) {
	for dash, want := range map[string]string{
		"–": "a dash that is not a hyphen-minus",
		"—": "a dash that is not a hyphen-minus",
		":": `": 2026-01-15" after the version is not " - YYYY-MM-DD"`,
	} {
		dir := copyTestdata(t, "good.md")
		path := filepath.Join(dir, "CHANGELOG.md")
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(data), "## [10.0.0] - ", "## [10.0.0] "+dash+" ", 1)
		if text == string(data) {
			t.Fatal("good.md has no [10.0.0] heading to change")
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = run(t, dir, map[string]any{"mode": "check"})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("heading with %q: %v, want %q", dash, err, want)
		}
	}
}
