package pdfbook

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"

	"github.com/novelfactory/runner/internal/regfile"
)

// Face is a TrueType font the PDF embeds (as a subset of the glyphs used).
type Face struct {
	// Path is the font file; Name its PostScript-safe name.
	Path, Name string
	data       []byte
	font       *sfnt.Font
	buf        sfnt.Buffer
	upem       float64
	widths     map[rune]float64 // advance in 1/1000 em, rounded as the PDF writer does
	has        map[rune]bool
}

// fontHint says what to install when no usable Korean font is at hand.
const fontHint = "install Debian's fonts-nanum (apt-get install fonts-nanum) or set font: to a TrueType (.ttf) file with Hangul, such as NanumMyeongjo.ttf"

// LoadFace reads a font file and checks up front that the PDF writer can
// embed it: TrueType outlines in a single-font file. Noto CJK's .ttc
// collections and CFF-flavoured .otf files are refused here, naming a font
// that works, rather than failing later with "undefined font".
func LoadFace(path string) (*Face, error) {
	data, err := regfile.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("font: %w", err)
	}
	if len(data) < 12 {
		return nil, fmt.Errorf("font %s: not a font file", path)
	}
	switch string(data[:4]) {
	case "ttcf":
		return nil, fmt.Errorf("font %s is a TrueType collection (.ttc), which the PDF writer cannot embed; %s", path, fontHint)
	case "OTTO":
		return nil, fmt.Errorf("font %s has CFF (PostScript) outlines, which the PDF writer cannot embed; %s", path, fontHint)
	case "\x00\x01\x00\x00", "true":
	default:
		return nil, fmt.Errorf("font %s is not a TrueType font; %s", path, fontHint)
	}
	f, err := sfnt.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("font %s: %w", path, err)
	}
	var buf sfnt.Buffer
	name, err := f.Name(&buf, sfnt.NameIDPostScript)
	if err != nil || name == "" {
		base := filepath.Base(path)
		name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	return &Face{
		Path: path, Name: psName(name), data: data, font: f,
		upem: float64(f.UnitsPerEm()), widths: map[rune]float64{}, has: map[rune]bool{},
	}, nil
}

// psName keeps the letters and digits of a font name (PDF names are ASCII).
func psName(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
			sb.WriteRune(r)
		}
	}
	if sb.Len() == 0 {
		return "Font"
	}
	return sb.String()
}

// Has says whether the font draws r.
func (f *Face) Has(r rune) bool {
	if r == ' ' || r == '\n' || r == '\u00a0' {
		return true
	}
	if ok, known := f.has[r]; known {
		return ok
	}
	gi, err := f.font.GlyphIndex(&f.buf, r)
	f.has[r] = err == nil && gi != 0
	return f.has[r]
}

// Advance is r's width in thousandths of an em.
func (f *Face) Advance(r rune) float64 {
	if w, ok := f.widths[r]; ok {
		return w
	}
	w := 500.0
	if r == '\u00a0' {
		r = ' '
	}
	if gi, err := f.font.GlyphIndex(&f.buf, r); err == nil && gi != 0 {
		if adv, err := f.font.GlyphAdvance(&f.buf, gi, fixed.I(int(f.upem)), font.HintingNone); err == nil {
			w = math.Round(1000 / f.upem * float64(adv) / 64)
		}
	}
	f.widths[r] = w
	return w
}

// Width is the width of s in thousandths of an em.
func (f *Face) Width(s string) float64 {
	w := 0.0
	for _, r := range s {
		w += f.Advance(r)
	}
	return w
}

// Fonts are the faces a book is set in.
type Fonts struct {
	Regular, Bold, Mono *Face
	// fallbacks are font files tried in order for a character the face of
	// its style lacks, loaded the first time one is needed.
	fallbacks []fallback
}

// fallback is a font of the chain, loaded on first use.
type fallback struct {
	path   string
	face   *Face
	loaded bool
}

// DefaultFallbacks are Debian's fonts tried, in order, for a character the
// Korean fonts lack: DejaVu (Latin, Greek, Cyrillic, Hebrew, Arabic,
// symbols, combining marks), Droid Sans Fallback (CJK ideographs, kana)
// and Symbola (symbols and emoji, in one colour), then Noto Sans for the
// scripts none of those has (fonts-noto-core: the Indic scripts, Thai, Lao,
// Khmer, Myanmar, Sinhala, Ethiopic, Georgian, Armenian). Noto CJK is not
// among them: its .ttc collections are CFF, which the PDF writer cannot
// embed. Characters are drawn one by one, not shaped: a script that joins
// or reorders its letters shows them apart.
var DefaultFallbacks = append([]string{
	"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf",
	"/usr/share/fonts/truetype/symbola/Symbola.ttf",
}, notoScripts("Malayalam", "Kannada", "Tamil", "Telugu", "Devanagari", "Bengali", "Gujarati", "Gurmukhi",
	"Oriya", "Sinhala", "Thai", "Lao", "Khmer", "Myanmar", "Ethiopic", "Georgian", "Armenian")...)

