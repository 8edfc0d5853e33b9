package pdfbook

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"

	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
	"github.com/novelfactory/runner/tasks/internal/typeset"
)

// blocks lays out a node's block children.
func (s *setter) blocks(parent ast.Node, ch *manuscript.Chapter) error {
	for n := parent.FirstChild(); n != nil; n = n.NextSibling() {
		if err := s.block(n, ch); err != nil {
			return err
		}
	}
	return nil
}

func (s *setter) block(n ast.Node, ch *manuscript.Chapter) error {
	size := s.cfg.FontSize
	indent := size * ptToMM // one em, as Korean print sets paragraphs
	switch n := n.(type) {
	case *ast.Heading:
		if n == ch.TitleHeading {
			return nil // already set as the chapter's title
		}
		spans, imgs, err := s.spans(n, ch, typeset.Bold)
		if err != nil {
			return err
		}
		hs := size * map[int]float64{1: 1.4, 2: 1.25, 3: 1.12}[n.Level]
		if hs == 0 {
			hs = size
		}
		s.space(0.8)
		s.ensure(s.lineHeight(hs) + 2*s.lineHeight(size)) // keep with what follows
		s.lines(spans, hs, 0, false, "left")
		s.space(0.3)
		return s.images(imgs)
	case *ast.Paragraph, *ast.TextBlock:
		spans, imgs, err := s.spans(n, ch, 0)
		if err != nil {
			return err
		}
		if len(spans) > 0 {
			s.lines(spans, size, indent, true, "left")
		}
		if _, inList := n.Parent().(*ast.ListItem); !inList {
			s.space(0.25)
		}
		return s.images(imgs)
	case *ast.ThematicBreak:
		s.space(0.5)
		s.lines([]typeset.Span{{Text: "*   *   *"}}, size, 0, false, "center")
		s.space(0.5)
	case *ast.Blockquote:
		restore := s.indent(2*size*ptToMM, size*ptToMM)
		defer restore()
		return s.blocks(n, ch)
	case *ast.List:
		number := n.Start
		for item := n.FirstChild(); item != nil; item = item.NextSibling() {
			marker := "•"
			if n.IsOrdered() {
				marker = strconv.Itoa(number) + "."
				number++
			}
			if err := s.listItem(item, marker, ch); err != nil {
				return err
			}
		}
		s.space(0.25)
	case *ast.FencedCodeBlock, *ast.CodeBlock:
		lines := n.Lines()
		for i := 0; i < lines.Len(); i++ {
			seg := lines.At(i)
			text := strings.TrimRight(string(seg.Value(ch.Source)), "\r\n")
			if err := s.checkText(text, typeset.Mono, ch, seg.Start); err != nil {
				return err
			}
			if text == "" {
				text = "\u00a0"
			}
			s.lines([]typeset.Span{{Text: strings.ReplaceAll(text, " ", "\u00a0"), Style: typeset.Mono}}, size*0.9, 0, false, "left")
		}
		s.space(0.25)
	case *east.Table:
		return s.table(n, ch)
	case *east.FootnoteList:
		s.space(1)
		s.ensure(s.lineHeight(size) * 2)
		s.page.ops = append(s.page.ops, op{kind: opLine, x: s.left, y: s.y, w: s.textWidth() / 4})
		s.space(0.3)
		for fn := n.FirstChild(); fn != nil; fn = fn.NextSibling() {
			note, ok := fn.(*east.Footnote)
			if !ok {
				continue
			}
			if err := s.listItem(note, strconv.Itoa(note.Index)+".", ch); err != nil {
				return err
			}
		}
	case *ast.HTMLBlock:
		// Raw HTML is left out, as in the EPUB.
	default:
		return s.blocks(n, ch)
	}
	return nil
}

