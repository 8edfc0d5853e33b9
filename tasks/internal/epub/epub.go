// Package epub writes a manuscript as an EPUB 3 book (with an NCX for EPUB 2
// readers) that epubcheck accepts without errors or warnings.
//
// It writes the container itself with archive/zip rather than through
// go-epub: go-epub v1.2.1 needs a fix for nearly every file it writes
// (package ids from file names, no lang, an English TOC heading kept out of
// the spine, a wrong dtb:uid, the current time as modified date, images
// resolved against the working directory), and a wrapper that rewrites all of
// them would be larger than the writer.
package epub

import (
	"archive/zip"
	"bytes"
	"context"
	_ "embed" // the default stylesheet
	"fmt"
	"hash/crc32"
	"io"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/klauspost/compress/flate"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/util"

	"github.com/novelfactory/runner/internal/parallel"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
)

//go:embed book.css
var defaultCSS string

// DefaultCSS is the stylesheet books get unless told otherwise.
func DefaultCSS() string { return defaultCSS }

// Options shape the book beyond its manuscript.
type Options struct {
	// CSS is a stylesheet file added after the default one.
	CSS string
	// NoDefaultCSS leaves runner's stylesheet out, so CSS replaces it.
	NoDefaultCSS bool
	// Font is a font file embedded and used for the body text.
	Font string
	// Modified is the book's dcterms:modified and every entry's time.
	Modified time.Time
	// HardBreaks renders line breaks inside paragraphs as line breaks.
	HardBreaks bool
}

// Stats describe a written book.
type Stats struct {
	Chapters, Chars, Images int
}

// Write renders the book into w as an EPUB.
func Write(ctx context.Context, w io.Writer, b *manuscript.Book, opt Options) (Stats, error) {
	bw := &bookWriter{book: b, opt: opt, labels: labelsFor(b.Meta.Language), modified: opt.Modified.UTC().Truncate(time.Second)}
	if err := bw.plan(); err != nil {
		return Stats{}, err
	}
	zw := zip.NewWriter(w)
	// One compressor, reset for each entry: entries are written one at a
	// time, and a fresh one per entry would allocate a megabyte each.
	var fw *flate.Writer
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		if fw == nil {
			var err error
			fw, err = flate.NewWriter(out, flate.DefaultCompression)
			return fw, err
		}
		fw.Reset(out)
		return fw, nil
	})
	bw.zw = zw
	if err := bw.writeAll(ctx); err != nil {
		return Stats{}, err
	}
	if err := zw.Close(); err != nil {
		return Stats{}, fmt.Errorf("finish epub: %w", err)
	}
	st := Stats{Chapters: len(b.Chapters), Images: len(b.Images)}
	for _, ch := range b.Chapters {
		st.Chars += ch.Chars
	}
	return st, nil
}

type bookWriter struct {
	book     *manuscript.Book
	opt      Options
	labels   labels
	modified time.Time
	zw       *zip.Writer

	cover     cover
	fontName  string
	fontType  string
	extraCSS  string
	chapterID []string
}

// cover is the cover image: the user's, or one drawn from the title.
type cover struct {
	name, mediaType string
	width, height   int
	data            []byte // generated covers only
	path            string // a user's cover
}

func (bw *bookWriter) plan() error {
	m := bw.book.Meta
	if m.Cover != "" {
		img, err := manuscript.InspectImage(m.Cover)
		if err != nil {
			return fmt.Errorf("cover: %w", err)
		}
		if img.MediaType == "image/gif" {
			return fmt.Errorf("cover %s: use a JPEG or PNG image (stores reject GIF covers)", m.Cover)
		}
		bw.cover = cover{name: "images/cover" + manuscript.ExtFor(img.MediaType), mediaType: img.MediaType, width: img.Width, height: img.Height, path: m.Cover}
		if img.MediaType == "image/svg+xml" {
			bw.cover.width, bw.cover.height = 1600, 2560
		}
	} else {
		bw.cover = cover{name: "images/cover.svg", mediaType: "image/svg+xml", width: coverWidth, height: coverHeight, data: typographicCover(m)}
	}
	if bw.opt.Font != "" {
		ext := strings.ToLower(filepath.Ext(bw.opt.Font))
		types := map[string]string{".ttf": "font/ttf", ".otf": "font/otf", ".woff": "font/woff", ".woff2": "font/woff2"}
		t, ok := types[ext]
		if !ok {
			return fmt.Errorf("font %s: use a .ttf, .otf, .woff or .woff2 file", bw.opt.Font)
		}
		bw.fontName, bw.fontType = "fonts/body"+ext, t
	}
	if bw.opt.CSS != "" {
		extra, err := regfile.ReadFile(bw.opt.CSS)
		if err != nil {
			return fmt.Errorf("stylesheet: %w", err)
		}
		bw.extraCSS = strings.TrimPrefix(strings.TrimPrefix(string(extra), "\ufeff"), "@charset \"UTF-8\";")
		allowed := map[string]bool{}
		if bw.fontName != "" {
			allowed["../"+bw.fontName] = true
		}
		if err := checkCSS(bw.opt.CSS, string(extra), allowed); err != nil {
			return fmt.Errorf("stylesheet: %w", err)
		}
	}
	for _, ch := range bw.book.Chapters {
		bw.chapterID = append(bw.chapterID, ch.ID) // links between episodes point at ID.xhtml
	}
	return nil
}

