package pdfwrite

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Font is a TrueType font drawn by glyph id (Identity-H): any character the
// font has can be drawn, inside the Basic Multilingual Plane or not. Only
// the set of glyphs used is kept while pages are written; at the end the
// font is embedded as a subset of those glyphs.
type Font struct {
	// ID is the font's object number, for pages' resources.
	ID   int
	name string // PostScript name, with the subset tag
	data []byte
	f    *sfnt.Font
	buf  sfnt.Buffer
	upem float64
	gids map[rune]uint16
	used map[uint16]rune // glyph → the character it was first used for
}

// NewFont reads a TrueType font (glyf outlines) for w; name is its
// PostScript name, tag the six letters that mark it as a subset.
func NewFont(w *Writer, data []byte, name, tag string) (*Font, error) {
	f, err := sfnt.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("read font %s: %w", name, err)
	}
	return &Font{ID: w.Alloc(), name: tag + "+" + name, data: data, f: f, upem: float64(f.UnitsPerEm()),
		gids: map[rune]uint16{}, used: map[uint16]rune{}}, nil
}

// Encode is s as a hex string of glyph ids, for Tj; glyphs are recorded as used.
func (f *Font) Encode(s string) string {
	var b strings.Builder
	b.WriteByte('<')
	for _, r := range s {
		gid, ok := f.gids[r]
		if !ok {
			g, err := f.f.GlyphIndex(&f.buf, r)
			if err == nil {
				gid = uint16(g)
			}
			f.gids[r] = gid
		}
		if _, seen := f.used[gid]; !seen {
			f.used[gid] = r
		}
		fmt.Fprintf(&b, "%04X", gid)
	}
	b.WriteByte('>')
	return b.String()
}

func (f *Font) advance(gid uint16) float64 {
	adv, err := f.f.GlyphAdvance(&f.buf, sfnt.GlyphIndex(gid), fixed.I(int(f.upem)), font.HintingNone)
	if err != nil {
		return 0
	}
	return math.Round(1000 / f.upem * float64(adv) / 64)
}

// Write embeds the font: Type0 dictionary, CID font with widths, descriptor,
// the subset font file and a ToUnicode map, so text can be extracted.
func (f *Font) Write(w *Writer) error {
	cid, desc, file, toUni := w.Alloc(), w.Alloc(), w.Alloc(), w.Alloc()
	keep := map[uint16]bool{0: true}
	var gids []int
	for g := range f.used {
		keep[g] = true
		gids = append(gids, int(g))
	}
	sort.Ints(gids)
	sub, err := subset(f.data, keep)
	if err != nil {
		return fmt.Errorf("subset font %s: %w", f.name, err)
	}
	w.Object(f.ID, fmt.Sprintf("<</Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R>>", f.name, cid, toUni))
	var widths strings.Builder
	for _, g := range gids {
		fmt.Fprintf(&widths, "%d [%g] ", g, f.advance(uint16(g)))
	}
	w.Object(cid, fmt.Sprintf("<</Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>> /FontDescriptor %d 0 R /DW 1000 /W [%s] /CIDToGIDMap /Identity>>", f.name, desc, widths.String()))
	ppem := fixed.I(int(f.upem))
	scale := func(v fixed.Int26_6) int { return int(math.Round(float64(v) / 64 * 1000 / f.upem)) }
	bounds, _ := f.f.Bounds(&f.buf, ppem, font.HintingNone)
	m, _ := f.f.Metrics(&f.buf, ppem, font.HintingNone)
	// sfnt's y axis points down: the top of the box is -Min.Y.
	w.Object(desc, fmt.Sprintf("<</Type /FontDescriptor /FontName /%s /Flags 4 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV 80 /FontFile2 %d 0 R>>",
		f.name, scale(bounds.Min.X), -scale(bounds.Max.Y), scale(bounds.Max.X), -scale(bounds.Min.Y), scale(m.Ascent), -scale(m.Descent), scale(m.CapHeight), file))
	w.Stream(file, fmt.Sprintf(" /Length1 %d", len(sub)), sub, true)
	var cmap strings.Builder
	cmap.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	for i := 0; i < len(gids); i += 100 {
		chunk := gids[i:min(i+100, len(gids))]
		fmt.Fprintf(&cmap, "%d beginbfchar\n", len(chunk))
		for _, g := range chunk {
			r := f.used[uint16(g)]
			if r >= 0x10000 {
				r -= 0x10000
				fmt.Fprintf(&cmap, "<%04X> <%04X%04X>\n", g, 0xd800+r>>10, 0xdc00+r&0x3ff)
			} else {
				fmt.Fprintf(&cmap, "<%04X> <%04X>\n", g, r)
			}
		}
		cmap.WriteString("endbfchar\n")
	}
	cmap.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n")
	w.Stream(toUni, "", []byte(cmap.String()), true)
	f.used = nil
	return w.Err()
}