// indent narrows the text by left and right millimetres, for quotes and
// list items, and returns what undoes it. Nested deep enough, a level
// would leave no room for text: the text keeps at least half the text
// area's width, and deeper levels indent no further.
func (s *setter) indent(left, right float64) (restore func()) {
	room := s.room()
	if left+right > room {
		left, right = left*room/(left+right), right*room/(left+right)
	}
	s.left += left
	s.right -= right
	return func() {
		s.left -= left
		s.right += right
	}
}

// room is how much the text may still be narrowed, in millimetres.
func (s *setter) room() float64 {
	return max(s.right-s.left-s.textWidth()/2, 0)
}

// listItem sets an item's blocks beside a hanging marker.
func (s *setter) listItem(item ast.Node, marker string, ch *manuscript.Chapter) error {
	size := s.cfg.FontSize
	hang := 1.8 * size * ptToMM
	s.ensure(s.lineHeight(size))
	m := measurer{fonts: s.l.Fonts, size: size}
	s.page.ops = append(s.page.ops, op{kind: opText, x: s.left + min(hang, s.room()) - m.Width(marker, 0) - 1, y: s.y + size*ptToMM, text: marker, face: s.l.Fonts.Regular, size: size})
	defer s.indent(hang, 0)()
	for c := item.FirstChild(); c != nil; c = c.NextSibling() {
		if p, ok := c.(*ast.Paragraph); ok {
			spans, imgs, err := s.spans(p, ch, 0)
			if err != nil {
				return err
			}
			s.lines(spans, size, 0, true, "left")
			if err := s.images(imgs); err != nil {
				return err
			}
			continue
		}
		if err := s.block(c, ch); err != nil {
			return err
		}
	}
	return nil
}

// table sets a GFM table as a grid of equal columns.
func (s *setter) table(t *east.Table, ch *manuscript.Chapter) error {
	size := s.cfg.FontSize * 0.9
	m := measurer{fonts: s.l.Fonts, size: size}
	cols := len(t.Alignments)
	if cols == 0 {
		return nil
	}
	const pad = 1.5
	colW := (s.right - s.left) / float64(cols)
	if minW := 2*pad + 2*size*ptToMM; colW < minW {
		// Narrower, a column could not hold two characters.
		at := where(t, ch)
		return fmt.Errorf("%s: a table of %d columns does not fit the text width (%.0f mm): at most %d do; split it or turn it into a list", at, cols, s.right-s.left, int((s.right-s.left)/minW))
	}
	lh := s.lineHeight(size)
	s.space(0.3)
	for row := t.FirstChild(); row != nil; row = row.NextSibling() {
		_, header := row.(*east.TableHeader)
		st := typeset.Style(0)
		if header {
			st = typeset.Bold
		}
		var cells [][]typeset.Line
		height := 0.0
		for cell := row.FirstChild(); cell != nil && len(cells) < cols; cell = cell.NextSibling() {
			spans, _, err := s.spans(cell, ch, st)
			if err != nil {
				return err
			}
			lines := typeset.Break(spans, typeset.Options{Width: colW - 2*pad}, m)
			cells = append(cells, lines)
			if h := float64(len(lines))*lh + 2*pad; h > height {
				height = h
			}
		}
		if height == 0 {
			height = lh + 2*pad
		}
		// place draws the row's lines from..to-1 of every cell in boxes
		// of height h at s.y.
		place := func(from, to int, h float64) {
			for i := 0; i < cols; i++ {
				x := s.left + float64(i)*colW
				s.page.ops = append(s.page.ops, op{kind: opRect, x: x, y: s.y, w: colW, h: h})
				if i >= len(cells) {
					continue
				}
				for j := from; j < to && j < len(cells[i]); j++ {
					ln := cells[i][j]
					dx := pad
					switch t.Alignments[i] {
					case east.AlignCenter:
						dx = (colW - ln.Width) / 2
					case east.AlignRight:
						dx = colW - pad - ln.Width
					}
					s.placeLine(ln, x+dx, s.y+pad+float64(j-from)*lh+size*ptToMM, m)
				}
			}
			s.y += h
		}
		if height <= s.textBottom()-s.cfg.Top {
			s.ensure(height)
			place(0, int((height-2*pad)/lh+0.5), height)
			continue
		}
		// A row taller than a page is split between lines, each part
		// boxed on its own page; before, what passed the page's foot was
		// dropped.
		rows := int((height-2*pad)/lh + 0.5)
		for from := 0; from < rows; {
			s.ensure(lh + 2*pad)
			to := min(from+max(int((s.textBottom()-s.y-2*pad)/lh+0.001), 1), rows)
			place(from, to, float64(to-from)*lh+2*pad)
			from = to
		}
	}
	s.space(0.5)
	return nil
}

