package tasks_test

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/testtools"
)

// TestHostileManuscriptsMakeBooksEpubcheckAccepts: odd but legal input —
// links of every spelling, titles and headings that collide, images whose
// names lie — either gives a book epubcheck accepts or an error naming the
// file. Each case is a row of docs/security.md ("Publishing").
func TestHostileManuscriptsMakeBooksEpubcheckAccepts(t *testing.T) {
	var pngData, jpegData bytes.Buffer
	if err := png.Encode(&pngData, image.NewGray(image.Rect(0, 0, 64, 64))); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpegData, image.NewGray(image.Rect(0, 0, 16, 16)), nil); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"book.yaml": "title: 적대\n",
		"episodes/001.md": "---\ntitle: 제1화\n---\n# 프롤로그[^1]\n\n[프롤로그로](#프롤로그) · [주석](#fn:1) · [대문자](HTTPS://EXAMPLE.COM/A) · [점](./002.md) · [뿌리](/episodes/002.md)\n\n" +
			"[대소문자](002.MD) · [공백](<010 열 번째.md>) · [인코딩](010%20%EC%97%B4%20%EB%B2%88%EC%A7%B8.md) · [망](//evil.example/x) · [데이터](data:text/html,hi) · [빈 메일](mailto:) · [같은 절](002.md#장면-1)\n\n" +
			"[한국](https://한국.kr/길) · <https://한국.kr:8443>\n\n" +
			"![JPEG인데 png](fake.png)\n\n[^1]: 주석.\n",
		"episodes/002.md":       "# 제2화\n\n## 장면\n\n하나.\n\n## 장면\n\n둘.\n",
		"episodes/010 열 번째.md":  "# 제3화\n\n셋.\n",
		"episodes/fake.png":     jpegData.String(),
		"episodes/003-image.md": "# 제4화\n\n![그림](whole.png)\n",
		"episodes/whole.png":    pngData.String(),
	}
	dir := writeProject(t, files)
	out, log, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "book.epub"})
	if err != nil {
		t.Fatalf("md2epub: %v\n%s", err, log)
	}
	testtools.EPUBCheck(t, out["path"].(string))
	ch1 := epubFile(t, out["path"].(string), "EPUB/text/ch-001.xhtml")
	for _, want := range []string{
		`<h1 id="프롤로그" class="chapter-title">제1화<sup id="fnref:1">`, `href="#%ED%94%84%EB%A1%A4%EB%A1%9C%EA%B7%B8"`, `href="#fn:1"`, `href="HTTPS://EXAMPLE.COM/A"`,
		`<a href="ch-002.xhtml">점</a>`, `<a href="ch-002.xhtml">뿌리</a>`, `<a href="ch-004.xhtml">공백</a>`, `<a href="ch-004.xhtml">인코딩</a>`,
		`<a href="ch-002.xhtml#%EC%9E%A5%EB%A9%B4-1">같은 절</a>`, "대소문자", "망", "데이터", "빈 메일", `src="../images/img-001.jpg"`,
		`<a href="https://xn--3e0b707e.kr/%EA%B8%B8">한국</a>`, `<a href="https://xn--3e0b707e.kr:8443">https://한국.kr:8443</a>`,
	} {
		if !strings.Contains(ch1, want) {
			t.Errorf("ch-001.xhtml lacks %s:\n%s", want, ch1)
		}
	}
	for _, want := range []string{`link "002.MD" points at no episode`, `link "//evil.example/x" is a network path`, `link "data:text/html,hi" uses "data:"`, `link "mailto:" is not a mail address`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not warn %s:\n%s", want, log)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "book.epub")); err != nil {
		t.Fatal(err)
	}
}

// TestADamagedImageIsRefused: a PNG cut short after its header (its
// first 45 bytes) passed md2epub and epubcheck, which read only the header,
// and showed as a broken picture; as the cover too.
func TestADamagedImageIsRefused(t *testing.T) {
	var pngData bytes.Buffer
	if err := png.Encode(&pngData, image.NewGray(image.Rect(0, 0, 64, 64))); err != nil {
		t.Fatal(err)
	}
	cut := pngData.String()[:45]
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"in an episode", map[string]string{"book.yaml": "title: 그림\n", "episodes/001.md": "# 제1화\n\n![잘린 그림](cut.png)\n", "episodes/cut.png": cut},
			"001.md:3: image cut.png: "},
		{"as the cover", map[string]string{"book.yaml": "title: 그림\ncover: cut.png\n", "episodes/001.md": "# 제1화\n\n본문.\n", "cut.png": cut},
			"book.yaml:2:8: cover: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeProject(t, c.files)
			_, _, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "book.epub"})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "cut.png is a damaged PNG image") {
				t.Fatalf("err = %v, want %q and a damaged PNG", err, c.want)
			}
		})
	}
}

