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
