package tasks_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/novelfactory/runner/internal/testtools"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
)

// commonmarkSpec is the CommonMark spec that .ci/run installs from npm
// (commonmark-spec, pinned there), relative to the repository root.
const commonmarkSpec = ".ci/node/node_modules/commonmark-spec/spec.txt"

// specExample is one example of the CommonMark spec.
type specExample struct {
	number   int
	section  string
	markdown string
}

// specExamples reads the spec's examples the way the package's index.js
// does: a fence of 32 backticks and "example", the Markdown, a line with a
// dot, the HTML; "→" stands for a tab.
func specExamples(t *testing.T) []specExample {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, commonmarkSpec))
	if err != nil {
		t.Fatalf("the CommonMark spec is missing (%v): run `bash .ci/run`, which installs npm's commonmark-spec into .ci/node", err)
	}
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	if i := strings.Index(text, "\n<!-- END TESTS -->"); i >= 0 {
		text = text[:i]
	}
	fence := strings.Repeat("`", 32)
	re := regexp.MustCompile("(?m)^" + fence + " example\n((?s:.*?))^\\.\n(?s:.*?)^" + fence + "$|^#{1,6} *(.*)$")
	var out []specExample
	section := ""
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		if !strings.HasPrefix(m[0], fence) {
			section = m[2]
			continue
		}
		out = append(out, specExample{number: len(out) + 1, section: section, markdown: strings.ReplaceAll(m[1], "→", "\t")})
	}
	return out
}

// commonmarkBook writes the spec's examples as the episodes of a book, one
// example an episode, grouped into parts by the spec's sections.
func commonmarkBook(t *testing.T) (dir string, examples []specExample) {
	t.Helper()
	examples = specExamples(t)
	if len(examples) < 600 {
		t.Fatalf("the CommonMark spec has %d examples, want about 650: is .ci/node's commonmark-spec whole?", len(examples))
	}
	dir = t.TempDir()
	episodes := filepath.Join(dir, "episodes")
	if err := os.MkdirAll(episodes, 0o755); err != nil {
		t.Fatal(err)
	}
	book := "title: CommonMark 예제\nauthor: John MacFarlane\nlanguage: en\n"
	if err := os.WriteFile(filepath.Join(dir, "book.yaml"), []byte(book), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples {
		front := fmt.Sprintf("---\ntitle: %s\npart: %s\n---\n", strconv.Quote(fmt.Sprintf("Example %d", ex.number)), strconv.Quote(ex.section))
		name := filepath.Join(episodes, fmt.Sprintf("%03d.md", ex.number))
		if err := os.WriteFile(name, []byte(front+ex.markdown), 0o644); err != nil {
			t.Fatal(err)
		}
		// The images the examples show (moon.jpg, /url, …) exist: a
		// missing image is an error by design.
		doc := manuscript.Markdown(false).Parser().Parse(text.NewReader([]byte(ex.markdown)))
		_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
			if img, ok := n.(*ast.Image); ok && entering {
				dest, err := url.PathUnescape(string(img.Destination))
				if err != nil {
					dest = string(img.Destination)
				}
				if path := filepath.Join(episodes, strings.TrimLeft(dest, "/")); !fileExists(path) {
					writeTestPNG(t, path)
				}
			}
			return ast.WalkContinue, nil
		})
	}
	return dir, examples
}

// TestTheCommonMarkSpecIsABook publishes the ~650 examples of the
// CommonMark spec — every corner of the syntax, links to nowhere, raw HTML,
// entities, tabs — as one book: the EPUB must pass epubcheck.
func TestTheCommonMarkSpecIsABook(t *testing.T) {
	dir, examples := commonmarkBook(t)
	out, log, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "spec.epub", "reproducible": true})
	if err != nil {
		t.Fatalf("md2epub: %v\n%s", err, log)
	}
	if got := out["chapters"]; got != len(examples) {
		t.Errorf("chapters = %v, want %d", got, len(examples))
	}
	testtools.EPUBCheck(t, out["path"].(string))
}

// TestTheCommonMarkSpecIsAPDF typesets the same book: all 652 examples,
// with no error. Before md2pdf fell back along a chain of fonts, four
// examples stopped it for a character NanumMyeongjo or NanumGothicCoding
// lacks (ὐ in example 3, £ in 354, ẞ in 540, ῆ in 651); since it decodes
// character references, example 27 (&#XD06; &#xcab;) makes Malayalam ആ
// and Kannada ಫ, which Noto Sans Malayalam and Kannada draw.
func TestTheCommonMarkSpecIsAPDF(t *testing.T) {
	dir, _ := commonmarkBook(t)
	with := map[string]any{"src": "episodes", "dest": "spec.pdf", "reproducible": true}
	out, log, err := runTask(context.Background(), t, "md2pdf", dir, with)
	if err != nil {
		t.Fatalf("md2pdf: %v\n%s", err, log)
	}
	info := testtools.Poppler(t, "pdfinfo", out["path"].(string))
	if !strings.Contains(info, "Pages:") {
		t.Fatalf("pdfinfo: %s", info)
	}
	text := testtools.Poppler(t, "pdftotext", out["path"].(string), "-")
	// ©, Æ, Ď, ¾ and Ӓ are example 25's and 26's references decoded.
	for _, char := range []string{"ὐ", "£", "ẞ", "ῆ", "©", "Æ", "Ď", "¾", "Ӓ", "ആ", "ಫ"} {
		if !strings.Contains(text, char) {
			t.Errorf("%s is not in the PDF's text", char)
		}
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
