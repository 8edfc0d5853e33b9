// Package pdfbook sets a manuscript as a print-ready PDF book in pure Go:
// cover, table of contents with page numbers, chapters on new pages, running
// heads and folios, an outline, embedded subset fonts, and Korean line
// breaking from package typeset. Layout and drawing are separate steps, so
// the layout can be checked (no line wider than the text area) on its own;
// Write runs both a page at a time and keeps no page once written.
package pdfbook

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
	"github.com/novelfactory/runner/tasks/internal/pdfwrite"
)

// Info is the PDF's document information.
type Info struct {
	Title, Author, Subject, Keywords, Language string
	// Date is stamped as creation and modification date.
	Date time.Time
}

// Render draws a laid-out book as a PDF into w.
func Render(w io.Writer, l *Layout, info Info) error {
	d := newDoc(w, l)
	for _, p := range l.Pages {
		id := d.page(p)
		if p.chapterStart >= 0 {
			d.chapterPages[p.chapterStart] = id
		}
	}
	// Links lead to chapters' pages, known only once all are drawn.
	return d.finish(info)
}

// doc draws pages onto a streaming PDF writer: each page's content and
// page object are written when the page is drawn, and only its object
// number, its outline entries and the fonts' used glyphs are kept.
type doc struct {
	w            *pdfwrite.Writer
	l            *Layout
	cfg          Config
	fonts        map[*Face]*pdfwrite.Font
	fontOrder    []*Face
	images       map[string]int
	imageOrder   []string
	pagesID      int
	resID        int
	order        []int // page object numbers in reading order
	chapterPages map[int]int
	marks        []outlineMark
	links        []pendingLink
	err          error
}

type outlineMark struct {
	title string
	level int
	page  int // page object number
	y     float64
}

// pendingLink is a contents line's link, whose page object is written at
// the end, when the chapters' pages are known.
type pendingLink struct {
	annot   int // object number of the annotation
	chapter int
	rect    [4]float64
}

func newDoc(w io.Writer, l *Layout) *doc {
	d := &doc{w: pdfwrite.New(w), l: l, cfg: l.Config, fonts: map[*Face]*pdfwrite.Font{}, images: map[string]int{}, chapterPages: map[int]int{}}
	d.pagesID, d.resID = d.w.Alloc(), d.w.Alloc()
	return d
}

const k = 72 / 25.4 // points per millimetre

func (d *doc) font(f *Face) (string, *pdfwrite.Font) {
	pf, ok := d.fonts[f]
	if !ok {
		var err error
		pf, err = pdfwrite.NewFont(d.w, f.data, f.Name, subsetTag(fmt.Sprintf("%03d%s", len(d.fontOrder), strings.ToLower(f.Name))))
		if err != nil && d.err == nil {
			d.err = err
		}
		d.fonts[f] = pf
		d.fontOrder = append(d.fontOrder, f)
	}
	for i, g := range d.fontOrder {
		if g == f {
			return "F" + strconv.Itoa(i+1), pf
		}
	}
	return "", pf
}

func (d *doc) image(img *manuscript.Image, at string) string {
	if _, ok := d.images[img.Path]; !ok {
		id := 0
		var err error
		switch img.MediaType {
		case "image/png", "image/jpeg", "image/gif":
			var data []byte
			if data, err = regfile.ReadFile(img.Path); err == nil {
				id, err = d.w.Image(data, img.MediaType)
			}
		default:
			err = fmt.Errorf("only PNG, JPEG and GIF go into a PDF, not %s", img.MediaType)
		}
		if err != nil && d.err == nil {
			d.err = fmt.Errorf("image %s: %w", img.Path, err)
			if at != "" {
				d.err = fmt.Errorf("%s: %w", at, d.err)
			}
		}
		d.images[img.Path] = id
		d.imageOrder = append(d.imageOrder, img.Path)
	}
	for i, p := range d.imageOrder {
		if p == img.Path {
			return "I" + strconv.Itoa(i+1)
		}
	}
	return ""
}

