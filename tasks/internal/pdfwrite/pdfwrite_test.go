package pdfwrite_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/testtools"
	"github.com/novelfactory/runner/tasks/internal/pdfwrite"
)

// TestAPageReadsBack writes one page of text in a TrueType font by hand —
// Korean, and an emoji past U+FFFF — and reads it back with poppler: the
// font is an embedded subset and the text is extractable.
func TestAPageReadsBack(t *testing.T) {
	var out bytes.Buffer
	w := pdfwrite.New(&out)
	pages, res := w.Alloc(), w.Alloc()
	for _, c := range []struct{ path, name, text string }{
		{"/usr/share/fonts/truetype/nanum/NanumMyeongjo.ttf", "NanumMyeongjo", "가나다 서고"},
		{"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans", "😊 é"},
	} {
		data, err := os.ReadFile(c.path)
		if err != nil {
			t.Fatalf("%v (.ci/run installs fonts-nanum and fonts-dejavu-core)", err)
		}
		f, err := pdfwrite.NewFont(w, data, c.name, "ABCDEF")
		if err != nil {
			t.Fatal(err)
		}
		content, page := w.Alloc(), w.Alloc()
		w.Stream(content, "", []byte("BT /F1 12 Tf 72 700 Td "+f.Encode(c.text)+" Tj ET"), true)
		w.Object(page, "<</Type /Page /Parent "+ref(pages)+" /MediaBox [0 0 595 842] /Resources "+ref(res)+" /Contents "+ref(content)+">>")
		w.Object(res, "<</Font <</F1 "+ref(f.ID)+">>>>")
		w.Object(pages, "<</Type /Pages /Kids ["+ref(page)+"] /Count 1>>")
		if err := f.Write(w); err != nil {
			t.Fatal(err)
		}
		catalog, info := w.Alloc(), w.Alloc()
		w.Object(catalog, "<</Type /Catalog /Pages "+ref(pages)+">>")
		w.Object(info, "<</Title "+pdfwrite.Text("서고 (제1권) \\ 😊")+">>")
		if err := w.Finish(catalog, info); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "page.pdf")
		if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		// pdftotext guesses spaces from gaps; compare without them.
		nospace := strings.NewReplacer(" ", "", "\n", "")
		if text := testtools.Poppler(t, "pdftotext", "-enc", "UTF-8", path, "-"); !strings.Contains(nospace.Replace(text), nospace.Replace(c.text)) {
			t.Errorf("pdftotext gives %q, want %q", text, c.text)
		}
		if fonts := testtools.Poppler(t, "pdffonts", path); !strings.Contains(fonts, "ABCDEF+"+c.name) || !strings.Contains(fonts, "yes yes yes") {
			t.Errorf("pdffonts:\n%s", fonts)
		}
		if info := testtools.Poppler(t, "pdfinfo", path); !strings.Contains(info, "서고 (제1권) \\ 😊") {
			t.Errorf("pdfinfo:\n%s", info)
		}
		if size := out.Len(); size > len(data)/4 {
			t.Errorf("a page of %d characters made a %d-byte file from a %d-byte font: not a subset", len([]rune(c.text)), size, len(data))
		}
		out.Reset()
		w = pdfwrite.New(&out)
		pages, res = w.Alloc(), w.Alloc()
	}
}

// TestObjectsMustBeWrittenOnce: an object allocated and never written, or
// written twice, is an error at Finish, not a file with a broken xref.
func TestObjectsMustBeWrittenOnce(t *testing.T) {
	w := pdfwrite.New(&bytes.Buffer{})
	a := w.Alloc()
	w.Alloc()
	w.Object(a, "<<>>")
	if err := w.Finish(a, a); err == nil || !strings.Contains(err.Error(), "object 2 allocated but never written") {
		t.Errorf("never written: %v", err)
	}
	w = pdfwrite.New(&bytes.Buffer{})
	a, b := w.Alloc(), w.Alloc()
	w.Object(a, "<<>>")
	w.Object(a, "<<>>")
	w.Object(b, "<<>>")
	if err := w.Finish(a, b); err == nil || !strings.Contains(err.Error(), "object 1 written twice") {
		t.Errorf("written twice: %v", err)
	}
}

func ref(id int) string { return fmt.Sprintf("%d 0 R", id) }