// TestControlCharactersAreNamed: a bell (U+0007) or Word's vertical tab
// (U+000B) in an episode, written or as a character reference (&#7;), went
// into the XHTML as it was; epubcheck could not parse the chapter (FATAL
// RSC-016) while md2epub reported success. md2pdf refuses the characters
// too; it sets a reference as the text it is written as.
func TestControlCharactersAreNamed(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"a bell", "# 제1화\n\n벨\x07소리.\n", "001.md:3:2: character U+0007 cannot be in a book"},
		{"a vertical tab", "# 제1화\n\n줄\x0b바꿈.\n", "001.md:3:2: character U+000B"},
		{"U+FFFE", "# 제1화\n\n비문자 \ufffe.\n", "001.md:3:5: character U+FFFE"},
		{"a bell as a character reference", "# 제1화\n\n벨&#7;소리.\n", "001.md:3:2: a character reference makes U+0007"},
		{"U+FFFF as a hex reference", "# 제1화\n\n`&#7;` 는 코드. &#xFFFF;\n", "001.md:3:14: a character reference makes U+FFFF"},
		{"a bell in the title heading", "# 제1화 &#x7;\n\n본문.\n", `001.md: the title "제1화 \a" holds U+0007`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{"book.yaml": "title: 제어\n", "episodes/001.md": c.text})
			for _, uses := range []string{"md2epub", "md2pdf"} {
				_, _, err := runTask(context.Background(), t, uses, dir, map[string]any{"src": "episodes", "dest": "book.out"})
				if uses == "md2pdf" && strings.Contains(c.name, "reference") {
					continue // md2pdf sets a reference's text as written (&#7;): no harm in a PDF
				}
				if err == nil || uses == "md2epub" && !strings.Contains(err.Error(), c.want) {
					t.Fatalf("%s: err = %v, want %q", uses, err, c.want)
				}
			}
		})
	}
}

// TestAStylesheetEpubcheckRejectsIsNamed: css: was appended as it was, so
// an @import, a url() of a file the book does not hold or an unclosed block
// made epubcheck fail (RSC-006, OPF-014, RSC-007, CSS-008) while md2epub
// reported success.
func TestAStylesheetEpubcheckRejectsIsNamed(t *testing.T) {
	for _, c := range []struct{ name, css, want string }{
		{"an @import", "p { margin: 0; }\n@import url(\"http://example.com/x.css\");\n", "style.css:2:1: @import loads another stylesheet"},
		{"a url() of a file the book lacks", "body {\n  background: url(bg.png);\n}\n", "style.css:2:15: url(bg.png) loads a file the book does not hold"},
		{"a remote url()", "body { background: url( 'https://example.com/a.png' ); }\n", "style.css:1:20: url(https://example.com/a.png) loads a file"},
		{"a block never closed", "p { color: red;\n", "style.css:1:3: a { is never closed"},
		{"a comment never closed", "p { color: red; }\n/* 끝\n", "style.css:2:1: a comment (/*) is never closed"},
		{"a stray }", "p { color: red; } }\n", "style.css:1:19: a } closes no block"},
		{"HTML pasted in", "p { color: red; }\n</style><script>x</script>\n", "style.css:2:1: a < outside a string or comment is not CSS"},
		{"CP949 bytes", "p { color: red; }\n/* \xb1\xdb\xb2\xc3 */\n", "style.css:2:4: not UTF-8 text (byte 0xb1)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{"book.yaml": "title: 스타일\ncss: style.css\n", "style.css": c.css, "episodes/001.md": "# 제1화\n\n본문.\n"})
			_, _, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "book.epub"})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "book.epub")); err == nil {
				t.Fatal("a book was written")
			}
		})
	}
	t.Run("the embedded font, data: and url(#id) pass", func(t *testing.T) {
		css := "/* 본문 { } */\n@font-face { font-family: \"Mine\"; src: url(\"../fonts/body.ttf\"); }\n" +
			"body { font-family: \"Mine\"; background: url(data:image/gif;base64,R0lGODlhAQABAAAAACw=); content: \"}\"; }\n" +
			"p::before { content: \"<\"; } /* a < in a comment */ li > p { margin: 0; }\n"
		dir := writeProject(t, map[string]string{"book.yaml": "title: 스타일\ncss: style.css\n", "style.css": css, "episodes/001.md": "# 제1화\n\n본문.\n"})
		out, log, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "book.epub", "font": "/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf"})
		if err != nil {
			t.Fatalf("md2epub: %v\n%s", err, log)
		}
		testtools.EPUBCheck(t, out["path"].(string))
	})
}
