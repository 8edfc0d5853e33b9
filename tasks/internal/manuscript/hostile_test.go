package manuscript

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBlankValuesAreNotGiven: whitespace-only book.yaml values and front
// matter title/part went into the book as they were — an empty dc:title,
// dc:subject, dc:identifier, nav anchor and <title> — and md2epub reported
// success that epubcheck rejected.
func TestBlankValuesAreNotGiven(t *testing.T) {
	t.Run("a blank book title is an error at its line", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"episodes/001.md": "본문\n", "book.yaml": "author: 누구\ntitle: \"  \"\n"})
		msg := loadErr(t, Options{Src: filepath.Join(dir, "episodes")})
		if want := "book.yaml:2:8: title is blank"; !strings.Contains(msg, want) {
			t.Errorf("error %q\nwant it to contain %q", msg, want)
		}
	})
	t.Run("blank optional values are left out", func(t *testing.T) {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{
			"episodes/001.md": "---\ntitle: \"   \"\npart: \"   \"\n---\n## 첫 장\n본문\n",
			"book.yaml": "title: \" 서고 \"\nsubtitle: \" \"\npublisher: \" \"\ndescription: \" \"\nrights: \" \"\nseries: \" \"\n" +
				"subjects: [\" \", \"\"]\nidentifier: \" \"\n",
		})
		b := load(t, Options{Src: filepath.Join(dir, "episodes")})
		m := b.Meta
		if m.Title != "서고" || m.Subtitle != "" || m.Publisher != "" || m.Description != "" || m.Rights != "" || m.Series != "" ||
			len(m.Subjects) != 0 || m.Identifier != "" || !strings.HasPrefix(m.URN(), "urn:uuid:") {
			t.Errorf("metadata = %+v", m)
		}
		ch := b.Chapters[0]
		if err := b.Parse(ch, Markdown(false)); err != nil {
			t.Fatal(err)
		}
		if ch.Title != "첫 장" || ch.Part != "" {
			t.Errorf("title %q, part %q; want the heading's title and no part", ch.Title, ch.Part)
		}
	})
}
