package pdfbook

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/novelfactory/runner/tasks/internal/manuscript"
	"github.com/novelfactory/runner/tasks/internal/typeset"
)

// Config is the page and type of a book.
type Config struct {
	// PageWidth and PageHeight are in millimetres.
	PageWidth, PageHeight float64
	// Margins in millimetres.
	Top, Bottom, Left, Right float64
	// FontSize of body text in points; Leading is the line height as a multiple of it.
	FontSize, Leading float64
}

// Check refuses a page with no room for text or for one line, or type of
// no size, which would set nothing, far off the page, or never fill one.
func (c Config) Check() error {
	w, h := c.PageWidth-c.Left-c.Right, c.PageHeight-c.Top-c.Bottom
	switch {
	case !(w >= 10 && h >= 10 && c.PageWidth <= 5000 && c.PageHeight <= 5000):
		return fmt.Errorf("page %gx%g mm with margins %g %g %g %g mm leaves a text area of %.4gx%.4g mm; at least 10x10 mm is needed", c.PageWidth, c.PageHeight, c.Top, c.Right, c.Bottom, c.Left, w, h)
	case !(c.FontSize >= 1 && c.FontSize <= 200):
		return fmt.Errorf("font size %g pt: use 1 to 200", c.FontSize)
	case !(c.Leading >= 0.5 && c.Leading <= 10):
		return fmt.Errorf("line height %g: use 0.5 to 10 times the font size", c.Leading)
	case c.FontSize*c.Leading*ptToMM > h:
		return fmt.Errorf("font size %g pt at line height %g leaves no room for a line on a text area %.4g mm high", c.FontSize, c.Leading, h)
	}
	return nil
}

// opKind is what a drawing operation draws.
type opKind uint8

const (
	opText opKind = iota
	opLine
	opDots
	opRect
	opImage
	opLink
)

// op is one thing drawn on a page; coordinates are millimetres from the
// top-left corner, Y of text is its baseline.
type op struct {
	kind       opKind
	x, y, w, h float64
	text       string
	face       *Face
	size       float64
	italic     bool
	spacing    float64 // letter-spacing in mm, to justify
	image      *manuscript.Image
	at         string // for an image: where it is used, for errors ("001.md:5")
	link       int    // chapter index for opLink
}

// mark is an outline (bookmark) entry.
type mark struct {
	title string
	level int
	y     float64
}

// Page is one laid-out page.
type Page struct {
	ops []op
	// Header is the running head (empty: none); Number the printed folio (0: none).
	Header string
	Number int
	marks  []mark
	// Lines records every set line's box, for checks: X and X+W must lie in the text area.
	Lines []LineBox
	// chapterStart is the chapter starting on this page, or -1.
	chapterStart int
}

// ImageBox is where an image lies on a page, in millimetres from the
// page's top-left corner.
type ImageBox struct {
	X, Y, W, H float64
}

// Images lists where the page's images lie, for checks.
func (p *Page) Images() []ImageBox {
	var out []ImageBox
	for _, o := range p.ops {
		if o.kind == opImage {
			out = append(out, ImageBox{X: o.x, Y: o.y, W: o.w, H: o.h})
		}
	}
	return out
}

// LineBox is where a set line lies on its page: X from the page's left
// edge to the line's start, Y its baseline, W its width.
type LineBox struct {
	X, Y, W float64
}

// Layout is a whole book set into pages.
type Layout struct {
	Config Config
	Fonts  *Fonts
	Pages  []*Page
	// ChapterPages are the pages (1-based) chapters start on.
	ChapterPages []int
	book         *manuscript.Book
}

// TextLeft is the left edge of the text area, in millimetres.
func (l *Layout) TextLeft() float64 { return l.Config.Left }

// TextRight is the right edge of the text area, in millimetres.
func (l *Layout) TextRight() float64 { return l.Config.PageWidth - l.Config.Right }

// measurer gives typeset widths in millimetres for a size in points.
type measurer struct {
	fonts *Fonts
	size  float64
}

const ptToMM = 25.4 / 72

func (m measurer) face(st typeset.Style) *Face {
	switch {
	case st&typeset.Mono != 0:
		return m.fonts.Mono
	case st&typeset.Bold != 0:
		return m.fonts.Bold
	}
	return m.fonts.Regular
}

func (m measurer) sizeOf(st typeset.Style) float64 {
	if st&typeset.Small != 0 {
		return m.size * 0.7
	}
	return m.size
}

func (m measurer) Width(s string, st typeset.Style) float64 {
	return m.fonts.Width(m.face(st), s) / 1000 * m.sizeOf(st) * ptToMM
}