// notoScripts are the paths of Debian's Noto Sans fonts of scripts.
func notoScripts(scripts ...string) []string {
	paths := make([]string, len(scripts))
	for i, s := range scripts {
		paths[i] = "/usr/share/fonts/truetype/noto/NotoSans" + s + "-Regular.ttf"
	}
	return paths
}

// SetFallbacks replaces the fallback chain by the font files at paths, in
// order; files that do not exist are skipped when a character is looked up.
func (f *Fonts) SetFallbacks(paths []string) {
	f.fallbacks = nil
	for _, p := range paths {
		f.fallbacks = append(f.fallbacks, fallback{path: p})
	}
}

// For is the face that draws r in text whose own face is primary: primary
// itself, else the first font of the fallback chain that has r, else nil.
func (f *Fonts) For(primary *Face, r rune) *Face {
	if primary.Has(r) {
		return primary
	}
	for i := range f.fallbacks {
		fb := &f.fallbacks[i]
		if !fb.loaded {
			fb.loaded = true
			if fileExists(fb.path) {
				// A font that cannot be read or embedded is skipped, as
				// one not installed is: the chain is a best effort, and a
				// character no font draws is still named as an error.
				fb.face, _ = LoadFace(fb.path)
			}
		}
		if fb.face != nil && fb.face.Has(r) {
			return fb.face
		}
	}
	return nil
}

// Chain names the fonts tried for a character in text of face primary.
func (f *Fonts) Chain(primary *Face) string {
	names := []string{primary.Name}
	for _, fb := range f.fallbacks {
		if fb.face != nil {
			names = append(names, fb.face.Name)
		} else if !fb.loaded || fileExists(fb.path) {
			names = append(names, filepath.Base(fb.path))
		}
	}
	return strings.Join(names, ", ")
}

// Width is the width of s in thousandths of an em, each character measured
// in the face that draws it (a character no face draws counts as half an em).
func (f *Fonts) Width(primary *Face, s string) float64 {
	w := 0.0
	for _, r := range s {
		face := f.For(primary, r)
		if face == nil {
			face = primary
		}
		w += face.Advance(r)
	}
	return w
}

// Runs cuts s into runs drawn by one face each, calling fn with each run's
// face and text; a character no face draws goes with primary.
func (f *Fonts) Runs(primary *Face, s string, fn func(face *Face, text string)) {
	start := 0
	var cur *Face
	for i, r := range s {
		face := f.For(primary, r)
		if face == nil {
			face = primary
		}
		if face != cur && i > start {
			fn(cur, s[start:i])
			start = i
		}
		cur = face
	}
	if start < len(s) {
		fn(cur, s[start:])
	}
}

// defaultFonts are looked for, in order, when the recipe names none.
var defaultFontDirs = []string{
	"/usr/share/fonts/truetype/nanum",
	"/usr/share/fonts/nanum",
	"/usr/local/share/fonts",
	"/Library/Fonts",
}

// FindFonts loads the named fonts, or Korean TrueType fonts found in the
// usual places. bold and mono default to the regular face's Bold sibling
// (NanumMyeongjoBold.ttf) and NanumGothicCoding, else to the regular face.
func FindFonts(regular, bold, mono string) (*Fonts, error) {
	home, _ := os.UserHomeDir()
	dirs := append([]string{filepath.Join(home, ".local/share/fonts"), filepath.Join(home, ".fonts")}, defaultFontDirs...)
	find := func(names ...string) string {
		for _, d := range dirs {
			for _, n := range names {
				if p := filepath.Join(d, n); fileExists(p) {
					return p
				}
			}
		}
		return ""
	}
	if regular == "" {
		regular = find("NanumMyeongjo.ttf", "NanumGothic.ttf", "NanumBarunGothic.ttf")
		if regular == "" {
			return nil, fmt.Errorf("no Korean TrueType font found in %s; %s", strings.Join(dirs, ", "), fontHint)
		}
	}
	reg, err := LoadFace(regular)
	if err != nil {
		return nil, err
	}
	if !reg.Has('가') {
		return nil, fmt.Errorf("font %s has no Hangul; %s", regular, fontHint)
	}
	fonts := &Fonts{Regular: reg, Bold: reg, Mono: reg}
	fonts.SetFallbacks(DefaultFallbacks)
	if bold == "" {
		ext := filepath.Ext(regular)
		if p := strings.TrimSuffix(regular, ext) + "Bold" + ext; fileExists(p) {
			bold = p
		}
	}
	if bold != "" {
		if fonts.Bold, err = LoadFace(bold); err != nil {
			return nil, err
		}
	}
	if mono == "" {
		mono = find("NanumGothicCoding.ttf")
	}
	if mono != "" {
		if fonts.Mono, err = LoadFace(mono); err != nil {
			return nil, err
		}
	}
	return fonts, nil
}

func fileExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && !info.IsDir()
}

// subsetTag is the six capital letters PDF puts before a subset font's name.
func subsetTag(name string) string {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	var tag [6]byte
	for i := range tag {
		tag[i] = 'A' + byte(h%26)
		h /= 26
	}
	return string(tag[:])
}