// page draws p and returns its object number.
func (d *doc) page(p *Page) int {
	id := d.w.Alloc()
	var c strings.Builder
	H := d.cfg.PageHeight
	fmt.Fprintf(&c, "0.235 G\n")
	text := func(face *Face, size, x, y float64, s string, spacing float64, italic bool) {
		d.l.Fonts.Runs(face, s, func(f *Face, run string) {
			name, pf := d.font(f)
			if pf == nil {
				return
			}
			skew := 0.0
			if italic {
				skew = math.Tan(12 * math.Pi / 180)
			}
			fmt.Fprintf(&c, "BT /%s %.2f Tf %.4f Tc 1 0 %.4f 1 %.3f %.3f Tm %s Tj ET\n", name, size, spacing*k, skew, x*k, (H-y)*k, pf.Encode(run))
			x += f.Width(run)/1000*size*ptToMM + spacing*float64(utf8.RuneCountInString(run))
		})
	}
	var annots []string
	for _, m := range p.marks {
		d.marks = append(d.marks, outlineMark{title: m.title, level: m.level, page: id, y: m.y})
	}
	for _, o := range p.ops {
		switch o.kind {
		case opText:
			text(o.face, o.size, o.x, o.y, o.text, o.spacing, o.italic)
		case opLine:
			fmt.Fprintf(&c, "%.3f w %.3f %.3f m %.3f %.3f l S\n", 0.2*k, o.x*k, (H-o.y)*k, (o.x+o.w)*k, (H-o.y-o.h)*k)
		case opDots:
			if o.w > 2 {
				fmt.Fprintf(&c, "%.3f w [%.3f %.3f] 0 d %.3f %.3f m %.3f %.3f l S [] 0 d\n", 0.3*k, 0.3*k, 1.5*k, o.x*k, (H-o.y+0.3)*k, (o.x+o.w)*k, (H-o.y+0.3)*k)
			}
		case opRect:
			fmt.Fprintf(&c, "%.3f w %.3f %.3f %.3f %.3f re S\n", 0.2*k, o.x*k, (H-o.y-o.h)*k, o.w*k, o.h*k)
		case opImage:
			name := d.image(o.image, o.at)
			fmt.Fprintf(&c, "q %.3f 0 0 %.3f %.3f %.3f cm /%s Do Q\n", o.w*k, o.h*k, o.x*k, (H-o.y-o.h)*k, name)
		case opLink:
			a := d.w.Alloc()
			d.links = append(d.links, pendingLink{annot: a, chapter: o.link, rect: [4]float64{o.x * k, (H - o.y - o.h) * k, (o.x + o.w) * k, (H - o.y) * k}})
			annots = append(annots, fmt.Sprintf("%d 0 R", a))
		}
	}
	// The running head and the folio, in the margins, but inside the page
	// however narrow the margins: with margins "0" the head's baseline
	// was the page's top edge (the head drawn above the page) and the
	// folio's the bottom edge (its descent cut off).
	size := d.cfg.FontSize * 0.75
	em := size * ptToMM
	if p.Header != "" {
		w := d.l.Fonts.Width(d.l.Fonts.Regular, p.Header) / 1000 * size * ptToMM
		text(d.l.Fonts.Regular, size, (d.cfg.PageWidth-w)/2, max(d.cfg.Top*0.6, 1.2*em), p.Header, 0, false)
	}
	if p.Number > 0 {
		n := strconv.Itoa(p.Number)
		w := d.l.Fonts.Regular.Width(n) / 1000 * size * ptToMM
		text(d.l.Fonts.Regular, size, (d.cfg.PageWidth-w)/2, min(d.cfg.PageHeight-d.cfg.Bottom*0.45, d.cfg.PageHeight-0.4*em), n, 0, false)
	}
	content := d.w.Alloc()
	d.w.Stream(content, "", []byte(c.String()), true)
	annot := ""
	if len(annots) > 0 {
		annot = " /Annots [" + strings.Join(annots, " ") + "]"
	}
	d.w.Object(id, fmt.Sprintf("<</Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Resources %d 0 R /Contents %d 0 R%s>>", d.pagesID, d.cfg.PageWidth*k, H*k, d.resID, content, annot))
	d.order = append(d.order, id)
	return id
}