// setter lays out pages one block at a time.
type setter struct {
	l       *Layout
	cfg     Config
	page    *Page
	y       float64
	left    float64 // current left edge (indented in quotes and lists)
	right   float64 // current right edge
	header  string
	chapter *manuscript.Chapter
	// emit, when set, takes each page as soon as it is full (numbered from
	// first); the setter keeps none.
	emit    func(p *Page, number int)
	first   int
	emitted int
}

// Set lays out the book: cover, table of contents, then every chapter on a
// new page. Glyphs missing from the fonts are reported with where they occur.
func Set(b *manuscript.Book, fonts *Fonts, cfg Config) (*Layout, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	l := &Layout{Config: cfg, Fonts: fonts, book: b}
	s := &setter{l: l, cfg: cfg}
	if err := s.checkGlyphs(b); err != nil {
		return nil, err
	}
	s.cover()
	entries := tocEntries(b)
	tocPages := s.tocPageCount(len(entries))
	firstChapterPage := len(l.Pages) + tocPages + 1
	// Chapters first, so the contents know their page numbers.
	chapters := &setter{l: &Layout{Config: cfg, Fonts: fonts, book: b}, cfg: cfg}
	if err := chapters.chapters(context.Background(), b); err != nil {
		return nil, err
	}
	for n, p := range chapters.l.Pages {
		if p.chapterStart >= 0 {
			l.ChapterPages = append(l.ChapterPages, firstChapterPage+n)
		}
	}
	s.toc(entries, l.ChapterPages, tocPages)
	l.Pages = append(l.Pages, chapters.l.Pages...)
	for i, p := range l.Pages {
		if p.Number != 0 {
			p.Number = i + 1
		}
	}
	return l, nil
}

// Write sets the book and writes it as a PDF into w a page at a time:
// each chapter page is drawn and dropped as soon as it is full, so memory
// does not grow with the book. The cover and contents, set last (they need
// the chapters' page numbers), come first in the file's page order. It
// returns the number of pages.
func Write(ctx context.Context, w io.Writer, b *manuscript.Book, fonts *Fonts, cfg Config, info Info) (int, error) {
	if err := cfg.Check(); err != nil {
		return 0, err
	}
	l := &Layout{Config: cfg, Fonts: fonts, book: b}
	s := &setter{l: l, cfg: cfg}
	if err := s.checkGlyphs(b); err != nil {
		return 0, err
	}
	s.cover()
	entries := tocEntries(b)
	tocPages := s.tocPageCount(len(entries))
	d := newDoc(w, l)
	chapters := &setter{l: &Layout{Config: cfg, Fonts: fonts, book: b}, cfg: cfg}
	chapters.first = len(l.Pages) + tocPages + 1
	chapters.emit = func(p *Page, number int) {
		id := d.page(p)
		if p.chapterStart >= 0 {
			d.chapterPages[p.chapterStart] = id
			l.ChapterPages = append(l.ChapterPages, number)
		}
	}
	if err := chapters.chapters(ctx, b); err != nil {
		return 0, err
	}
	chapters.flush()
	if d.err != nil {
		return 0, d.err
	}
	body := d.order
	d.order = nil
	s.toc(entries, l.ChapterPages, tocPages)
	for i, p := range l.Pages {
		if p.Number != 0 {
			p.Number = i + 1
		}
		d.page(p)
	}
	d.order = append(d.order, body...)
	if err := d.finish(info); err != nil {
		return 0, err
	}
	return len(d.order), nil
}

// chapters sets every chapter, each from a new page.
func (s *setter) chapters(ctx context.Context, b *manuscript.Book) error {
	prevPart := ""
	md := manuscript.Markdown(false)
	for i, ch := range b.Chapters {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := b.Parse(ch, md); err != nil {
			return err
		}
		s.chapterStart(i, ch, prevPart)
		prevPart = ch.Part
		err := s.blocks(ch.Doc, ch)
		ch.Release()
		if err != nil {
			if strings.HasPrefix(err.Error(), ch.Rel+":") {
				return err // it names the episode and the line
			}
			return fmt.Errorf("%s: %w", ch.Rel, err)
		}
	}
	return nil
}

func (s *setter) textWidth() float64  { return s.cfg.PageWidth - s.cfg.Left - s.cfg.Right }
func (s *setter) textBottom() float64 { return s.cfg.PageHeight - s.cfg.Bottom }
func (s *setter) lineHeight(size float64) float64 {
	return size * s.cfg.Leading * ptToMM
}

