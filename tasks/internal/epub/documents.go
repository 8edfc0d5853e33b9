package epub

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/novelfactory/runner/tasks/internal/manuscript"
)

func containerXML() []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
  <rootfiles>
    <rootfile full-path="EPUB/content.opf" media-type="application/oebps-package+xml" />
  </rootfiles>
</container>
`)
}

// packageDocument is content.opf: metadata, manifest, spine and guide.
func (bw *bookWriter) packageDocument() []byte {
	m := bw.book.Meta
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+
		"<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"3.0\" unique-identifier=\"book-id\" xml:lang=\"%s\">\n"+
		"  <metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:opf=\"http://www.idpf.org/2007/opf\">\n", esc(m.Language))
	fmt.Fprintf(&b, "    <dc:identifier id=\"book-id\">%s</dc:identifier>\n", esc(m.URN()))
	fmt.Fprintf(&b, "    <dc:title id=\"title\">%s</dc:title>\n    <meta refines=\"#title\" property=\"title-type\">main</meta>\n", esc(m.Title))
	if m.Subtitle != "" {
		fmt.Fprintf(&b, "    <dc:title id=\"subtitle\">%s</dc:title>\n    <meta refines=\"#subtitle\" property=\"title-type\">subtitle</meta>\n", esc(m.Subtitle))
	}
	for i, a := range m.AllAuthors() {
		fmt.Fprintf(&b, "    <dc:creator id=\"author-%d\">%s</dc:creator>\n    <meta refines=\"#author-%d\" property=\"role\" scheme=\"marc:relators\">aut</meta>\n", i+1, esc(a), i+1)
	}
	fmt.Fprintf(&b, "    <dc:language>%s</dc:language>\n", esc(m.Language))
	if m.Date != "" {
		fmt.Fprintf(&b, "    <dc:date>%s</dc:date>\n", esc(m.Date))
	}
	for _, e := range []struct{ tag, value string }{{"publisher", m.Publisher}, {"description", m.Description}, {"rights", m.Rights}} {
		if e.value != "" {
			fmt.Fprintf(&b, "    <dc:%s>%s</dc:%s>\n", e.tag, esc(e.value), e.tag)
		}
	}
	for _, s := range m.Subjects {
		fmt.Fprintf(&b, "    <dc:subject>%s</dc:subject>\n", esc(s))
	}
	if m.Series != "" {
		fmt.Fprintf(&b, "    <meta property=\"belongs-to-collection\" id=\"series\">%s</meta>\n    <meta refines=\"#series\" property=\"collection-type\">series</meta>\n", esc(m.Series))
		if m.SeriesIndex > 0 {
			fmt.Fprintf(&b, "    <meta refines=\"#series\" property=\"group-position\">%s</meta>\n", strconv.FormatFloat(m.SeriesIndex, 'f', -1, 64))
		}
	}
	fmt.Fprintf(&b, "    <meta property=\"dcterms:modified\">%s</meta>\n", bw.modified.Format("2006-01-02T15:04:05Z"))
	b.WriteString("    <meta name=\"cover\" content=\"cover-image\" />\n  </metadata>\n  <manifest>\n")
	item := func(id, href, mediaType, props string) {
		if props != "" {
			props = " properties=\"" + props + "\""
		}
		fmt.Fprintf(&b, "    <item id=\"%s\" href=\"%s\" media-type=\"%s\"%s />\n", id, esc(href), mediaType, props)
	}
	item("ncx", "toc.ncx", "application/x-dtbncx+xml", "")
	item("nav", "nav.xhtml", "application/xhtml+xml", "nav")
	item("css", "styles/book.css", "text/css", "")
	item("cover-image", bw.cover.name, bw.cover.mediaType, "cover-image")
	item("cover", "text/cover.xhtml", "application/xhtml+xml", "svg")
	item("title-page", "text/title.xhtml", "application/xhtml+xml", "")
	for i := range bw.book.Chapters {
		item(bw.chapterID[i], "text/"+bw.chapterID[i]+".xhtml", "application/xhtml+xml", "")
	}
	for i, img := range bw.book.Images {
		item(fmt.Sprintf("img-%03d", i+1), img.Name, img.MediaType, "")
	}
	if bw.fontName != "" {
		item("font", bw.fontName, bw.fontType, "")
	}
	b.WriteString("  </manifest>\n  <spine toc=\"ncx\">\n")
	b.WriteString("    <itemref idref=\"cover\" />\n    <itemref idref=\"title-page\" />\n    <itemref idref=\"nav\" />\n")
	for _, id := range bw.chapterID {
		fmt.Fprintf(&b, "    <itemref idref=\"%s\" />\n", id)
	}
	b.WriteString("  </spine>\n  <guide>\n")
	fmt.Fprintf(&b, "    <reference type=\"cover\" title=\"%s\" href=\"text/cover.xhtml\" />\n", esc(bw.labels.Cover))
	fmt.Fprintf(&b, "    <reference type=\"title-page\" title=\"%s\" href=\"text/title.xhtml\" />\n", esc(bw.labels.TitlePage))
	fmt.Fprintf(&b, "    <reference type=\"toc\" title=\"%s\" href=\"nav.xhtml\" />\n", esc(bw.labels.Contents))
	fmt.Fprintf(&b, "    <reference type=\"text\" title=\"%s\" href=\"text/%s.xhtml\" />\n", esc(bw.labels.Start), bw.chapterID[0])
	b.WriteString("  </guide>\n</package>\n")
	return b.Bytes()
}

// tocEntry is one line of the table of contents: a chapter, or a part with
// its chapters under it.
type tocEntry struct {
	title    string
	href     string
	children []tocEntry
}

// toc groups consecutive chapters of the same part.
func (bw *bookWriter) toc(root string) []tocEntry {
	var out []tocEntry
	for i, ch := range bw.book.Chapters {
		e := tocEntry{title: ch.Title, href: root + "text/" + bw.chapterID[i] + ".xhtml"}
		if ch.Part == "" {
			out = append(out, e)
			continue
		}
		if n := len(out); n > 0 && out[n-1].children != nil && out[n-1].title == ch.Part {
			out[n-1].children = append(out[n-1].children, e)
			continue
		}
		out = append(out, tocEntry{title: ch.Part, href: e.href, children: []tocEntry{e}})
	}
	return out
}

func (bw *bookWriter) navDocument() []byte {
	var b bytes.Buffer
	bw.documentStart(&b, bw.labels.Contents, "", "frontmatter")
	fmt.Fprintf(&b, "<nav epub:type=\"toc\" id=\"toc\" role=\"doc-toc\">\n<h1>%s</h1>\n", esc(bw.labels.Contents))
	var list func(entries []tocEntry, indent string)
	list = func(entries []tocEntry, indent string) {
		fmt.Fprintf(&b, "%s<ol>\n", indent)
		for _, e := range entries {
			if e.children != nil {
				fmt.Fprintf(&b, "%s  <li><span>%s</span>\n", indent, esc(e.title))
				list(e.children, indent+"  ")
				fmt.Fprintf(&b, "%s  </li>\n", indent)
				continue
			}
			fmt.Fprintf(&b, "%s  <li><a href=\"%s\">%s</a></li>\n", indent, esc(e.href), esc(e.title))
		}
		fmt.Fprintf(&b, "%s</ol>\n", indent)
	}
	list(bw.toc(""), "")
	b.WriteString("</nav>\n")
	fmt.Fprintf(&b, "<nav epub:type=\"landmarks\" id=\"landmarks\" hidden=\"hidden\">\n<h2>%s</h2>\n<ol>\n", esc(bw.labels.Contents))
	fmt.Fprintf(&b, "  <li><a href=\"text/cover.xhtml\" epub:type=\"cover\">%s</a></li>\n", esc(bw.labels.Cover))
	fmt.Fprintf(&b, "  <li><a href=\"text/title.xhtml\" epub:type=\"titlepage\">%s</a></li>\n", esc(bw.labels.TitlePage))
	fmt.Fprintf(&b, "  <li><a href=\"#toc\" epub:type=\"toc\">%s</a></li>\n", esc(bw.labels.Contents))
	fmt.Fprintf(&b, "  <li><a href=\"text/%s.xhtml\" epub:type=\"bodymatter\">%s</a></li>\n", bw.chapterID[0], esc(bw.labels.Start))
	b.WriteString("</ol>\n</nav>\n</body>\n</html>\n")
	return b.Bytes()
}

// ncx is toc.ncx, the table of contents of EPUB 2 readers.
func (bw *bookWriter) ncx() []byte {
	m := bw.book.Meta
	entries := bw.toc("")
	depth := 1
	for _, e := range entries {
		if e.children != nil {
			depth = 2
		}
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ncx xmlns=\"http://www.daisy.org/z3986/2005/ncx/\" version=\"2005-1\" xml:lang=\"%s\">\n"+
		"  <head>\n    <meta name=\"dtb:uid\" content=\"%s\" />\n    <meta name=\"dtb:depth\" content=\"%d\" />\n"+
		"    <meta name=\"dtb:totalPageCount\" content=\"0\" />\n    <meta name=\"dtb:maxPageNumber\" content=\"0\" />\n  </head>\n"+
		"  <docTitle>\n    <text>%s</text>\n  </docTitle>\n", esc(m.Language), esc(m.URN()), depth, esc(m.Title))
	for _, a := range m.AllAuthors() {
		fmt.Fprintf(&b, "  <docAuthor>\n    <text>%s</text>\n  </docAuthor>\n", esc(a))
	}
	b.WriteString("  <navMap>\n")
	id, order := 0, 0
	playOrder := map[string]int{}
	var points func(entries []tocEntry, indent string)
	points = func(entries []tocEntry, indent string) {
		for _, e := range entries {
			id++
			// Entries that point at the same file share a playOrder (a part and its first chapter).
			po, ok := playOrder[e.href]
			if !ok {
				order++
				po = order
				playOrder[e.href] = po
			}
			fmt.Fprintf(&b, "%s<navPoint id=\"nav-%d\" playOrder=\"%d\">\n%s  <navLabel>\n%s    <text>%s</text>\n%s  </navLabel>\n%s  <content src=\"%s\" />\n",
				indent, id, po, indent, indent, esc(e.title), indent, indent, esc(e.href))
			points(e.children, indent+"  ")
			fmt.Fprintf(&b, "%s</navPoint>\n", indent)
		}
	}
	points(entries, "    ")
	b.WriteString("  </navMap>\n</ncx>\n")
	return b.Bytes()
}

// coverPage shows the cover image scaled to the screen, as pandoc does.
func (bw *bookWriter) coverPage() []byte {
	var b bytes.Buffer
	bw.documentStart(&b, bw.labels.Cover, "../", "cover")
	c := bw.cover
	fmt.Fprintf(&b, "<div class=\"cover\">\n<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" version=\"1.1\" "+
		"width=\"100%%\" height=\"100%%\" viewBox=\"0 0 %d %d\" preserveAspectRatio=\"xMidYMid meet\">\n"+
		"<title>%s</title>\n<image width=\"%d\" height=\"%d\" xlink:href=\"../%s\" />\n</svg>\n</div>\n</body>\n</html>\n",
		c.width, c.height, esc(bw.book.Meta.Title), c.width, c.height, c.name)
	return b.Bytes()
}

func (bw *bookWriter) titlePage() []byte {
	m := bw.book.Meta
	var b bytes.Buffer
	bw.documentStart(&b, m.Title, "../", "frontmatter")
	b.WriteString("<section class=\"title-page\" epub:type=\"titlepage\">\n")
	fmt.Fprintf(&b, "<h1 class=\"title\">%s</h1>\n", esc(m.Title))
	if m.Subtitle != "" {
		fmt.Fprintf(&b, "<p class=\"subtitle\">%s</p>\n", esc(m.Subtitle))
	}
	if authors := m.AllAuthors(); len(authors) > 0 {
		fmt.Fprintf(&b, "<p class=\"author\">%s</p>\n", esc(strings.Join(authors, ", ")))
	}
	if m.Publisher != "" {
		fmt.Fprintf(&b, "<p class=\"publisher\">%s</p>\n", esc(m.Publisher))
	}
	b.WriteString("</section>\n</body>\n</html>\n")
	return b.Bytes()
}

// The generated cover has the proportions stores ask for (1:1.6).
const coverWidth, coverHeight = 1600, 2560

// typographicCover draws a plain cover from the title and authors, so that a
// book never ships without one. Browsers and readers draw the text with their
// own Korean fonts through the font stack.
func typographicCover(m manuscript.Metadata) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"+
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n"+
		"<title>%s</title>\n"+
		"<rect width=\"%d\" height=\"%d\" fill=\"#1f2a36\" />\n"+
		"<rect x=\"80\" y=\"80\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#c8a96a\" stroke-width=\"6\" />\n"+
		"<g font-family=\"'Noto Serif KR', 'Nanum Myeongjo', 'NanumMyeongjo', 'Apple SD Gothic Neo', serif\" text-anchor=\"middle\" fill=\"#f4efe6\">\n",
		coverWidth, coverHeight, coverWidth, coverHeight, esc(m.Title), coverWidth, coverHeight, coverWidth-160, coverHeight-160)
	lines := wrapTitle(m.Title, 9)
	size := 150
	if len(lines) > 3 {
		size = 110
	}
	y := 900 - (len(lines)-1)*size*6/10
	for _, l := range lines {
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" font-size=\"%d\" font-weight=\"bold\">%s</text>\n", coverWidth/2, y, size, esc(l))
		y += size * 13 / 10
	}
	if m.Subtitle != "" {
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"%d\" font-size=\"70\">%s</text>\n", coverWidth/2, y+40, esc(m.Subtitle))
	}
	fmt.Fprintf(&b, "<line x1=\"600\" y1=\"1700\" x2=\"1000\" y2=\"1700\" stroke=\"#c8a96a\" stroke-width=\"4\" />\n")
	if authors := m.AllAuthors(); len(authors) > 0 {
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"1900\" font-size=\"90\">%s</text>\n", coverWidth/2, esc(strings.Join(authors, ", ")))
	}
	if m.Publisher != "" {
		fmt.Fprintf(&b, "<text x=\"%d\" y=\"2320\" font-size=\"60\">%s</text>\n", coverWidth/2, esc(m.Publisher))
	}
	b.WriteString("</g>\n</svg>\n")
	return b.Bytes()
}

// wrapTitle breaks a title into lines of at most width characters, at spaces
// where it can (a Korean word is never split unless it alone is too long).
func wrapTitle(title string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(title) {
		for utf8.RuneCountInString(word) > width {
			if line != "" {
				lines = append(lines, line)
				line = ""
			}
			r := []rune(word)
			lines = append(lines, string(r[:width]))
			word = string(r[width:])
		}
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
			line += " " + word
		default:
			lines = append(lines, line)
			line = word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