// subset keeps the glyphs in keep (and the parts of composite glyphs),
// emptying every other glyph, so glyph ids stay as they are (CIDToGIDMap
// /Identity). Only the tables a PDF's TrueType font needs are kept.
func subset(data []byte, keep map[uint16]bool) ([]byte, error) {
	be := binary.BigEndian
	if len(data) < 12 {
		return nil, fmt.Errorf("too short")
	}
	tables := map[string][]byte{}
	n := int(be.Uint16(data[4:]))
	for i := 0; i < n; i++ {
		rec := 12 + 16*i
		if rec+16 > len(data) {
			return nil, fmt.Errorf("table directory cut short")
		}
		tag := string(data[rec : rec+4])
		off, length := int(be.Uint32(data[rec+8:])), int(be.Uint32(data[rec+12:]))
		if off < 0 || length < 0 || off+length > len(data) {
			return nil, fmt.Errorf("table %q lies outside the file", tag)
		}
		tables[tag] = data[off : off+length]
	}
	head, maxp, loca, glyf := tables["head"], tables["maxp"], tables["loca"], tables["glyf"]
	if len(head) < 54 || len(maxp) < 6 || loca == nil || glyf == nil {
		return nil, fmt.Errorf("not a TrueType font with glyf outlines")
	}
	numGlyphs := int(be.Uint16(maxp[4:]))
	long := be.Uint16(head[50:]) == 1
	offset := func(g int) int {
		if long {
			if 4*g+4 > len(loca) {
				return -1
			}
			return int(be.Uint32(loca[4*g:]))
		}
		if 2*g+2 > len(loca) {
			return -1
		}
		return 2 * int(be.Uint16(loca[2*g:]))
	}
	glyph := func(g int) []byte {
		a, b := offset(g), offset(g+1)
		if a < 0 || b < a || b > len(glyf) {
			return nil
		}
		return glyf[a:b]
	}
	// Composite glyphs draw other glyphs: keep those too.
	queue := make([]uint16, 0, len(keep))
	for g := range keep {
		queue = append(queue, g)
	}
	for len(queue) > 0 {
		g := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		d := glyph(int(g))
		if len(d) < 10 || int16(be.Uint16(d)) >= 0 {
			continue
		}
		for p := 10; p+4 <= len(d); {
			flags, comp := be.Uint16(d[p:]), be.Uint16(d[p+2:])
			if !keep[comp] {
				keep[comp] = true
				queue = append(queue, comp)
			}
			p += 4
			if flags&1 != 0 {
				p += 4
			} else {
				p += 2
			}
			switch {
			case flags&8 != 0:
				p += 2
			case flags&0x40 != 0:
				p += 4
			case flags&0x80 != 0:
				p += 8
			}
			if flags&0x20 == 0 {
				break
			}
		}
	}
	var newGlyf []byte
	newLoca := make([]byte, 4*(numGlyphs+1))
	for g := 0; g < numGlyphs; g++ {
		be.PutUint32(newLoca[4*g:], uint32(len(newGlyf)))
		if keep[uint16(g)] {
			newGlyf = append(newGlyf, glyph(g)...)
			for len(newGlyf)%4 != 0 {
				newGlyf = append(newGlyf, 0)
			}
		}
	}
	be.PutUint32(newLoca[4*numGlyphs:], uint32(len(newGlyf)))
	newHead := append([]byte(nil), head...)
	be.PutUint32(newHead[8:], 0) // checkSumAdjustment
	be.PutUint16(newHead[50:], 1)
	out := map[string][]byte{"head": newHead, "loca": newLoca, "glyf": newGlyf}
	for _, tag := range []string{"hhea", "hmtx", "maxp", "cvt ", "fpgm", "prep"} {
		if t, ok := tables[tag]; ok {
			out[tag] = t
		}
	}
	var tags []string
	for tag := range out {
		tags = append(tags, tag)
	}
	sort.Strings(tags)
	num := len(tags)
	entrySel := int(math.Floor(math.Log2(float64(num))))
	searchRange := (1 << entrySel) * 16
	file := make([]byte, 12+16*num)
	be.PutUint32(file, 0x00010000)
	be.PutUint16(file[4:], uint16(num))
	be.PutUint16(file[6:], uint16(searchRange))
	be.PutUint16(file[8:], uint16(entrySel))
	be.PutUint16(file[10:], uint16(num*16-searchRange))
	for _, tag := range tags {
		file = append(file, out[tag]...)
		for len(file)%4 != 0 {
			file = append(file, 0)
		}
	}
	off := 12 + 16*num
	for i, tag := range tags {
		t := out[tag]
		rec := file[12+16*i:]
		copy(rec, tag)
		be.PutUint32(rec[4:], checksum(t))
		be.PutUint32(rec[8:], uint32(off))
		be.PutUint32(rec[12:], uint32(len(t)))
		off += (len(t) + 3) &^ 3
	}
	return file, nil
}

func checksum(t []byte) uint32 {
	var sum uint32
	for i := 0; i < len(t); i += 4 {
		var word [4]byte
		copy(word[:], t[i:])
		sum += binary.BigEndian.Uint32(word[:])
	}
	return sum
}