func (s *setter) newPage(header string, numbered bool) {
	s.flush()
	s.page = &Page{Header: header, chapterStart: -1}
	if numbered {
		s.page.Number = -1 // set to the physical page number at the end
	}
	if s.emit == nil {
		s.l.Pages = append(s.l.Pages, s.page)
	}
	s.y = s.cfg.Top
	s.left, s.right = s.cfg.Left, s.cfg.PageWidth-s.cfg.Right
}

// flush hands the finished page to emit, when pages are streamed, with
// its physical page number.
func (s *setter) flush() {
	if s.emit == nil || s.page == nil {
		return
	}
	number := s.first + s.emitted
	if s.page.Number != 0 {
		s.page.Number = number
	}
	s.emit(s.page, number)
	s.emitted++
	s.page = nil
}

// ensure starts a new page unless h millimetres fit below the cursor.
func (s *setter) ensure(h float64) {
	if s.y+h > s.textBottom()+0.001 {
		s.newPage(s.header, true)
	}
}

// lines sets a paragraph and places its lines, breaking pages as needed.
func (s *setter) lines(spans []typeset.Span, size float64, indent float64, justify bool, align string) {
	m := measurer{fonts: s.l.Fonts, size: size}
	width := s.right - s.left
	lines := typeset.Break(spans, typeset.Options{Width: width, Indent: indent, Justify: justify}, m)
	lh := s.lineHeight(size)
	for _, ln := range lines {
		s.ensure(lh)
		dx := 0.0
		switch align {
		case "center":
			dx = (width - ln.Width) / 2
		case "right":
			dx = width - ln.Width
		}
		s.placeLine(ln, s.left+dx, s.y+size*ptToMM*1.0, m)
		s.y += lh
	}
}

// placeLine turns a set line into drawing operations at baseline y.
func (s *setter) placeLine(ln typeset.Line, x, baseline float64, m measurer) {
	for _, p := range ln.Pieces {
		size := m.sizeOf(p.Style)
		y := baseline
		if p.Style&typeset.Small != 0 {
			y -= m.size * ptToMM * 0.35 // superscript
		}
		s.page.ops = append(s.page.ops, op{kind: opText, x: x + p.X, y: y, text: p.Text, face: m.face(p.Style), size: size, italic: p.Style&typeset.Italic != 0, spacing: ln.Spacing})
		if p.Style&typeset.Strike != 0 {
			sy := baseline - size*ptToMM*0.3
			s.page.ops = append(s.page.ops, op{kind: opLine, x: x + p.X, y: sy, w: p.W, h: 0})
		}
	}
	s.page.Lines = append(s.page.Lines, LineBox{X: x, Y: baseline, W: ln.Width})
}

func (s *setter) space(lines float64) {
	s.y += s.lineHeight(s.cfg.FontSize) * lines
}

// cover draws the cover page: the cover image filling the page, or the title.
func (s *setter) cover() {
	s.newPage("", false)
	m := s.l.book.Meta
	if m.Cover != "" {
		if img, err := manuscript.InspectImage(m.Cover); err == nil && img.Width > 0 {
			w, h := s.cfg.PageWidth, s.cfg.PageWidth*float64(img.Height)/float64(img.Width)
			if h > s.cfg.PageHeight {
				h, w = s.cfg.PageHeight, s.cfg.PageHeight*float64(img.Width)/float64(img.Height)
			}
			s.page.ops = append(s.page.ops, op{kind: opImage, x: (s.cfg.PageWidth - w) / 2, y: (s.cfg.PageHeight - h) / 2, w: w, h: h, image: img, at: "the cover"})
			return
		}
	}
	s.y = s.cfg.PageHeight * 0.3
	s.lines([]typeset.Span{{Text: m.Title, Style: typeset.Bold}}, s.cfg.FontSize*2.2, 0, false, "center")
	if m.Subtitle != "" {
		s.space(0.5)
		s.lines([]typeset.Span{{Text: m.Subtitle}}, s.cfg.FontSize*1.3, 0, false, "center")
	}
	if authors := m.AllAuthors(); len(authors) > 0 {
		s.y = s.cfg.PageHeight * 0.62
		s.lines([]typeset.Span{{Text: strings.Join(authors, ", ")}}, s.cfg.FontSize*1.3, 0, false, "center")
	}
	if m.Publisher != "" {
		s.y = s.cfg.PageHeight - s.cfg.Bottom - s.lineHeight(s.cfg.FontSize)
		s.lines([]typeset.Span{{Text: m.Publisher}}, s.cfg.FontSize, 0, false, "center")
	}
}

// tocEntry is a line of the table of contents.
type tocEntry struct {
	title   string
	chapter int // index of the chapter it leads to
	part    bool
	indent  bool
}

