package tasks_test

import (
	"archive/zip"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/testtools"
)

// writeProject writes files (path → content) under a new project folder.
func writeProject(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// epubFile reads one file of an EPUB.
func epubFile(t *testing.T, epub, name string) string {
	t.Helper()
	zr, err := zip.OpenReader(epub)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(name)
	if err != nil {
		t.Fatalf("%s: %v", epub, err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// linkedBook links its episodes to each other, to headings, to files that
// are no episodes, to a draft and to places no book may point at.
var linkedBook = map[string]string{
	"book.yaml": "title: 링크\nauthor: 한서윤\n",
	"notes.txt": "메모\n",
	"episodes/001.md": "# 제1화 첫 장면\n\n" +
		"[다음 화](002.md) · [비밀의 방](002.md#비밀의-방) · [물음표](002.md?x=1#비밀의-방) · [돌아서](../episodes/002.md)\n\n" +
		"[없는 화](003.md) · [메모](../notes.txt) · [초고](004.md) · [없는 절](002.md#없는-절)\n\n" +
		"[스크립트](javascript:alert(1)) · [파일](file:///etc/passwd) · [점점](%2e%2e/notes.txt) · [빈 곳](#) · [여기](#제1화-첫-장면) · [저기](#없는-id)\n\n" +
		"<https://example.com/길> · [메일](mailto:writer@example.com) · <irc://example.com/chan> · [깨진 주소](https://foo.bar.`baz) · [상위](https://../)\n",
	"episodes/002.md": "# 제2화\n\n[처음으로](001.md#제1화-첫-장면)\n\n## 비밀의 방\n\n문이 열렸다.\n",
	"episodes/004.md": "---\ndraft: true\n---\n# 초고\n",
}

// TestLinksBetweenEpisodesLandAndOthersBecomeText: links to other episodes
// were written as they stood (002.md), so the EPUB pointed at files it does
// not hold and epubcheck failed (RSC-007, RSC-012, RSC-020, HTM-025) while
// md2epub reported success.
func TestLinksBetweenEpisodesLandAndOthersBecomeText(t *testing.T) {
	dir := writeProject(t, linkedBook)
	out, log, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "book.epub"})
	if err != nil {
		t.Fatalf("md2epub: %v\n%s", err, log)
	}
	testtools.EPUBCheck(t, out["path"].(string))
	ch1 := epubFile(t, out["path"].(string), "EPUB/text/ch-001.xhtml")
	for _, want := range []string{
		`<a href="ch-002.xhtml">다음 화</a>`,
		`<a href="ch-002.xhtml#%EB%B9%84%EB%B0%80%EC%9D%98-%EB%B0%A9">비밀의 방</a>`,
		`<a href="ch-002.xhtml#%EB%B9%84%EB%B0%80%EC%9D%98-%EB%B0%A9">물음표</a>`,
		`<a href="ch-002.xhtml">돌아서</a>`,
		`<a href="#%EC%A0%9C1%ED%99%94-%EC%B2%AB-%EC%9E%A5%EB%A9%B4">여기</a>`,
		`<a href="mailto:writer@example.com">메일</a>`,
		`<a href="https://example.com/%EA%B8%B8">https://example.com/길</a>`,
		"없는 화 · 메모 · 초고 · 없는 절", "스크립트 · 파일 · 점점 · 빈 곳", "저기", "irc://example.com/chan", "깨진 주소", "상위",
	} {
		if !strings.Contains(ch1, want) {
			t.Errorf("ch-001.xhtml lacks %s", want)
		}
	}
	if n := strings.Count(ch1, "<a "); n != 7 {
		t.Errorf("ch-001.xhtml has %d links, want 7:\n%s", n, ch1)
	}
	for _, want := range []string{
		`001.md:5: link "003.md" points at no episode of the book`,
		`001.md:5: link "../notes.txt" points at a file that is not an episode`,
		`001.md:5: link "004.md" points at a draft`,
		`001.md:5: link "002.md#없는-절" points at #없는-절, which no heading or note of 002.md has`,
		`001.md:7: link "javascript:alert(1)" uses "javascript:"`,
		`001.md:7: link "file:///etc/passwd" uses "file:"`,
		`001.md:7: link "%2e%2e/notes.txt" points at a file that is not an episode`,
		`001.md:7: link "#" has no target`,
		`001.md:7: link "#없는-id" points at #없는-id`,
		`001.md:9: link "irc://example.com/chan" uses "irc:"`,
		"001.md:9: link \"https://foo.bar.`baz\" is not a valid address",
		`001.md:9: link "https://../" is not a web address`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("the log does not warn %s:\n%s", want, log)
		}
	}
	t.Run("broken_links: error fails the book, naming the first", func(t *testing.T) {
		_, _, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "strict.epub", "broken_links": "error"})
		if err == nil || !strings.Contains(err.Error(), `001.md:5: link "003.md" points at no episode of the book`) {
			t.Fatalf("err = %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "strict.epub")); err == nil {
			t.Fatal("a book was written")
		}
	})
	t.Run("md2pdf sets the same links as text", func(t *testing.T) {
		out, log, err := runTask(context.Background(), t, "md2pdf", dir, map[string]any{"src": "episodes", "dest": "book.pdf"})
		if err != nil {
			t.Fatalf("md2pdf: %v\n%s", err, log)
		}
		text := testtools.Poppler(t, "pdftotext", out["path"].(string), "-")
		if !strings.Contains(text, "비밀의 방") || !strings.Contains(text, "스크립트") {
			t.Fatalf("the PDF lacks the links' text:\n%s", text)
		}
	})
}