func (bw *bookWriter) writeAll(ctx context.Context) error {
	// The mimetype comes first, stored, with no extra field (OCF 3.0 §4.3).
	mt, err := bw.zw.CreateHeader(&zip.FileHeader{Name: "mimetype", Method: zip.Store})
	if err != nil {
		return err
	}
	if _, err := io.WriteString(mt, "application/epub+zip"); err != nil {
		return err
	}
	files := []struct {
		name string
		data func() []byte
	}{
		{"META-INF/container.xml", containerXML},
		{"EPUB/content.opf", bw.packageDocument},
		{"EPUB/nav.xhtml", bw.navDocument},
		{"EPUB/toc.ncx", bw.ncx},
		{"EPUB/styles/book.css", bw.stylesheet},
		{"EPUB/text/cover.xhtml", bw.coverPage},
		{"EPUB/text/title.xhtml", bw.titlePage},
	}
	for _, f := range files {
		if err := bw.add(f.name, f.data()); err != nil {
			return err
		}
	}
	if err := bw.addCover(); err != nil {
		return err
	}
	chapters, err := bw.renderChapters(ctx)
	if err != nil {
		return err
	}
	for i, c := range chapters {
		h := bw.header("EPUB/text/"+bw.chapterID[i]+".xhtml", true)
		h.CRC32, h.CompressedSize64, h.UncompressedSize64 = c.crc, uint64(len(c.data)), c.size
		w, err := bw.zw.CreateRaw(h)
		if err != nil {
			return fmt.Errorf("add %s: %w", h.Name, err)
		}
		if _, err := w.Write(c.data); err != nil {
			return fmt.Errorf("add %s: %w", h.Name, err)
		}
	}
	for _, img := range bw.book.Images {
		if err := bw.addFile("EPUB/"+img.Name, img.Path, true); err != nil {
			return err
		}
	}
	if bw.fontName != "" {
		if err := bw.addFile("EPUB/"+bw.fontName, bw.opt.Font, true); err != nil {
			return err
		}
	}
	return nil
}

func (bw *bookWriter) header(name string, compress bool) *zip.FileHeader {
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: bw.modified}
	if !compress {
		h.Method = zip.Store
	}
	return h
}

func (bw *bookWriter) add(name string, data []byte) error {
	w, err := bw.zw.CreateHeader(bw.header(name, true))
	if err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("add %s: %w", name, err)
	}
	return nil
}

func (bw *bookWriter) addFile(name, path string, compress bool) error {
	f, err := regfile.Open(path)
	if err != nil {
		return fmt.Errorf("add %s: %w", path, err)
	}
	defer f.Close()
	ext := strings.ToLower(filepath.Ext(path))
	if ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".gif" || ext == ".woff" || ext == ".woff2" {
		compress = false // already compressed
	}
	w, err := bw.zw.CreateHeader(bw.header(name, compress))
	if err != nil {
		return fmt.Errorf("add %s: %w", path, err)
	}
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("add %s: %w", path, err)
	}
	return nil
}

func (bw *bookWriter) addCover() error {
	if bw.cover.path == "" {
		return bw.add("EPUB/"+bw.cover.name, bw.cover.data)
	}
	if bw.cover.mediaType != "image/jpeg" {
		return bw.addFile("EPUB/"+bw.cover.name, bw.cover.path, true)
	}
	data, err := regfile.ReadFile(bw.cover.path)
	if err != nil {
		return fmt.Errorf("cover: %w", err)
	}
	w, err := bw.zw.CreateHeader(bw.header("EPUB/"+bw.cover.name, false)) // stored: JPEG is compressed
	if err != nil {
		return fmt.Errorf("add cover: %w", err)
	}
	_, err = w.Write(withJFIF(data))
	return err
}