func tocEntries(b *manuscript.Book) []tocEntry {
	var out []tocEntry
	part := ""
	for i, ch := range b.Chapters {
		if ch.Part != part && ch.Part != "" {
			out = append(out, tocEntry{title: ch.Part, chapter: i, part: true})
		}
		part = ch.Part
		out = append(out, tocEntry{title: ch.Title, chapter: i, indent: ch.Part != ""})
	}
	return out
}

// tocHeadLines is the room the contents' heading takes, in body lines.
const tocHeadLines = 4

func (s *setter) tocPageCount(entries int) int {
	perPage := int((s.textBottom() - s.cfg.Top) / s.lineHeight(s.cfg.FontSize))
	return (entries + tocHeadLines + perPage - 1) / perPage
}

// toc sets the table of contents on exactly pages pages.
func (s *setter) toc(entries []tocEntry, chapterPages []int, pages int) {
	first := len(s.l.Pages)
	s.newPage("", true)
	s.page.marks = append(s.page.marks, mark{title: contentsLabel(s.l.book.Meta.Language), level: 0, y: s.cfg.Top})
	s.lines([]typeset.Span{{Text: contentsLabel(s.l.book.Meta.Language), Style: typeset.Bold}}, s.cfg.FontSize*1.5, 0, false, "center")
	s.y = s.cfg.Top + s.lineHeight(s.cfg.FontSize)*tocHeadLines
	m := measurer{fonts: s.l.Fonts, size: s.cfg.FontSize}
	lh := s.lineHeight(s.cfg.FontSize)
	for _, e := range entries {
		s.ensure(lh)
		st := typeset.Style(0)
		x := s.left
		if e.part {
			st = typeset.Bold
		}
		if e.indent {
			x += s.cfg.FontSize * ptToMM
		}
		num := strconv.Itoa(chapterPages[e.chapter])
		numW := m.Width(num, 0)
		room := s.right - x - numW - 6
		title := fitText(e.title, room, st, m)
		tw := m.Width(title, st)
		base := s.y + s.cfg.FontSize*ptToMM
		s.page.ops = append(s.page.ops, op{kind: opText, x: x, y: base, text: title, face: m.face(st), size: s.cfg.FontSize})
		s.page.ops = append(s.page.ops, op{kind: opDots, x: x + tw + 2, y: base, w: s.right - numW - 2 - (x + tw + 2)})
		s.page.ops = append(s.page.ops, op{kind: opText, x: s.right - numW, y: base, text: num, face: m.face(0), size: s.cfg.FontSize})
		s.page.ops = append(s.page.ops, op{kind: opLink, x: x, y: s.y, w: s.right - x, h: lh, link: e.chapter})
		s.page.Lines = append(s.page.Lines, LineBox{X: x, Y: base, W: s.right - x})
		s.y += lh
	}
	for len(s.l.Pages)-first < pages {
		s.newPage("", true)
	}
}

// fitText shortens text with an ellipsis until it fits width. It measures
// each character at most once: a title of 20,000 characters is cut in one
// pass, not shortened one character at a time.
func fitText(text string, width float64, st typeset.Style, m typeset.Measurer) string {
	if m.Width(text, st) <= width {
		return text
	}
	room := width - m.Width("…", st)
	used := 0.0
	for i, r := range text {
		w := m.Width(string(r), st)
		if used+w > room && i > 0 {
			return text[:i] + "…"
		}
		used += w
	}
	return text
}

func contentsLabel(lang string) string {
	switch strings.ToLower(strings.SplitN(lang, "-", 2)[0]) {
	case "ko":
		return "차례"
	case "ja":
		return "目次"
	case "zh":
		return "目录"
	}
	return "Contents"
}

// chapterStart opens a chapter on a new page, a fifth of the way down.
func (s *setter) chapterStart(i int, ch *manuscript.Chapter, prevPart string) {
	s.header = fitText(ch.Title, s.textWidth(), 0, measurer{fonts: s.l.Fonts, size: s.cfg.FontSize * 0.75})
	s.chapter = ch
	s.newPage("", true)
	s.page.chapterStart = i
	level := 0
	if ch.Part != "" {
		level = 1
		if ch.Part != prevPart {
			s.page.marks = append(s.page.marks, mark{title: ch.Part, level: 0, y: s.cfg.Top})
		}
	}
	s.page.marks = append(s.page.marks, mark{title: ch.Title, level: level, y: s.cfg.Top})
	s.y = s.cfg.Top + (s.textBottom()-s.cfg.Top)*0.18
	s.lines([]typeset.Span{{Text: ch.Title, Style: typeset.Bold}}, s.cfg.FontSize*1.6, 0, false, "center")
	s.space(2)
}