// usedImage is an image and where an episode uses it ("001.md:5").
type usedImage struct {
	img *manuscript.Image
	at  string
}

// images places images on their own lines, scaled to the text width.
func (s *setter) images(imgs []usedImage) error {
	for _, u := range imgs {
		img := u.img
		if img.MediaType == "image/svg+xml" {
			return fmt.Errorf("%s: image %s: SVG cannot go into the PDF; export it as PNG", u.at, img.Path)
		}
		const dpi = 150.0
		w := float64(img.Width) / dpi * 25.4
		h := float64(img.Height) / dpi * 25.4
		maxW, maxH := s.right-s.left, (s.textBottom()-s.cfg.Top)*0.8
		if w > maxW {
			h, w = h*maxW/w, maxW
		}
		if h > maxH {
			w, h = w*maxH/h, maxH
		}
		s.space(0.3)
		s.ensure(h)
		s.page.ops = append(s.page.ops, op{kind: opImage, x: s.left + (maxW-w)/2, y: s.y, w: w, h: h, image: img, at: u.at})
		s.y += h
		s.space(0.5)
	}
	return nil
}

// spans turns a block's inline content into styled text, and lists its images.
func (s *setter) spans(n ast.Node, ch *manuscript.Chapter, base typeset.Style) ([]typeset.Span, []usedImage, error) {
	var out []typeset.Span
	var imgs []usedImage
	var walk func(n ast.Node, st typeset.Style) error
	add := func(text string, st typeset.Style, offset int) error {
		if err := s.checkText(text, st, ch, offset); err != nil {
			return err
		}
		out = append(out, typeset.Span{Text: text, Style: st})
		return nil
	}
	walk = func(n ast.Node, st typeset.Style) error {
		for c := n.FirstChild(); c != nil; c = c.NextSibling() {
			var err error
			switch c := c.(type) {
			case *ast.Text:
				text := string(c.Segment.Value(ch.Source))
				if !c.IsRaw() {
					text, err = decodeText(c.Segment.Value(ch.Source), ch, c.Segment.Start)
				}
				if err == nil {
					err = add(text, st, c.Segment.Start)
				}
				if err == nil && c.HardLineBreak() {
					out = append(out, typeset.Span{Text: "\n", Style: st})
				} else if err == nil && c.SoftLineBreak() {
					out = append(out, typeset.Span{Text: " ", Style: st})
				}
			case *ast.String:
				text := string(c.Value)
				if !c.IsCode() && !c.IsRaw() {
					text, err = decodeText(c.Value, ch, -1)
				}
				if err == nil {
					err = add(text, st, -1)
				}
			case *ast.Emphasis:
				if c.Level >= 2 {
					err = walk(c, st|typeset.Bold)
				} else {
					err = walk(c, st|typeset.Italic)
				}
			case *east.Strikethrough:
				err = walk(c, st|typeset.Strike)
			case *ast.CodeSpan:
				// Code is set as typed: no references or escapes decoded.
				for t := c.FirstChild(); t != nil && err == nil; t = t.NextSibling() {
					switch t := t.(type) {
					case *ast.Text:
						// A line break inside a code span is a space, as in HTML.
						text := strings.ReplaceAll(string(t.Segment.Value(ch.Source)), "\n", " ")
						err = add(text, st|typeset.Mono, t.Segment.Start)
					case *ast.String:
						err = add(string(t.Value), st|typeset.Mono, -1)
					}
				}
			case *ast.AutoLink:
				err = add(string(c.URL(ch.Source)), st, -1)
			case *east.FootnoteLink:
				out = append(out, typeset.Span{Text: strconv.Itoa(c.Index), Style: st | typeset.Small})
			case *east.FootnoteBacklink:
			case *ast.Image:
				if img, ok := s.l.book.Image(string(c.Destination)); ok {
					at := where(c, ch)
					if at == ch.Rel && n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
						at = fmt.Sprintf("%s:%d", ch.Rel, manuscript.LineOf(ch.Source, n.Lines().At(0).Start))
					}
					imgs = append(imgs, usedImage{img, at})
				}
			case *ast.RawHTML:
			default:
				err = walk(c, st)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(n, base); err != nil {
		return nil, nil, err
	}
	// Trim the spaces soft breaks leave at the end.
	for len(out) > 0 && strings.TrimSpace(out[len(out)-1].Text) == "" {
		out = out[:len(out)-1]
	}
	return out, imgs, nil
}

// checkText fails on a character no font of the chain draws in style st,
// naming it and where it is (offset < 0: position unknown, the episode is
// named).
func (s *setter) checkText(text string, st typeset.Style, ch *manuscript.Chapter, offset int) error {
	face := measurer{fonts: s.l.Fonts}.face(st)
	for i, r := range text {
		if r == '\t' || r == '\r' || s.l.Fonts.For(face, r) != nil {
			continue
		}
		at := ch.Rel
		if offset >= 0 {
			at = fmt.Sprintf("%s:%d", ch.Rel, manuscript.LineOf(ch.Source, offset+i))
		}
		return fmt.Errorf("%s: %s", at, s.missing(r, face))
	}
	return nil
}

// missing says that no font has r, and what to do.
func (s *setter) missing(r rune, face *Face) string {
	return fmt.Sprintf("character %q (U+%04X) is in none of the fonts (%s); use a font that has it (font:, bold_font:, mono_font:) or remove it", r, r, s.l.Fonts.Chain(face))
}

// checkGlyphs checks the text set outside episodes: titles, metadata.
func (s *setter) checkGlyphs(b *manuscript.Book) error {
	m := b.Meta
	for _, t := range append([]string{m.Title, m.Subtitle, m.Publisher, contentsLabel(m.Language)}, m.AllAuthors()...) {
		for _, face := range []*Face{s.l.Fonts.Regular, s.l.Fonts.Bold} {
			for _, r := range t {
				if s.l.Fonts.For(face, r) == nil {
					return fmt.Errorf("book metadata: %q: %s", quote.Cut(t), s.missing(r, face))
				}
			}
		}
	}
	for _, ch := range b.Chapters {
		for _, t := range []string{ch.Title, ch.Part} {
			for _, r := range t {
				for _, face := range []*Face{s.l.Fonts.Regular, s.l.Fonts.Bold} {
					if s.l.Fonts.For(face, r) == nil {
						return fmt.Errorf("%s: title: %s", ch.Rel, s.missing(r, face))
					}
				}
			}
		}
	}
	return nil
}

// where names the episode and the line of a node's first text, or only the
// episode when the node has no text.
func where(n ast.Node, ch *manuscript.Chapter) string {
	at := ch.Rel
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if t, ok := c.(*ast.Text); ok && entering {
			at = fmt.Sprintf("%s:%d", ch.Rel, manuscript.LineOf(ch.Source, t.Segment.Start))
			return ast.WalkStop, nil
		}
		return ast.WalkContinue, nil
	})
	return at
}