// TestAChapterShowsItsTitleOnce: a front matter title and a heading the
// text opens with gave two chapter titles — the contents showed one, the
// page both (md2epub wrote an h1 for the title above the text's own h1;
// md2pdf set the title and then the heading).
func TestAChapterShowsItsTitleOnce(t *testing.T) {
	dir := writeProject(t, map[string]string{
		"book.yaml":       "title: 제목\n",
		"episodes/001.md": "---\ntitle: 제1화 시작\n---\n# 프롤로그\n\n첫 문장.\n",
		"episodes/002.md": "---\ntitle: 제2화  끝\n---\n# 제 2화 끝\n\n둘째 문장.\n",
		"episodes/003.md": "---\ntitle: 제3화 밤\n---\n## 어둠 속에서\n\n셋째 문장.\n",
		"episodes/004.md": "# 제4화 *새벽*\n\n넷째 문장.\n",
		"episodes/005.md": "# 톰 &amp; 제리 \\*별\\* &#x2014; 끝\n\n다섯째 문장.\n",
	})
	out, log, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "book.epub"})
	if err != nil {
		t.Fatalf("md2epub: %v\n%s", err, log)
	}
	testtools.EPUBCheck(t, out["path"].(string))
	nav := epubFile(t, out["path"].(string), "EPUB/nav.xhtml")
	h1 := regexp.MustCompile(`<h1[^>]*>(.*?)</h1>`)
	for _, c := range []struct{ file, title, heading string }{
		{"ch-001", "제1화 시작", "제1화 시작"},
		{"ch-002", "제2화  끝", "제2화  끝"},
		{"ch-003", "제3화 밤", "제3화 밤"},
		{"ch-004", "제4화 새벽", "제4화 <em>새벽</em>"},
		{"ch-005", "톰 &amp; 제리 *별* — 끝", "톰 &amp; 제리 *별* — 끝"},
	} {
		doc := epubFile(t, out["path"].(string), "EPUB/text/"+c.file+".xhtml")
		got := h1.FindAllStringSubmatch(doc, -1)
		if len(got) != 1 || got[0][1] != c.heading {
			t.Errorf("%s: h1s %q, want one, %q", c.file, got, c.heading)
		}
		if !strings.Contains(nav, ">"+c.title+"</a>") {
			t.Errorf("the contents do not list %q", c.title)
		}
	}
	if doc := epubFile(t, out["path"].(string), "EPUB/text/ch-001.xhtml"); strings.Contains(doc, ">프롤로그<") {
		t.Error("ch-001 still shows the heading the front matter title replaces")
	}
	if doc := epubFile(t, out["path"].(string), "EPUB/text/ch-003.xhtml"); !strings.Contains(doc, "<h2") {
		t.Error("ch-003 lost its second-level heading, which is text, not the title")
	}
	pdf, log, err := runTask(context.Background(), t, "md2pdf", dir, map[string]any{"src": "episodes", "dest": "book.pdf"})
	if err != nil {
		t.Fatalf("md2pdf: %v\n%s", err, log)
	}
	text := testtools.Poppler(t, "pdftotext", pdf["path"].(string), "-")
	if strings.Contains(text, "프롤로그") || strings.Contains(text, "제 2화 끝") {
		t.Errorf("the PDF sets a heading the front matter title replaces:\n%s", text)
	}
	if !strings.Contains(text, "어둠 속에서") {
		t.Errorf("the PDF lost ch-003's second-level heading:\n%s", text)
	}
}
