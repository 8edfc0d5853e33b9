package plot

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"github.com/novelfactory/runner/internal/regfile"
)

// SVG writes the scene as a standalone SVG document.
func (s *Scene) SVG(w io.Writer, title string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="%s">`+"\n", s.W, s.H, s.W, s.H, esc(title))
	fmt.Fprintf(&b, "<style>text { font-family: %s; }</style>\n", FontStack)
	for _, p := range s.prims {
		switch p.kind {
		case kRect:
			fmt.Fprintf(&b, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s"/>`+"\n", f(p.pts[0]), f(p.pts[1]), f(p.pts[2]), f(p.pts[3]), p.color)
		case kLine:
			var pts []string
			for i := 0; i+1 < len(p.pts); i += 2 {
				pts = append(pts, f(p.pts[i])+","+f(p.pts[i+1]))
			}
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="%s" stroke-linejoin="round" stroke-linecap="round"/>`+"\n", strings.Join(pts, " "), p.color, f(p.width))
		case kText:
			weight := ""
			if p.bold {
				weight = ` font-weight="bold"`
			}
			fmt.Fprintf(&b, `<text x="%s" y="%s" font-size="%s" text-anchor="%s" fill="%s"%s>%s</text>`+"\n", f(p.pts[0]), f(p.pts[1]), f(p.size), p.anchor, p.color, weight, esc(p.text))
		}
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func f(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

func esc(s string) string { return escaper.Replace(s) }

// Font is a face that draws the chart's text into PNGs.
type Font struct {
	Path string
	font *sfnt.Font
}

// fontHint says what to install.
const fontHint = "install Debian's fonts-noto-cjk (apt-get install fonts-noto-cjk) or set font: to a font file with Hangul"

// defaultFonts are tried in order when no font is named.
var defaultFonts = []string{
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
	"/usr/share/fonts/opentype/noto/NotoSansCJKkr-Regular.otf",
	"/usr/share/fonts/truetype/nanum/NanumGothic.ttf",
	"/usr/share/fonts/truetype/nanum/NanumBarunGothic.ttf",
}

// LoadFont opens a TrueType or OpenType font or collection (.ttc: the
// Korean face is chosen by name). Empty path: Noto Sans CJK, else Nanum
// Gothic, where Debian installs them.
func LoadFont(path string) (*Font, error) {
	if path == "" {
		for _, p := range defaultFonts {
			if _, err := os.Stat(p); err == nil {
				path = p
				break
			}
		}
		if path == "" {
			return nil, fmt.Errorf("no CJK font found for the PNG chart (looked for %s); %s", strings.Join(defaultFonts, ", "), fontHint)
		}
	}
	data, err := regfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("font: %w", err)
	}
	var fnt *sfnt.Font
	if bytes.HasPrefix(data, []byte("ttcf")) {
		coll, err := sfnt.ParseCollection(data)
		if err != nil {
			return nil, fmt.Errorf("font %s: %w", path, err)
		}
		// Prefer the Korean face of a CJK collection.
		var buf sfnt.Buffer
		for i := 0; i < coll.NumFonts(); i++ {
			face, err := coll.Font(i)
			if err != nil {
				continue
			}
			name, _ := face.Name(&buf, sfnt.NameIDFull)
			if fnt == nil || strings.Contains(name, " KR") || strings.HasSuffix(name, "KR") {
				fnt = face
				if strings.Contains(name, "KR") {
					break
				}
			}
		}
		if fnt == nil {
			return nil, fmt.Errorf("font %s: no usable face in the collection", path)
		}
	} else if fnt, err = sfnt.Parse(data); err != nil {
		return nil, fmt.Errorf("font %s: %w", path, err)
	}
	return &Font{Path: filepath.Clean(path), font: fnt}, nil
}

// Missing returns the first character of s the font has no glyph for.
func (fo *Font) Missing(s string) (rune, bool) {
	var buf sfnt.Buffer
	for _, r := range s {
		if r == ' ' || r == '\n' {
			continue
		}
		if gi, err := fo.font.GlyphIndex(&buf, r); err != nil || gi == 0 {
			return r, true
		}
	}
	return 0, false
}

// PNG rasterises the scene. A label with a character the font lacks is an
// error — plotting libraries silently draw nothing for it.
func (s *Scene) PNG(w io.Writer, fo *Font) error {
	for _, p := range s.prims {
		if p.kind == kText {
			if r, missing := fo.Missing(p.text); missing {
				return fmt.Errorf("font %s has no glyph for %q (U+%04X) in %q; %s", fo.Path, r, r, p.text, fontHint)
			}
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, s.W, s.H))
	faces := map[[2]float64]font.Face{}
	faceFor := func(size float64, bold bool) (font.Face, error) {
		k := [2]float64{size, 0}
		if bold {
			k[1] = 1
		}
		if fc, ok := faces[k]; ok {
			return fc, nil
		}
		fc, err := opentype.NewFace(fo.font, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
		if err != nil {
			return nil, err
		}
		faces[k] = fc
		return fc, nil
	}
	for _, p := range s.prims {
		col := parseColor(p.color)
		switch p.kind {
		case kRect:
			fill(img, col, rectPath(p.pts[0], p.pts[1], p.pts[2], p.pts[3]))
		case kLine:
			fill(img, col, strokePath(p.pts, p.width))
		case kText:
			fc, err := faceFor(p.size, p.bold)
			if err != nil {
				return err
			}
			d := &font.Drawer{Dst: img, Src: image.NewUniform(col), Face: fc}
			width := float64(d.MeasureString(p.text)) / 64
			x := p.pts[0]
			switch p.anchor {
			case "middle":
				x -= width / 2
			case "end":
				x -= width
			}
			d.Dot = fixed.Point26_6{X: fixed.Int26_6(x * 64), Y: fixed.Int26_6(p.pts[1] * 64)}
			d.DrawString(p.text)
			if p.bold { // a second pass one pixel right thickens the strokes
				d.Dot = fixed.Point26_6{X: fixed.Int26_6((x + 0.6) * 64), Y: fixed.Int26_6(p.pts[1] * 64)}
				d.DrawString(p.text)
			}
		}
	}
	return png.Encode(w, img)
}

// A path is a list of closed polygons, x,y pairs.
type path [][]float64

func rectPath(x, y, w, h float64) path {
	return path{{x, y, x + w, y, x + w, y + h, x, y + h}}
}

// strokePath outlines a polyline of the given width: a quad per segment and
// a disc at every joint, so joins and ends are round.
func strokePath(pts []float64, width float64) path {
	var out path
	r := width / 2
	for i := 0; i+3 < len(pts); i += 2 {
		x0, y0, x1, y1 := pts[i], pts[i+1], pts[i+2], pts[i+3]
		dx, dy := x1-x0, y1-y0
		l := math.Hypot(dx, dy)
		if l == 0 {
			continue
		}
		nx, ny := -dy/l*r, dx/l*r
		out = append(out, []float64{x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny})
	}
	if width > 1.5 {
		for i := 0; i+1 < len(pts); i += 2 {
			var disc []float64
			for a := 0; a < 12; a++ {
				t := float64(a) / 12 * 2 * math.Pi
				disc = append(disc, pts[i]+r*math.Cos(t), pts[i+1]+r*math.Sin(t))
			}
			out = append(out, disc)
		}
	}
	return out
}

// fill paints each polygon of p (anti-aliased) in col, rasterising only
// the polygon's bounding box.
func fill(img *image.RGBA, col color.Color, p path) {
	var z vector.Rasterizer
	src := image.NewUniform(col)
	for _, poly := range p {
		minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for i := 0; i+1 < len(poly); i += 2 {
			minX, maxX = math.Min(minX, poly[i]), math.Max(maxX, poly[i])
			minY, maxY = math.Min(minY, poly[i+1]), math.Max(maxY, poly[i+1])
		}
		box := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX))+1, int(math.Ceil(maxY))+1).Intersect(img.Bounds())
		if box.Empty() {
			continue
		}
		ox, oy := float64(box.Min.X), float64(box.Min.Y)
		z.Reset(box.Dx(), box.Dy())
		z.DrawOp = draw.Over
		z.MoveTo(float32(poly[0]-ox), float32(poly[1]-oy))
		for i := 2; i+1 < len(poly); i += 2 {
			z.LineTo(float32(poly[i]-ox), float32(poly[i+1]-oy))
		}
		z.ClosePath()
		z.Draw(img, box, src, image.Point{})
	}
}

func parseColor(s string) color.RGBA {
	var r, g, b uint8
	if len(s) == 7 && s[0] == '#' {
		v, _ := strconv.ParseUint(s[1:], 16, 32)
		r, g, b = uint8(v>>16), uint8(v>>8), uint8(v)
	}
	return color.RGBA{r, g, b, 255}
}
