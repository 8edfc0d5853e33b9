package manuscript

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
)

// TestBookYAMLTakesPandocsNames: metadata written for pandoc (lang,
// cover-image, creator, subject, identifier with a scheme, author as a list)
// was refused as unknown fields in yaml.v3's words.
func TestBookYAMLTakesPandocsNames(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"episodes/001.md": "본문\n",
		"art/cover.png":   "",
		"book.yaml": "title: 서고\nauthor: [한서윤, 도하린]\nlang: ko-KR\ncover-image: art/cover.png\n" +
			"creator:\n  - role: aut\n    text: 이수\n  - 김민\nsubject: 판타지\nidentifier:\n  - scheme: ISBN-13\n    text: 979-11-1234-567-8\n" +
			"rights: © 2026\ndate: 2026-11-01\ndescription: 새벽\npublisher: 노벨 팩토리\nbelongs-to-collection: 서고\ngroup-position: 2\n",
	})
	writePNG(t, filepath.Join(dir, "art/cover.png"), 4, 4)
	b := load(t, Options{Src: filepath.Join(dir, "episodes")})
	m := b.Meta
	if got := m.AllAuthors(); !slices.Equal(got, []string{"한서윤", "도하린", "이수", "김민"}) {
		t.Errorf("authors = %q", got)
	}
	if m.Title != "서고" || m.Language != "ko-KR" || filepath.Base(m.Cover) != "cover.png" || !slices.Equal(m.Subjects, []string{"판타지"}) ||
		m.URN() != "urn:isbn:9791112345678" || m.Rights != "© 2026" || m.Date != "2026-11-01" || m.Description != "새벽" ||
		m.Publisher != "노벨 팩토리" || m.Series != "서고" || m.SeriesIndex != 2 {
		t.Errorf("metadata = %+v", m)
	}
}

// TestBookYAMLErrorsPointAtTheLine: book.yaml's errors were yaml.v3's text
// ("line 2: field authr not found in type manuscript.Metadata"), with no
// column, no suggestion, types named as Go's, and a 10 MB value repeated.
func TestBookYAMLErrorsPointAtTheLine(t *testing.T) {
	cp949, _ := korean.EUCKR.NewEncoder().String("title: 서고\n")
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"a typo gets a did-you-mean", "title: 책\nauthr: 누구\n", []string{`book.yaml:2:1: unknown field "authr"; did you mean author?`}},
		{"a pandoc name gets runner's", "titel: 책\nsubjcts: [a]\n", []string{`book.yaml:1:1: unknown field "titel"; did you mean title?`, `book.yaml:2:1: unknown field "subjcts"; did you mean subjects?`}},
		{"pandoc metadata runner has no place for is named", "abstract: 요약\n", []string{`book.yaml:1:1: unknown field "abstract" (pandoc's; use description)`}},
		{"a stranger gets the list of fields", "xyzzy: 1\n", []string{`book.yaml:1:1: unknown field "xyzzy" (fields: author, authors, cover, css, date,`}},
		{"a list where text belongs", "title:\n  - 하나\n  - 둘\n", []string{"book.yaml:2:3: title: expected text, got a list"}},
		{"a mapping where text belongs", "publisher: {name: 노벨}\n", []string{"book.yaml:1:12: publisher: expected text, got a mapping"}},
		{"a list inside a list", "subjects: [[판타지]]\n", []string{"book.yaml:1:12: subjects: expected text, got a list"}},
		{"a tab indents", "title: 책\nauthors:\n\t- 누구\n", []string{"book.yaml:3:1: found character that cannot start any token (a tab: YAML indents with spaces only)"}},
		{"a key given twice", "title: 하나\nauthor: 누구\ntitle: 둘\n", []string{"book.yaml:3:1: title is given twice (first at line 1)"}},
		{"a pandoc name and runner's for one field", "language: ko\nlang: en\n", []string{"book.yaml:2:1: lang means language, already given at line 1"}},
		{"an alias is followed", "title: &t 서고\nseries: *t\nseries_index: x\n", []string{`book.yaml:3:15: series_index: expected a number, got "x"`}},
		{"a bad date", "date: 11/01/2026\n", []string{`book.yaml:1:7: date "11/01/2026": use YYYY, YYYY-MM or YYYY-MM-DD`}},
		{"a creator of another role", "creator:\n  - role: edt\n    text: 김\n", []string{`book.yaml:2:5: creator: role "edt" — runner lists authors (aut) only`}},
		{"two identifiers", "identifier: [a, b]\n", []string{"book.yaml:1:13: identifier: a book has one identifier"}},
		{"a list as the document", "- title: 책\n", []string{"book.yaml:1:1: book.yaml must be a mapping (title: …), not a list"}},
		{"CP949 text", cp949, []string{"book.yaml:1:8: not UTF-8 text", "CP949"}},
		{"a 10 MB value", "title: " + strings.Repeat("가", 10<<20/3) + "\n", []string{"book.yaml:1:8: title is 10485759 bytes; a book.yaml value may have at most 65536"}},
		{"aliases nested a billion times", "x0: &x0 [a, a, a, a, a, a, a, a, a, a]\nx1: &x1 [*x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0, *x0]\n" +
			"x2: &x2 [*x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1, *x1]\nx3: &x3 [*x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2, *x2]\n" +
			"subjects: *x3\n", []string{`book.yaml:1:1: unknown field "x0"`, "book.yaml:4:10: subjects: expected text, got a list"}},
		{"every error at once", "titel: 책\nlang: [ko]\n", []string{`book.yaml:1:1: unknown field "titel"`, "book.yaml:2:7: lang: expected text, got a list"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"episodes/001.md": "본문\n", "book.yaml": c.yaml})
			msg := loadErr(t, Options{Src: filepath.Join(dir, "episodes")})
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nwant it to contain %q", msg, w)
				}
			}
			if len(msg) > 1500 {
				t.Errorf("the error is %d bytes long", len(msg))
			}
		})
	}
}

// TestTextABookCannotShowIsNamed: a control character reached the book's
// XML through YAML's escapes ("\a"), a recipe's value or a folder's name
// (CP949 bytes from a Windows archive), and epubcheck could not read the
// contents (RSC-016) while md2epub reported success.
func TestTextABookCannotShowIsNamed(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		meta  Metadata
		want  string
	}{
		{"book.yaml's escape", map[string]string{"episodes/001.md": "본문\n", "book.yaml": "title: \"서고\\a\"\n"}, Metadata{}, `book.yaml:1:8: title holds U+0007, which a book cannot show`},
		{"front matter's escape", map[string]string{"episodes/001.md": "---\npart: \"1부\\x0b\"\n---\n본문\n"}, Metadata{}, `001.md:2:7: front matter part holds U+000B`},
		{"the recipe's title", map[string]string{"episodes/001.md": "본문\n"}, Metadata{Title: "서고\x1b"}, `title "서고\x1b" holds U+001B`},
		{"a folder named in CP949", map[string]string{"episodes/1\xba\xce/001.md": "본문\n"}, Metadata{}, `the folder name "1\xba\xce", the episode's part, holds bytes that are not UTF-8`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, c.files)
			msg := loadErr(t, Options{Src: filepath.Join(dir, "episodes"), Meta: c.meta})
			if !strings.Contains(msg, c.want) {
				t.Errorf("error %q\nwant it to contain %q", msg, c.want)
			}
		})
	}
}
