package pdfbook_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	gopng "image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/testtools"
	"github.com/novelfactory/runner/tasks/internal/imagesize"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
	"github.com/novelfactory/runner/tasks/internal/pdfbook"
)

// setEpisodes writes the episodes (name → Markdown) into a new folder,
// then sets and renders them on cfg; it returns the error of either step.
func setEpisodes(t *testing.T, cfg pdfbook.Config, episodes map[string]string) (*pdfbook.Layout, string, error) {
	t.Helper()
	dir := t.TempDir()
	for name, text := range episodes {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := manuscript.Load(context.Background(), manuscript.Options{Src: dir})
	if err != nil {
		return nil, "", err
	}
	l, err := pdfbook.Set(b, fonts(t), cfg)
	if err != nil {
		return nil, "", err
	}
	dest := filepath.Join(t.TempDir(), "book.pdf")
	f, err := os.Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pdfbook.Render(f, l, pdfbook.Info{Title: "t", Date: time.Unix(0, 0)}); err != nil {
		return l, "", err
	}
	return l, dest, nil
}

// hostileCase is an episode that must be set without error, every line
// inside the text area, and read back by pdftotext.
type hostileCase struct {
	name, md string
	cfg      *pdfbook.Config // a5 when nil
	want     string          // text pdftotext must give back (white space ignored)
}

func hostileCases() []hostileCase {
	tight := pdfbook.Config{PageWidth: 148, PageHeight: 210, Top: 60, Bottom: 60, Left: 54, Right: 54, FontSize: 30, Leading: 4}
	return []hostileCase{
		{name: "a quote nested 11 deep", md: strings.Repeat("> ", 11) + "깊은 인용\n", want: "깊은인용"},
		{name: "a list nested 60 deep", md: nestedList(60, "항목"), want: "항목60"},
		{name: "a quote nested 1000 deep", md: strings.Repeat("> ", 1000) + "깊은 인용\n", want: "깊은인용"},
		{name: "a list nested 300 deep", md: nestedList(300, "항목"), want: "항목300"},
		{name: "quotes and lists nested in turn", md: strings.Repeat("> - ", 200) + "끝\n", want: "끝"},
		{name: "a deep list on a 40 mm measure in 30 pt", md: nestedList(40, "가나다라"), cfg: &tight, want: "나다"},
		{name: "a code line of 3,000 characters", md: "```\n" + strings.Repeat("| col ", 500) + "\n```\n", want: "|col|col|col"},
		{name: "a table of 11 columns", md: tableOf(11), want: "가나다"},
		{name: "a 1 MB word without spaces", md: strings.Repeat("가", 1<<20/3) + "\n", want: strings.Repeat("가", 50)},
		{name: "a line of 100,000 characters with spaces", md: strings.Repeat("가나다 ", 25_000) + "\n", want: "가나다가나다"},
		{name: "zero-width joiners, spaces and word joiners", md: "가\u200d나\u200b다\u2060라 " + strings.Repeat("\u200d", 5000) + " 끝\n", want: "끝"},
		{name: "a letter under 1,000 combining marks", md: "a" + strings.Repeat("\u0301", 1000) + " 가e\u0301\u0302 끝\n", want: "끝"},
		{name: "right-to-left text and bidi controls", md: "שלום עולם مرحبا \u202e역방향\u202c 끝\n", want: "끝"},
		{name: "U+FFFD", md: "가\ufffd나 다라\n", want: "가\ufffd나"},
		{name: "a 5,000-character heading without spaces", md: "## " + strings.Repeat("가", 5000) + "\n\n본문\n", want: "본문"},
		{name: "a title heading of 20,000 characters", md: "본문 앞\n\n" + "# " + strings.Repeat("그녀는 문을 열었다. ", 2000) + "\n\n본문\n", want: "본문앞"},
		{name: "an episode of only a heading", md: "", want: "제1화"},
		// Before, references and escapes were set as typed: "&amp;" for "&".
		{name: "character references and escapes are decoded, not in code", md: "본문 &amp; &lt;태그&gt; &copy; &#44032; &#xAC00; &nbsp;끝 \\*별\\* \\&amp; &#0; &bogus; `코드 &amp; \\*`\n\n```\n블록 &amp; &#44032;\n```\n", want: "본문&<태그>©가가끝*별*&amp;\ufffd&bogus;코드&amp;\\*블록&amp;&#44032;"},
		{name: "an emoji family joined by ZWJ, skin tones, flags", md: "가족 👩\u200d👩\u200d👧 손 👍🏽 깃발 🇰🇷 끝\n", want: "끝"},
	}
}

func TestHostileEpisodesAreSet(t *testing.T) {
	for _, c := range hostileCases() {
		t.Run(c.name, func(t *testing.T) {
			cfg := a5
			if c.cfg != nil {
				cfg = *c.cfg
			}
			l, pdf, err := setEpisodes(t, cfg, map[string]string{"001.md": "# 제1화\n\n" + c.md})
			if err != nil {
				t.Fatal(err)
			}
			checkLinesInside(t, l)
			text := testtools.Poppler(t, "pdftotext", "-enc", "UTF-8", pdf, "-")
			if !strings.Contains(squash(text), squash(c.want)) {
				t.Errorf("pdftotext lacks %q", c.want)
			}
		})
	}
}

// TestLinksSetTheirText: links to episodes, to the web, autolinks and
// references are set as their text.
func TestLinksSetTheirText(t *testing.T) {
	l, pdf, err := setEpisodes(t, a5, map[string]string{
		"001.md": "# 제1화\n\n[다음 화](002.md)와 [사이트](https://example.com/a?b=c \"제목\")와 <https://example.com/x> 그리고 [빈]() [참조][ref] **[굵은 링크](002.md#top)**\n\n[ref]: 002.md\n",
		"002.md": "# 제2화\n\n[처음으로](001.md)\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	checkLinesInside(t, l)
	text := squash(testtools.Poppler(t, "pdftotext", "-enc", "UTF-8", pdf, "-"))
	for _, want := range []string{"다음화와사이트와https://example.com/x그리고빈참조굵은링크", "처음으로"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext lacks %q:\n%s", want, text)
		}
	}
}

// TestHostileFiles sets episodes that are empty, not UTF-8, or full of
// images: each is set or refused with a message, never a panic.
func TestHostileFiles(t *testing.T) {
	png := func(w, h int) string {
		var buf bytes.Buffer
		if err := gopng.Encode(&buf, image.NewGray(image.Rect(0, 0, w, h))); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	t.Run("a 0-byte episode between two", func(t *testing.T) {
		l, pdf, err := setEpisodes(t, a5, map[string]string{"001.md": "# 제1화\n\n하나\n", "002.md": "", "003.md": "# 제3화\n\n셋\n"})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.ChapterPages) != 3 {
			t.Fatalf("%d chapters", len(l.ChapterPages))
		}
		if text := squash(testtools.Poppler(t, "pdftotext", "-enc", "UTF-8", pdf, "-")); !strings.Contains(text, "셋") {
			t.Errorf("pdftotext lacks the third episode:\n%s", text)
		}
	})
	t.Run("a lone surrogate in the bytes", func(t *testing.T) {
		_, _, err := setEpisodes(t, a5, map[string]string{"001.md": "# 제1화\n\n가\xed\xa0\x80나\n"})
		if err == nil || !strings.Contains(err.Error(), "001.md:3:4: not UTF-8 text (byte 0xed)") {
			t.Fatalf("error %v, want one naming the episode, line and byte", err)
		}
	})
	t.Run("10,000 images", func(t *testing.T) {
		l, pdf, err := setEpisodes(t, a5, map[string]string{"001.md": "# 제1화\n\n" + strings.Repeat("![점](dot.png)\n\n", 10_000), "dot.png": png(8, 8)})
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(testtools.Poppler(t, "pdfimages", "-list", pdf), "\n") - 2; n != 10_000 {
			t.Errorf("pdfimages lists %d images on %d pages, want 10,000", n, len(l.Pages))
		}
	})
	t.Run("a PNG of 50 megapixels in a small file", func(t *testing.T) {
		_, _, err := setEpisodes(t, a5, map[string]string{"001.md": "# 제1화\n\n![큰](big.png)\n", "big.png": png(10_000, 5_000)})
		if err == nil || !strings.Contains(err.Error(), "big.png: image is 10000×5000 pixels, more than the 40 megapixels a PDF page needs") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("images far larger than the page", func(t *testing.T) {
		l, _, err := setEpisodes(t, a5, map[string]string{"001.md": "# 제1화\n\n![넓게](wide.png)\n\n![높게](tall.png)\n", "wide.png": png(12_000, 10), "tall.png": png(10, 12_000)})
		if err != nil {
			t.Fatal(err)
		}
		for n, p := range l.Pages {
			for _, b := range p.Images() {
				if b.X < l.TextLeft()-1e-6 || b.X+b.W > l.TextRight()+1e-6 || b.Y < a5.Top-1e-6 || b.Y+b.H > a5.PageHeight-a5.Bottom+1e-6 {
					t.Errorf("page %d: an image at %+v leaves the text area", n+1, b)
				}
			}
		}
	})
}

// tableOf is a table of n columns.
func tableOf(n int) string {
	return "앞 문단\n\n" + strings.Repeat("| a ", n) + "|\n" + strings.Repeat("|---", n) + "|\n" + strings.Repeat("| 가나다 ", n) + "|\n"
}

// TestBadEpisodesAreNamedErrors sets episodes that cannot be set and
// checks the error names the episode, the line and what to do.
func TestBadEpisodesAreNamedErrors(t *testing.T) {
	for _, c := range []struct{ name, md, want string }{
		{"a table of 200 columns", tableOf(200), "001.md:5: a table of 200 columns does not fit the text width (112 mm): at most 11 do"},
		// Control characters are refused when the manuscript is read, for
		// the EPUB and the PDF alike, at their line and column.
		{"a control character", "가\a나\n", "001.md:3:2: character U+0007 cannot be in a book"},
		{"NUL", "다\x00라\n", "001.md:3:2: character U+0000 cannot be in a book"},
		// Before, a reference to a control character reached the fonts:
		// "character '\a' (U+0007) is in none of the fonts", no column.
		{"a reference to a control character", "가나 &#7; 다\n", "001.md:3:4: the character reference &#7; makes character U+0007 cannot be in a book (a control character"},
		{"a hexadecimal reference to C1 NEL", "가 **&#x85;**\n", "001.md:3:5: the character reference &#x85; makes character U+0085 cannot be in a book"},
		// Before, the text check let these through to the fonts: "is in
		// none of the fonts", no column, not called what they are.
		// Before, set after 16.7 s and 189 MB (goldmark's time grows with
		// the square of the markers on a line).
		{"a list nested 50,000 deep on one line", strings.Repeat("- ", 50000) + "가\n", "001.md:3: a line opens more than 1000 quotes and list items"},
		{"a quote nested 50,000 deep on one line", "앞\n\n" + strings.Repeat("> ", 50000) + "가\n", "001.md:5: a line opens more than 1000 quotes and list items"},
		{"C1 NEL", "가\u0085나\n", "001.md:3:2: character U+0085 cannot be in a book (a control character"},
		{"C1 APC", "가나\u009f\n", "001.md:3:3: character U+009F cannot be in a book (a control character"},
		{"DEL", "\u007f\n", "001.md:3:1: character U+007F cannot be in a book (a control character"},
		{"noncharacter U+FDD0", "가 \ufdd0\n", "001.md:3:3: character U+FDD0 cannot be in a book (a noncharacter"},
		{"noncharacter U+1FFFF", "가 \U0001ffff\n", "001.md:3:3: character U+1FFFF cannot be in a book (a noncharacter"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := setEpisodes(t, a5, map[string]string{"001.md": "# 제1화\n\n" + c.md})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// TestPagesWithoutRoomAreRefused sets a book on pages whose text area is
// nothing, negative or not a number. Before, a text area of no width set
// every character on a line of its own, far outside the page, and a line
// height of 0 never filled a page.
func TestPagesWithoutRoomAreRefused(t *testing.T) {
	nan := math.NaN()
	for name, c := range map[string]struct {
		cfg  pdfbook.Config
		want string
	}{
		"no width":             {pdfbook.Config{PageWidth: 148, PageHeight: 210, Top: 19, Bottom: 21, Left: 74, Right: 74, FontSize: 10, Leading: 1.75}, "leaves a text area of 0x170 mm"},
		"negative margins":     {pdfbook.Config{PageWidth: 148, PageHeight: 210, Top: 19, Bottom: 21, Left: 100, Right: 100, FontSize: 10, Leading: 1.75}, "leaves a text area of -52x170 mm"},
		"a width not a number": {pdfbook.Config{PageWidth: nan, PageHeight: 210, Top: 19, Bottom: 21, Left: 18, Right: 18, FontSize: 10, Leading: 1.75}, "leaves a text area of NaNx170 mm"},
		"no line height":       {pdfbook.Config{PageWidth: 148, PageHeight: 210, Top: 19, Bottom: 21, Left: 18, Right: 18, FontSize: 10}, "line height 0"},
		"a font too big":       {pdfbook.Config{PageWidth: 148, PageHeight: 210, Top: 19, Bottom: 21, Left: 18, Right: 18, FontSize: 200, Leading: 3}, "leaves no room for a line"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := setEpisodes(t, c.cfg, map[string]string{"001.md": "# 제1화\n\n본문\n"})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

// nestedList is a bullet list nested depth deep, its items text1, text2, …
func nestedList(depth int, text string) string {
	var sb strings.Builder
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&sb, "%s- %s%d\n", strings.Repeat("  ", i), text, i+1)
	}
	return sb.String()
}

// TestATableRowTallerThanAPageIsSplit: a row whose cell holds more lines
// than a page is split between pages. Before, what passed the page's foot
// was dropped: pdftotext gave 642 of the 2,200 characters.
func TestATableRowTallerThanAPageIsSplit(t *testing.T) {
	md := "| 가 | 나 |\n|---|---|\n| " + strings.Repeat("가", 200) + " | " + strings.Repeat("나 ", 2000) + "|\n\n표 뒤\n"
	l, pdf, err := setEpisodes(t, a5, map[string]string{"001.md": "# 제1화\n\n" + md})
	if err != nil {
		t.Fatal(err)
	}
	checkLinesInside(t, l)
	for n, p := range l.Pages {
		for _, ln := range p.Lines {
			if ln.Y < a5.Top-1e-6 || ln.Y > a5.PageHeight-a5.Bottom+1e-6 {
				t.Fatalf("page %d: a line at y %.2f mm, below the text area", n+1, ln.Y)
			}
		}
	}
	text := testtools.Poppler(t, "pdftotext", "-enc", "UTF-8", pdf, "-")
	// One 가 and one 나 are the header's.
	if a, b := strings.Count(text, "가"), strings.Count(text, "나"); a != 201 || b != 2001 {
		t.Errorf("pdftotext gives %d 가 and %d 나, want 201 and 2,001", a, b)
	}
	if !strings.Contains(squash(text), "표뒤") {
		t.Errorf("pdftotext lacks the paragraph after the table")
	}
}

// pngHeader is a PNG of w×h pixels of the given bit depth and colour type
// that ends after its header: enough for image.DecodeConfig, not a picture.
func pngHeader(w, h int, depth, colorType byte) string {
	ihdr := []byte("IHDR\x00\x00\x00\x00\x00\x00\x00\x00")
	binary.BigEndian.PutUint32(ihdr[4:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[8:], uint32(h))
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0d")
	out = append(out, ihdr...)
	return string(binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(ihdr)))
}

// TestImageErrorsNameTheEpisode: a PNG whose pixels fit the pixel limit
// but would take more than 128 MiB decoded is refused before decoding,
// and image errors name the episode and line using the image. Before, a
// 6300×6300 16-bit RGBA PNG of 322 KB took md2pdf to 676 MB, and errors
// named only the image ("image …/a.png: read image: …").
func TestImageErrorsNameTheEpisode(t *testing.T) {
	md := "# 제1화\n\n앞 문단\n\n![그림](a.png)\n"
	_, _, err := setEpisodes(t, a5, map[string]string{"001.md": md, "a.png": pngHeader(6300, 6300, 16, 6)})
	// The manuscript refuses it when it is read, before any decoding, for
	// the EPUB and the PDF alike (it decodes images whole to find damaged
	// ones, and must not take 302 MiB doing so).
	if err == nil || !regexp.MustCompile(`001\.md:5: image a\.png: \S*a\.png is 6300×6300 pixels of 8 bytes each, 302 MiB decoded, more than the 128 MiB allowed`).MatchString(err.Error()) {
		t.Fatalf("error %v", err)
	}
	// An 8-bit grey one of the same size is 38 MiB decoded: it passes the
	// check and fails to decode (it is only a header), its episode and
	// line named.
	_, _, err = setEpisodes(t, a5, map[string]string{"001.md": md, "a.png": pngHeader(6300, 6300, 8, 0)})
	if err == nil || !regexp.MustCompile(`001\.md:5: image a\.png: \S*a\.png is a damaged PNG image`).MatchString(err.Error()) {
		t.Fatalf("error %v", err)
	}
	// pdfwrite keeps the same bound of its own, for images given to it
	// directly.
	if err := imagesize.Check(image.Config{ColorModel: color.RGBA64Model, Width: 6300, Height: 6300}); err == nil {
		t.Error("imagesize.Check let 302 MiB through")
	}
}

// TestPageFurnitureStaysOnThePageWithNoMargins: with margins of 0 the
// running head and the page number are still drawn inside the page.
// Before, the head's baseline was the page's top edge (drawn above the
// page) and the number's descent passed the bottom edge.
func TestPageFurnitureStaysOnThePageWithNoMargins(t *testing.T) {
	cfg := a5
	cfg.Top, cfg.Bottom, cfg.Left, cfg.Right = 0, 0, 0, 0
	_, pdf, err := setEpisodes(t, cfg, map[string]string{"001.md": "# 제1화\n\n" + strings.Repeat("본문 가나다라 ", 3000) + "\n"})
	if err != nil {
		t.Fatal(err)
	}
	out := testtools.Poppler(t, "pdftotext", "-bbox", pdf, "-")
	page := regexp.MustCompile(`<page width="[0-9.]+" height="([0-9.]+)">`)
	word := regexp.MustCompile(`<word xMin="([0-9.-]+)" yMin="([0-9.-]+)" xMax="([0-9.-]+)" yMax="([0-9.-]+)">([^<]*)</word>`)
	height, words := 0.0, 0
	for _, line := range strings.Split(out, "\n") {
		if m := page.FindStringSubmatch(line); m != nil {
			height, _ = strconv.ParseFloat(m[1], 64)
			continue
		}
		m := word.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		words++
		yMin, _ := strconv.ParseFloat(m[2], 64)
		yMax, _ := strconv.ParseFloat(m[4], 64)
		if yMin < 0 || yMax > height {
			t.Fatalf("%q spans y %.2f–%.2f pt, outside the page (0–%.2f)", m[5], yMin, yMax, height)
		}
	}
	if words == 0 {
		t.Fatal("pdftotext gave no words")
	}
	// pdftotext leaves out what is off the page: the running head must be
	// there, on the pages after the chapter's first.
	if n := strings.Count(out, ">제1화</word>"); n < 4 {
		t.Errorf("pdftotext gives the running head 제1화 %d times", n)
	}
}