func (bw *bookWriter) stylesheet() []byte {
	var sb strings.Builder
	if !bw.opt.NoDefaultCSS {
		sb.WriteString(defaultCSS)
	} else {
		sb.WriteString("@charset \"UTF-8\";\n")
	}
	if bw.fontName != "" {
		fmt.Fprintf(&sb, "\n@font-face {\n  font-family: \"BookBody\";\n  src: url(\"../%s\");\n}\n\nbody {\n  font-family: \"BookBody\", serif;\n}\n", bw.fontName)
	}
	if bw.extraCSS != "" {
		sb.WriteString("\n/* " + filepath.Base(bw.opt.CSS) + " */\n")
		sb.WriteString(bw.extraCSS)
	}
	return []byte(sb.String())
}

// compressed is a chapter rendered and deflated, ready for the zip.
type compressed struct {
	data []byte
	crc  uint32
	size uint64
}

// chapterWorker is what one goroutine needs to render and deflate chapters.
type chapterWorker struct {
	md  goldmark.Markdown
	buf bytes.Buffer
	fw  *flate.Writer
}

// renderChapters renders and deflates the chapters on every core.
func (bw *bookWriter) renderChapters(ctx context.Context) ([]compressed, error) {
	out := make([]compressed, len(bw.book.Chapters))
	workers := runtime.GOMAXPROCS(0)
	pool := make(chan *chapterWorker, workers)
	for range workers {
		md := manuscript.Markdown(bw.opt.HardBreaks)
		md.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(sceneBreakRenderer{text: "* * *", label: bw.labels.SceneBreak}, 100)))
		fw, err := flate.NewWriter(io.Discard, flate.DefaultCompression)
		if err != nil {
			return nil, err
		}
		pool <- &chapterWorker{md: md, fw: fw}
	}
	err := parallel.Do(ctx, len(out), workers, func(_ context.Context, i int) error {
		w := <-pool
		defer func() { pool <- w }()
		ch := bw.book.Chapters[i]
		w.buf.Reset()
		if err := bw.book.Parse(ch, w.md); err != nil {
			return err
		}
		err := bw.chapter(&w.buf, w.md, i, ch)
		ch.Release()
		if err != nil {
			return fmt.Errorf("render %s: %w", ch.Rel, err)
		}
		var z bytes.Buffer
		w.fw.Reset(&z)
		if _, err := w.fw.Write(w.buf.Bytes()); err != nil {
			return err
		}
		if err := w.fw.Close(); err != nil {
			return err
		}
		out[i] = compressed{data: z.Bytes(), crc: crc32.ChecksumIEEE(w.buf.Bytes()), size: uint64(w.buf.Len())}
		return nil
	})
	return out, err
}

// chapter renders one episode as an XHTML content document.
func (bw *bookWriter) chapter(buf *bytes.Buffer, md goldmark.Markdown, i int, ch *manuscript.Chapter) error {
	markDialogue(ch.Doc, ch.Source)
	// The chapter shows Title once, in the heading that stands for it: with
	// that heading's markup when it says Title, else with Title's words (its
	// id and footnote references kept, so that links to it and back from
	// the notes still land).
	if h := ch.TitleHeading; h != nil {
		if manuscript.PlainText(h, ch.Source) != ch.Title {
			var notes []ast.Node
			_ = ast.Walk(h, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
				if _, ok := n.(*east.FootnoteLink); ok && entering {
					notes = append(notes, n)
				}
				return ast.WalkContinue, nil
			})
			h.RemoveChildren(h)
			title := ast.NewString([]byte(ch.Title))
			title.SetRaw(true) // escaped as it is written, never read as Markdown
			h.AppendChild(h, title)
			for _, n := range notes {
				h.AppendChild(h, n)
			}
		}
		h.Level = 1
		h.SetAttributeString("class", []byte("chapter-title"))
	}
	bw.documentStart(buf, ch.Title, "../", "bodymatter")
	fmt.Fprintf(buf, "<section id=\"%s\" class=\"chapter\" epub:type=\"chapter\" role=\"doc-chapter\">\n", bw.chapterID[i])
	if ch.TitleHeading == nil {
		fmt.Fprintf(buf, "<h1 class=\"chapter-title\">%s</h1>\n", esc(ch.Title))
	}
	start := buf.Len()
	if err := md.Renderer().Render(buf, ch.Source, ch.Doc); err != nil {
		return err
	}
	if r, bad := badXMLChar(buf.Bytes()[start:]); bad {
		// The episode's text was checked; a character reference made it.
		return fmt.Errorf("%s: a character reference makes U+%04X, which XML cannot hold (epubcheck could not read the chapter); remove it", charRefPlace(ch, r), r)
	}
	if bytes.Contains(buf.Bytes()[start:], []byte(`class="footnote`)) {
		body := footnoteTypes.Replace(string(buf.Bytes()[start:]))
		buf.Truncate(start)
		buf.WriteString(body)
	}
	buf.WriteString("</section>\n</body>\n</html>\n")
	return nil
}

