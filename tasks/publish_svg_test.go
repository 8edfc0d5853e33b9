package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/testtools"
)

// hostileImages are images an episode may show that epubcheck rejects in a
// book, or that a reader would run or fetch from; each must be refused,
// naming the file and what to remove.
var hostileImages = []struct {
	name, file, content, want string
}{
	{"a script", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script><rect width="10" height="10"/></svg>`, "holds a script (<script>)"},
	{"a script in CDATA", "art.svg", "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">\n<script type=\"text/javascript\"><![CDATA[ if (1 < 2) alert(1) ]]></script>\n</svg>", "art.svg:3: the SVG image holds a script"},
	{"an upper-case SCRIPT", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><SCRIPT>alert(1)</SCRIPT></svg>`, "holds a script (<SCRIPT>)"},
	{"a script under another prefix", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:s="http://www.w3.org/2000/svg"><s:script>alert(1)</s:script></svg>`, "holds a script (<script>)"},
	{"a prefixed root", "art.svg", `<s:svg xmlns:s="http://www.w3.org/2000/svg"><s:script>alert(1)</s:script></s:svg>`, "is not a readable PNG, JPEG, GIF or SVG image"},
	{"an XHTML script inside", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:h="http://www.w3.org/1999/xhtml"><h:script>alert(1)</h:script></svg>`, "holds a script"},
	{"an onload handler", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="1" height="1"/></svg>`, "holds an event handler (onload=)"},
	{"an upper-case ONCLICK", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><rect ONCLICK="x()" width="1" height="1"/></svg>`, "holds an event handler (ONCLICK=)"},
	{"foreignObject", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><foreignObject width="9" height="9"><p xmlns="http://www.w3.org/1999/xhtml">hi</p></foreignObject></svg>`, "HTML inside the image (foreignObject)"},
	{"an image from the web", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><image xlink:href="http://example.com/a.png" width="9" height="9"/></svg>`, `a reference to "http://example.com/a.png" outside the image (href=)`},
	{"a use of another file", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><use href="other.svg#a"/></svg>`, `a reference to "other.svg#a" outside the image`},
	{"a link to javascript:", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="javascript:alert(1)"><rect width="1" height="1"/></a></svg>`, `a reference to "javascript:alert(1)"`},
	{"a style importing CSS", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(http://example.com/x.css);</style></svg>`, "a style that loads \"@import"},
	{"a style attribute with a remote url()", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url( 'http://example.com/p.svg#g')" width="1" height="1"/></svg>`, `a style that loads "url(http://example.com/p.svg#g'`},
	{"an xml-stylesheet", "art.svg", "<?xml version=\"1.0\"?>\n<?xml-stylesheet href=\"http://example.com/x.css\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "a stylesheet from outside the image"},
	{"entities (a billion laughs)", "art.svg", "<?xml version=\"1.0\"?>\n<!DOCTYPE svg [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><text>&b;</text></svg>", "entity declarations"},
	{"SVG 1.1's DOCTYPE", "art.svg", "<?xml version=\"1.0\"?>\n<!DOCTYPE svg PUBLIC \"-//W3C//DTD SVG 1.1//EN\" \"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd\">\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>", "art.svg:2: the SVG image holds a DOCTYPE"},
	{"text that is not XML", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><rect></svg>`, "art.svg: not a well-formed SVG image"},
	{"an SVG named .png", "art.png", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`, "art.png:1: the SVG image holds a script"},
	{"a filter from the web", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><rect filter="url(http://evil/f.svg#f)" width="1" height="1"/></svg>`, `a style that loads "url(http://evil/f.svg#f)" (filter=)`},
	{"an escaped url( in a style attribute", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:u\72l(http://evil/p.svg#g)" width="1" height="1"/></svg>`, `a CSS escape (\) in style=`},
	{"an escaped @import in <style>", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><style>@\69mport "http://evil/x.css";</style></svg>`, `a CSS escape (\) in <style>`},
	{"a set that adds onclick", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"><set attributeName="onclick" to="alert(1)"/></rect></svg>`, `an animation that sets "onclick" (<set attributeName=…>)`},
	{"an animate that sets href to javascript:", "art.svg", `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><a xlink:href="#x"><animate attributeName="xlink:href" to="javascript:alert(1)"/><rect id="x" width="1" height="1"/></a></svg>`, `an animation that sets "xlink:href"`},
	{"a .png that is text", "art.png", "not a picture at all", "art.png is not a readable PNG, JPEG, GIF or SVG image"},
}

// TestHostileImagesAreRefusedByName: md2epub embedded an SVG byte for byte,
// so a <script> in it (or onload=, foreignObject, a remote href) made a
// book epubcheck rejects, and md2epub reported success.
func TestHostileImagesAreRefusedByName(t *testing.T) {
	for _, c := range hostileImages {
		t.Run(c.name, func(t *testing.T) {
			dir := writeProject(t, map[string]string{
				"book.yaml":       "title: 그림\n",
				"episodes/001.md": "# 제1화\n\n![그림](../art/" + c.file + ")\n",
				"art/" + c.file:   c.content,
			})
			for _, uses := range []string{"md2epub", "md2pdf"} {
				_, log, err := runTask(context.Background(), t, uses, dir, map[string]any{"src": "episodes", "dest": "book.out"})
				if err == nil || !strings.Contains(err.Error(), "001.md:3: image ../art/"+c.file+": ") || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("%s: err = %v\nwant it to name 001.md:3 and contain %q\n%s", uses, err, c.want, log)
				}
				if _, err := os.Stat(filepath.Join(dir, "book.out")); err == nil {
					t.Fatalf("%s wrote a book", uses)
				}
			}
		})
	}
	t.Run("the same refusal for a cover", func(t *testing.T) {
		dir := writeProject(t, map[string]string{
			"book.yaml":       "title: 그림\ncover: cover.svg\n",
			"cover.svg":       hostileImages[0].content,
			"episodes/001.md": "# 제1화\n",
		})
		_, _, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "book.epub"})
		if err == nil || !strings.Contains(err.Error(), "cover.svg:1: the SVG image holds a script") {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestAPlainSVGStillPasses: what the checks allow — references to ids in
// the image, url(#gradient) — passes epubcheck.
func TestAPlainSVGStillPasses(t *testing.T) {
	svg := "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
		`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" version="1.1" width="100" height="100" viewBox="0 0 100 100">` +
		`<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/><stop offset="1" stop-color="#000"/></linearGradient><circle id="c" r="10"/></defs>` +
		`<style>circle { fill: url(#g); }</style><rect width="100" height="100" style="fill: url(#g)"/><use xlink:href="#c" x="50" y="50"/></svg>`
	dir := writeProject(t, map[string]string{
		"book.yaml":        "title: 그림\n",
		"episodes/001.md":  "# 제1화\n\n![그림](art.svg)\n",
		"episodes/art.svg": svg,
	})
	out, log, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "book.epub"})
	if err != nil {
		t.Fatalf("md2epub: %v\n%s", err, log)
	}
	testtools.EPUBCheck(t, out["path"].(string))
	// An SVG that opens with a comment was refused as an unknown format.
	t.Run("one opening with a comment", func(t *testing.T) {
		dir := writeProject(t, map[string]string{
			"book.yaml":        "title: 그림\n",
			"episodes/001.md":  "# 제1화\n\n![그림](art.svg)\n",
			"episodes/art.svg": "<!-- x -->\n" + svg[strings.Index(svg, "<svg"):],
		})
		out, log, err := runTask(context.Background(), t, "md2epub", dir, map[string]any{"src": "episodes", "dest": "book.epub"})
		if err != nil {
			t.Fatalf("md2epub: %v\n%s", err, log)
		}
		testtools.EPUBCheck(t, out["path"].(string))
	})
}