// finish writes what refers to every page: links, the page tree, the
// fonts, the outline, the catalog and the document information.
func (d *doc) finish(info Info) error {
	H := d.cfg.PageHeight
	for _, ln := range d.links {
		dest := d.chapterPages[ln.chapter]
		if dest == 0 {
			dest = d.order[0]
		}
		d.w.Object(ln.annot, fmt.Sprintf("<</Type /Annot /Subtype /Link /Rect [%.3f %.3f %.3f %.3f] /Border [0 0 0] /Dest [%d 0 R /XYZ 0 %.3f 0]>>", ln.rect[0], ln.rect[1], ln.rect[2], ln.rect[3], dest, H*k))
	}
	var kids strings.Builder
	for _, id := range d.order {
		fmt.Fprintf(&kids, "%d 0 R ", id)
	}
	d.w.Object(d.pagesID, fmt.Sprintf("<</Type /Pages /Kids [%s] /Count %d>>", kids.String(), len(d.order)))
	var res strings.Builder
	res.WriteString("<</ProcSet [/PDF /Text /ImageC /ImageB] /Font <<")
	for i, f := range d.fontOrder {
		if pf := d.fonts[f]; pf != nil {
			fmt.Fprintf(&res, "/F%d %d 0 R ", i+1, pf.ID)
		}
	}
	res.WriteString(">> /XObject <<")
	for i, p := range d.imageOrder {
		if id := d.images[p]; id != 0 {
			fmt.Fprintf(&res, "/I%d %d 0 R ", i+1, id)
		}
	}
	res.WriteString(">>>>")
	d.w.Object(d.resID, res.String())
	for _, f := range d.fontOrder {
		if pf := d.fonts[f]; pf != nil {
			if err := pf.Write(d.w); err != nil && d.err == nil {
				d.err = err
			}
		}
	}
	outlines := d.outline()
	catalog := d.w.Alloc()
	lang := ""
	if info.Language != "" {
		lang = " /Lang " + pdfwrite.Text(info.Language)
	}
	d.w.Object(catalog, fmt.Sprintf("<</Type /Catalog /Pages %d 0 R /Outlines %d 0 R /PageMode /UseOutlines%s>>", d.pagesID, outlines, lang))
	infoID := d.w.Alloc()
	date := "(D:" + info.Date.UTC().Format("20060102150405") + "Z)"
	d.w.Object(infoID, fmt.Sprintf("<</Creator %s /Producer %s /Title %s /Author %s /Subject %s /Keywords %s /CreationDate %s /ModDate %s>>",
		pdfwrite.Text("runner md2pdf"), pdfwrite.Text("runner"), pdfwrite.Text(info.Title), pdfwrite.Text(info.Author), pdfwrite.Text(info.Subject), pdfwrite.Text(info.Keywords), date, date))
	if err := d.w.Finish(catalog, infoID); err != nil {
		return fmt.Errorf("write pdf: %w", err)
	}
	if d.err != nil {
		return d.err
	}
	return nil
}

// outline writes the bookmarks: level-0 entries, each level-1 entry under
// the level-0 entry before it.
func (d *doc) outline() int {
	root := d.w.Alloc()
	type item struct {
		id       int
		m        outlineMark
		children []*item
	}
	var top []*item
	for _, m := range d.marks {
		it := &item{id: d.w.Alloc(), m: m}
		if m.level > 0 && len(top) > 0 {
			parent := top[len(top)-1]
			parent.children = append(parent.children, it)
			continue
		}
		top = append(top, it)
	}
	H := d.cfg.PageHeight
	var write func(items []*item, parent int)
	write = func(items []*item, parent int) {
		for i, it := range items {
			var extra strings.Builder
			if i > 0 {
				fmt.Fprintf(&extra, " /Prev %d 0 R", items[i-1].id)
			}
			if i+1 < len(items) {
				fmt.Fprintf(&extra, " /Next %d 0 R", items[i+1].id)
			}
			if n := len(it.children); n > 0 {
				fmt.Fprintf(&extra, " /First %d 0 R /Last %d 0 R /Count %d", it.children[0].id, it.children[n-1].id, n)
			}
			d.w.Object(it.id, fmt.Sprintf("<</Title %s /Parent %d 0 R%s /Dest [%d 0 R /XYZ 0 %.3f 0]>>", pdfwrite.Text(it.m.title), parent, extra.String(), it.m.page, (H-it.m.y)*k))
			write(it.children, it.id)
		}
	}
	write(top, root)
	if len(top) == 0 {
		d.w.Object(root, "<</Type /Outlines /Count 0>>")
	} else {
		d.w.Object(root, fmt.Sprintf("<</Type /Outlines /First %d 0 R /Last %d 0 R /Count %d>>", top[0].id, top[len(top)-1].id, len(top)))
	}
	return root
}