// documentStart writes the head of an XHTML content document.
func (bw *bookWriter) documentStart(buf *bytes.Buffer, title, root, bodyType string) {
	lang := esc(bw.book.Meta.Language)
	fmt.Fprintf(buf, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE html>\n"+
		"<html xmlns=\"http://www.w3.org/1999/xhtml\" xmlns:epub=\"http://www.idpf.org/2007/ops\" xml:lang=\"%s\" lang=\"%s\">\n"+
		"<head>\n<meta charset=\"utf-8\" />\n<title>%s</title>\n<link rel=\"stylesheet\" type=\"text/css\" href=\"%sstyles/book.css\" />\n</head>\n"+
		"<body epub:type=\"%s\">\n", lang, lang, esc(title), root, bodyType)
}

// markDialogue gives paragraphs that open with a quotation mark or a dash the
// class "dialogue", so a stylesheet can set them apart.
func markDialogue(doc ast.Node, source []byte) {
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		p, ok := n.(*ast.Paragraph)
		if !ok {
			continue
		}
		var first []byte
		switch t := p.FirstChild().(type) {
		case *ast.String:
			first = t.Value
		case *ast.Text:
			first = t.Segment.Value(source)
		}
		for _, open := range []string{"\"", "“", "'", "‘", "「", "『", "—", "―"} {
			if bytes.HasPrefix(first, []byte(open)) {
				p.SetAttributeString("class", []byte("dialogue"))
				break
			}
		}
	}
}

// sceneBreakRenderer draws a thematic break (*** or * * *) as a visible,
// centred ornament that screen readers announce as a separator.
type sceneBreakRenderer struct{ text, label string }

func (r sceneBreakRenderer) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(ast.KindThematicBreak, func(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			fmt.Fprintf(w, "<p class=\"scene-break\" role=\"separator\" aria-label=\"%s\">%s</p>\n", esc(r.label), esc(r.text))
		}
		return ast.WalkContinue, nil
	})
}

// footnoteTypes adds EPUB's structural semantics to goldmark's footnotes,
// so that readers show them as pop-up notes.
var footnoteTypes = strings.NewReplacer(
	`class="footnote-ref" role="doc-noteref"`, `class="footnote-ref" epub:type="noteref" role="doc-noteref"`,
	`<div class="footnotes" role="doc-endnotes">`, `<div class="footnotes" epub:type="endnotes" role="doc-endnotes">`,
	`<li id="fn:`, `<li epub:type="endnote" id="fn:`,
)

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\"", "&quot;")

// esc escapes text for XML content and attribute values.
func esc(s string) string { return escaper.Replace(s) }

// badXMLChar finds the first character XML 1.0 cannot hold in UTF-8 text: a
// control character other than tab and line breaks, U+FFFE or U+FFFF.
func badXMLChar(b []byte) (rune, bool) {
	for i, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return rune(c), true
		}
		if c == 0xEF && i+2 < len(b) && b[i+1] == 0xBF && (b[i+2] == 0xBE || b[i+2] == 0xBF) {
			return 0xFFFE + rune(b[i+2]-0xBE), true
		}
	}
	return 0, false
}

var charRef = regexp.MustCompile(`&#([xX][0-9a-fA-F]{1,8}|[0-9]{1,10});`)

// charRefPlace is episode:line:col of the first character reference in
// the episode that stands for r, or the episode alone.
func charRefPlace(ch *manuscript.Chapter, r rune) string {
	for _, m := range charRef.FindAllSubmatchIndex(ch.Source, -1) {
		num := string(ch.Source[m[2]:m[3]])
		base := 10
		if num[0] == 'x' || num[0] == 'X' {
			num, base = num[1:], 16
		}
		if v, err := strconv.ParseInt(num, base, 32); err == nil && rune(v) == r {
			line := manuscript.LineOf(ch.Source, m[0])
			col := utf8.RuneCount(ch.Source[bytes.LastIndexByte(ch.Source[:m[0]], '\n')+1:m[0]]) + 1
			return fmt.Sprintf("%s:%d:%d", ch.Rel, line, col)
		}
	}
	return ch.Rel
}
