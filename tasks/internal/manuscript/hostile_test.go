package manuscript

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/unicode/norm"
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

// TestALanguageMustBeATag: language: "not a tag!!", ko_KR and ko-KR-u-
// went into dc:language as written, and md2epub reported success.
func TestALanguageMustBeATag(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"title: 책\nlanguage: \"not a tag!!\"\n", `book.yaml:2:11: language "not a tag!!" is not a BCP 47 language tag (like ko, ko-KR or en-US)`},
		{"title: 책\nlang: ko_KR\n", `book.yaml:2:7: lang "ko_KR" is a locale, not a language tag; did you mean "ko-KR"?`},
		{"language: ko-KR-u-\n", `book.yaml:1:11: language "ko-KR-u-" is not a BCP 47 language tag`},
	} {
		dir := t.TempDir()
		writeTree(t, dir, map[string]string{"episodes/001.md": "본문\n", "book.yaml": c.yaml})
		if msg := loadErr(t, Options{Src: filepath.Join(dir, "episodes")}); !strings.Contains(msg, c.want) {
			t.Errorf("error %q\nwant it to contain %q", msg, c.want)
		}
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"episodes/001.md": "본문\n", "book.yaml": "language: ko-KR\n"})
	load(t, Options{Src: filepath.Join(dir, "episodes")})
	if msg := loadErr(t, Options{Src: filepath.Join(dir, "episodes"), Meta: Metadata{Language: "ko_KR"}}); !strings.Contains(msg, `did you mean "ko-KR"`) {
		t.Errorf("the recipe's language: %q", msg)
	}
}

// TestLinksEpubcheckRejectsBecomeText: a fragment holding a second # (RSC-005,
// RSC-020) and a host that is neither a name nor an IPv4 address
// (1.2.3.4.5, RSC-023) were kept as links; a host in Hangul (RSC-023) is
// kept in punycode (TestHostileManuscriptsMakeBooksEpubcheckAccepts).
func TestLinksEpubcheckRejectsBecomeText(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"episodes/001.md": "# 하나\n\n[m](https://ex.com/#a#b) [n](http://1.2.3.4.5) [k](https://한국.kr) " +
		"[ok](https://1.2.3.4:8080/x) [v6](http://[::1]/) [p](https://xn--3e0b707e.kr/#a) [d](https://example.com./a)\n"})
	b := load(t, Options{Src: filepath.Join(dir, "episodes")})
	warned := strings.Join(b.Warnings, "\n")
	for _, want := range []string{
		`001.md:3: link "https://ex.com/#a#b" has two #s`,
		`001.md:3: link "http://1.2.3.4.5" is not a web address readers can open (neither a host name nor an IPv4 address)`,
		`001.md:3: link "http://[::1]/" is not a web address readers can open (an IPv6 address; link a host name instead)`,
	} {
		if !strings.Contains(warned, want) {
			t.Errorf("warnings %q\nwant %q", warned, want)
		}
	}
	if n := len(b.Warnings); n != 3 {
		t.Errorf("%d warnings, want 3: %q", n, warned)
	}
	msg := loadErr(t, Options{Src: filepath.Join(dir, "episodes"), BrokenLinks: BrokenLinksError})
	if !strings.Contains(msg, "has two #s") {
		t.Errorf("broken_links: error: %q", msg)
	}
}

// TestAHugeImageIsNotDecoded: decoding images whole (to refuse damaged ones)
// must not let a header claim 10000×10000 pixels and fill the memory.
func TestAHugeImageIsNotDecoded(t *testing.T) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	binary.BigEndian.PutUint32(data[16:], 10000) // IHDR width
	binary.BigEndian.PutUint32(data[20:], 10000) // IHDR height
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	path := filepath.Join(t.TempDir(), "huge.png")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := inspectImage(path)
	if err == nil || !strings.Contains(err.Error(), "is 10000×10000 pixels; a book's image may have at most 50 megapixels") {
		t.Fatalf("err = %v", err)
	}
}

// TestACommentBeforeTheHeadingHidesNoTitle: a front matter title, then an
// HTML comment, then the same title as a heading showed the title twice:
// the heading after the comment was not taken for the one the text opens
// with.
func TestACommentBeforeTheHeadingHidesNoTitle(t *testing.T) {
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"episodes/007.md": "---\ntitle: 제7화\n---\n<!-- 주석 -->\n\n## 제7화\n\n본문.\n",
		"episodes/008.md": "<!-- 주석\n여러 줄 -->\n\n# 제8화\n\n본문.\n",
		"episodes/009.md": "<!-- 주석 --> 보이는 글\n\n# 제9화\n\n본문.\n",
	})
	b := load(t, Options{Src: filepath.Join(dir, "episodes")})
	for i, want := range []struct {
		title   string
		heading bool
	}{{"제7화", true}, {"제8화", true}, {"제9화", false}} {
		ch := b.Chapters[i]
		if err := b.Parse(ch, Markdown(false)); err != nil {
			t.Fatal(err)
		}
		if ch.Title != want.title || (ch.TitleHeading != nil) != want.heading {
			t.Errorf("%s: title %q, title heading %v; want %q, %v", ch.Rel, ch.Title, ch.TitleHeading != nil, want.title, want.heading)
		}
	}
}

// TestACP949EpisodeGetsTheIconvHint: an episode whose front matter is UTF-8
// and whose text is CP949 was refused without the iconv hint the docs
// promise (the whole file, UTF-8 and CP949 mixed, is neither).
func TestACP949EpisodeGetsTheIconvHint(t *testing.T) {
	text, err := korean.EUCKR.NewEncoder().String("본문입니다.\n")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"episodes/003.md": "---\ntitle: 제3화\n---\n" + text})
	msg := loadErr(t, Options{Src: filepath.Join(dir, "episodes")})
	if want := "003.md:4:1: not UTF-8 text (byte 0xba); it looks like CP949/EUC-KR — convert it with: iconv -f CP949 -t UTF-8"; !strings.Contains(msg, want) {
		t.Errorf("error %q\nwant it to contain %q", msg, want)
	}
}

// TestDecomposedFileNamesSortAndLink: macOS saves 제2화.md decomposed (NFD);
// it sorted after 제10화.md, and a link typed composed, [앞](제2화.md), did
// not find it.
func TestDecomposedFileNamesSortAndLink(t *testing.T) {
	nfd := norm.NFD.String("제2화.md")
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"episodes/제1화.md":  "# 하나\n\n[다음](" + nfd + ")\n",
		"episodes/" + nfd:  "# 둘\n\n[앞](제1화.md)\n",
		"episodes/제10화.md": "# 열\n\n[둘째](제2화.md)\n",
	})
	b := load(t, Options{Src: filepath.Join(dir, "episodes")})
	if got := strings.Join(titles(b), " "); got != "하나 둘 열" {
		t.Errorf("order %q, want 하나 둘 열", got)
	}
	if len(b.Warnings) != 0 {
		t.Errorf("warnings: %q", b.Warnings)
	}
}
