// Package pdfbook sets a manuscript as a print-ready PDF book in pure Go:
// cover, table of contents with page numbers, chapters on new pages, running
// heads and folios, an outline, embedded subset fonts, and Korean line
// breaking from package typeset. Layout and drawing are separate steps, so
// the layout can be checked (no line wider than the text area) on its own.
package pdfbook

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
)

// Info is the PDF's document information.
type Info struct {
	Title, Author, Subject, Keywords, Language string
	// Date is stamped as creation and modification date.
	Date time.Time
}

// Render draws a layout as a PDF into w.
func Render(w io.Writer, l *Layout, info Info) error {
	cfg := l.Config
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: cfg.PageWidth, Ht: cfg.PageHeight}})
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.SetTitle(info.Title, true)
	pdf.SetAuthor(info.Author, true)
	pdf.SetSubject(info.Subject, true)
	pdf.SetKeywords(info.Keywords, true)
	pdf.SetCreator("runner md2pdf", true)
	pdf.SetLang(info.Language)
	pdf.SetCreationDate(info.Date)
	pdf.SetModificationDate(info.Date)
	pdf.SetCatalogSort(true)

	// Fonts get a family name as long as their final subset name, so the
	// names can be swapped in the finished file without moving any offset.
	// A font is added when first drawn: fallback fonts only when a
	// character needs them.
	families := map[*Face]string{}
	var renames []string
	images := map[string]string{}
	links := make([]int, len(l.ChapterPages))
	for i := range links {
		links[i] = pdf.AddLink()
		pdf.SetLink(links[i], 0, l.ChapterPages[i])
	}
	var curFace *Face
	curSize := 0.0
	setFont := func(f *Face, size float64) {
		if f == curFace && size == curSize {
			return
		}
		family, ok := families[f]
		if !ok {
			family = fmt.Sprintf("%03d%s", len(families), strings.ToLower(f.Name))
			families[f] = family
			pdf.AddUTF8FontFromBytes(family, "", f.data)
			renames = append(renames, "/utf8"+family, "/"+subsetTag(family)+"+"+f.Name)
		}
		pdf.SetFont(family, "", size)
		curFace, curSize = f, size
	}
	// text draws s from x on baseline y, each character in the face of the
	// chain that has it; spacing is added after every character.
	text := func(face *Face, size, x, y float64, s string, spacing float64) {
		l.Fonts.Runs(face, s, func(f *Face, run string) {
			setFont(f, size)
			pdf.Text(x, y, run)
			x += f.Width(run)/1000*size*ptToMM + spacing*float64(utf8.RuneCountInString(run))
		})
	}
	pdf.SetDrawColor(60, 60, 60)
	for _, p := range l.Pages {
		pdf.AddPage()
		curFace = nil
		for _, m := range p.marks {
			pdf.Bookmark(m.title, m.level, m.y)
		}
		for _, o := range p.ops {
			switch o.kind {
			case opText:
				if o.spacing != 0 {
					// Character spacing (Tc) applies to every glyph of a
					// CID font; word spacing (Tw) would not.
					pdf.RawWriteStr(fmt.Sprintf("%.4f Tc\n", o.spacing*72/25.4))
				}
				if o.italic {
					pdf.TransformBegin()
					pdf.TransformSkewX(12, o.x, o.y)
					text(o.face, o.size, o.x, o.y, o.text, o.spacing)
					pdf.TransformEnd()
				} else {
					text(o.face, o.size, o.x, o.y, o.text, o.spacing)
				}
				if o.spacing != 0 {
					pdf.RawWriteStr("0 Tc\n")
				}
			case opLine:
				pdf.SetLineWidth(0.2)
				pdf.Line(o.x, o.y, o.x+o.w, o.y+o.h)
			case opDots:
				if o.w > 2 {
					pdf.SetLineWidth(0.3)
					pdf.SetDashPattern([]float64{0.3, 1.5}, 0)
					pdf.Line(o.x, o.y-0.3, o.x+o.w, o.y-0.3)
					pdf.SetDashPattern(nil, 0)
				}
			case opRect:
				pdf.SetLineWidth(0.2)
				pdf.Rect(o.x, o.y, o.w, o.h, "D")
			case opImage:
				name, err := registerImage(pdf, images, o.image)
				if err != nil {
					return err
				}
				pdf.ImageOptions(name, o.x, o.y, o.w, o.h, false, fpdf.ImageOptions{}, 0, "")
			case opLink:
				pdf.Link(o.x, o.y, o.w, o.h, links[o.link])
			}
		}
		folio(l, p, text)
		if pdf.Err() {
			return fmt.Errorf("draw page %d: %w", pdf.PageNo(), pdf.Error())
		}
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return fmt.Errorf("write pdf: %w", err)
	}
	out := buf.Bytes()
	for i := 0; i < len(renames); i += 2 {
		out = bytes.ReplaceAll(out, []byte(renames[i]), []byte(renames[i+1]))
	}
	_, err := w.Write(out)
	return err
}

// folio draws the running head and the page number with draw.
func folio(l *Layout, p *Page, draw func(face *Face, size, x, y float64, s string, spacing float64)) {
	cfg := l.Config
	size := cfg.FontSize * 0.75
	if p.Header != "" {
		w := l.Fonts.Width(l.Fonts.Regular, p.Header) / 1000 * size * ptToMM
		draw(l.Fonts.Regular, size, (cfg.PageWidth-w)/2, cfg.Top*0.6, p.Header, 0)
	}
	if p.Number > 0 {
		n := fmt.Sprint(p.Number)
		w := l.Fonts.Regular.Width(n) / 1000 * size * ptToMM
		draw(l.Fonts.Regular, size, (cfg.PageWidth-w)/2, cfg.PageHeight-cfg.Bottom*0.45, n, 0)
	}
}

func registerImage(pdf *fpdf.Fpdf, done map[string]string, img *manuscript.Image) (string, error) {
	if name, ok := done[img.Path]; ok {
		return name, nil
	}
	f, err := regfile.Open(img.Path)
	if err != nil {
		return "", fmt.Errorf("image: %w", err)
	}
	defer f.Close()
	kind := map[string]string{"image/png": "PNG", "image/jpeg": "JPG", "image/gif": "GIF"}[img.MediaType]
	if kind == "" {
		return "", fmt.Errorf("image %s: only PNG, JPEG and GIF go into a PDF", img.Path)
	}
	name := fmt.Sprintf("img%d", len(done)+1)
	pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: kind}, f)
	if pdf.Err() {
		return "", fmt.Errorf("image %s: %w", img.Path, pdf.Error())
	}
	done[img.Path] = name
	return name, nil
}
