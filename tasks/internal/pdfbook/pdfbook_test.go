package pdfbook_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/novelfactory/runner/internal/testtools"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
	"github.com/novelfactory/runner/tasks/internal/pdfbook"
	"github.com/novelfactory/runner/tasks/internal/typeset"
)

func fonts(t testing.TB) *pdfbook.Fonts {
	t.Helper()
	f, err := pdfbook.FindFonts("", "", "")
	if err != nil {
		t.Fatalf("%v (.ci/run installs fonts-nanum)", err)
	}
	return f
}

// typeset loads the episodes under src, sets and renders them.
func typesetBook(t *testing.T, src string) (*manuscript.Book, *pdfbook.Layout, string) {
	t.Helper()
	b, err := manuscript.Load(context.Background(), manuscript.Options{Src: src})
	if err != nil {
		t.Fatal(err)
	}
	l, err := pdfbook.Set(b, fonts(t), a5)
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "book.pdf")
	f, err := os.Create(dest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info := pdfbook.Info{Title: b.Meta.Title, Author: strings.Join(b.Meta.AllAuthors(), ", "), Subject: b.Meta.Description, Language: "ko", Date: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
	if err := pdfbook.Render(f, l, info); err != nil {
		t.Fatal(err)
	}
	return b, l, dest
}

// checkLinesInside fails if any set line reaches past the text area.
func checkLinesInside(t *testing.T, l *pdfbook.Layout) {
	t.Helper()
	lines := 0
	for n, p := range l.Pages {
		for _, ln := range p.Lines {
			lines++
			if ln.X < l.TextLeft()-1e-6 || ln.X+ln.W > l.TextRight()+1e-6 {
				t.Fatalf("page %d: a line spans %.2f–%.2f mm, outside the text area %.2f–%.2f", n+1, ln.X, ln.X+ln.W, l.TextLeft(), l.TextRight())
			}
		}
	}
	if lines == 0 {
		t.Fatal("no lines were set")
	}
}

func TestRichBookReadsBack(t *testing.T) {
	dir := testtools.RichBook(t)
	b, l, pdf := typesetBook(t, filepath.Join(dir, "episodes"))
	checkLinesInside(t, l)

	info := testtools.Poppler(t, "pdfinfo", pdf)
	for _, want := range []string{"Title:           쓰이지 않은 책들의 서고", "Author:          한서윤, 도하린", "Creator:         runner md2pdf", "Pages:           " + strconv.Itoa(len(l.Pages)), "Page size:       419.53 x 595.28 pts"} {
		if !strings.Contains(info, want) {
			t.Errorf("pdfinfo lacks %q:\n%s", want, info)
		}
	}
	fontList := testtools.Poppler(t, "pdffonts", pdf)
	rows := strings.Split(strings.TrimSpace(fontList), "\n")[2:]
	if len(rows) < 2 {
		t.Fatalf("pdffonts:\n%s", fontList)
	}
	for _, row := range rows {
		f := strings.Fields(row)
		if !regexp.MustCompile(`^[A-Z]{6}\+Nanum`).MatchString(f[0]) || f[len(f)-5] != "yes" || f[len(f)-4] != "yes" {
			t.Errorf("font not embedded as a subset: %s", row)
		}
	}
	images := testtools.Poppler(t, "pdfimages", "-list", pdf)
	if n := len(strings.Split(strings.TrimSpace(images), "\n")) - 2; n < 3 {
		t.Errorf("pdfimages lists %d images, want the cover and the episodes' images:\n%s", n, images)
	}
	text := testtools.Poppler(t, "pdftotext", "-enc", "UTF-8", pdf, "-")
	for _, want := range []string{"차례", "제2화 잉크의 기억", "서고의 책장은 모두 3,000개다.", "쓰이지 않은 책", "console.log(", "이제 네가 쓸 차례야."} {
		if !strings.Contains(squash(text), squash(want)) {
			t.Errorf("pdftotext lacks %q", want)
		}
	}
	if strings.Contains(text, "raw HTML은 빠진다") {
		t.Error("raw HTML reached the PDF")
	}
	// The outline: the contents, two parts, and every chapter under its part.
	raw, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(raw), "<</Title ("); n != 1+2+len(b.Chapters) {
		t.Errorf("%d outline entries, want 1 + 2 parts + %d chapters", n, len(b.Chapters))
	}
	if n := strings.Count(string(raw), "/First "); n < 3 {
		t.Errorf("the outline is not nested by part (%d entries with children)", n)
	}
	// The contents give each chapter's page.
	for i, ch := range b.Chapters {
		entry := regexp.MustCompile(regexp.QuoteMeta(ch.Title) + `\s*` + strconv.Itoa(l.ChapterPages[i]) + `\b`)
		if !entry.MatchString(text) {
			t.Errorf("the contents do not give page %d for %q", l.ChapterPages[i], ch.Title)
		}
	}
}

// TestLongBookKeepsTextOrderAndKinsoku typesets 60 episodes (about 400
// pages): every paragraph comes back from pdftotext in order, no line is
// wider than the text area, and no line starts with closing punctuation.
func TestLongBookKeepsTextOrderAndKinsoku(t *testing.T) {
	dir := testtools.Book(t, 60, 5700, 1)
	b, l, pdf := typesetBook(t, dir)
	checkLinesInside(t, l)
	text := testtools.Poppler(t, "pdftotext", "-enc", "UTF-8", pdf, "-")

	// Drop running heads and folios, then compare without white space.
	heads := map[string]bool{}
	for _, ch := range b.Chapters {
		heads[ch.Title] = true
	}
	var body strings.Builder
	for _, page := range strings.Split(text, "\f") {
		for _, line := range strings.Split(page, "\n") {
			line = strings.TrimSpace(line)
			if heads[line] || isNumber(line) {
				continue
			}
			body.WriteString(line)
			first, _ := utf8.DecodeRuneInString(line)
			if line != "" && typeset.CannotStart(first) {
				t.Errorf("a line starts with %q: %q", first, line)
			}
		}
	}
	got := squash(body.String())
	pos := 0
	paragraphs := 0
	for _, ch := range b.Chapters {
		src, err := os.ReadFile(ch.Path)
		if err != nil {
			t.Fatal(err)
		}
		_, rest, _ := strings.Cut(string(src), "\n---\n")
		for _, para := range strings.Split(rest, "\n\n") {
			para = strings.TrimSpace(para)
			if para == "" || strings.HasPrefix(para, "#") || para == "* * *" {
				continue
			}
			i := strings.Index(got[pos:], squash(para))
			if i < 0 {
				t.Fatalf("%s: paragraph missing or out of order in pdftotext: %q", ch.Rel, para)
			}
			pos += i + len(squash(para))
			paragraphs++
		}
	}
	if paragraphs < 60*10 {
		t.Fatalf("only %d paragraphs checked", paragraphs)
	}
}

// TestNoLineLeavesTheTextArea sets the 300-episode corpus on three page
// sizes and checks every line against the text area, by the layout's own
// measurements.
func TestNoLineLeavesTheTextArea(t *testing.T) {
	dir := testtools.Book(t, 300, 5700, 3)
	b, err := manuscript.Load(context.Background(), manuscript.Options{Src: dir})
	if err != nil {
		t.Fatal(err)
	}
	for _, cfg := range []pdfbook.Config{a5, {PageWidth: 105, PageHeight: 148, Top: 12, Bottom: 14, Left: 11, Right: 9, FontSize: 9, Leading: 1.6}, {PageWidth: 210, PageHeight: 297, Top: 25, Bottom: 25, Left: 25, Right: 25, FontSize: 11, Leading: 1.8}} {
		l, err := pdfbook.Set(b, fonts(t), cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkLinesInside(t, l)
		if len(l.ChapterPages) != 300 {
			t.Fatalf("%d chapter starts", len(l.ChapterPages))
		}
	}
}

func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

func isNumber(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// TestMissingGlyphIsAnErrorNamingIt: a character no font of the chain
// has (a private-use one) is an error naming it, its line and the fonts.
func TestMissingGlyphIsAnErrorNamingIt(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "001.md"), []byte("# 제1화\n\n본문\n\n웃음 ☺ \ue000 이모지\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := manuscript.Load(context.Background(), manuscript.Options{Src: dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = pdfbook.Set(b, fonts(t), a5)
	if err == nil || !strings.Contains(err.Error(), "001.md:5: character '\\ue000' (U+E000) is in none of the fonts (NanumMyeongjo, DejaVuSans, DroidSansFallback, Symbola") {
		t.Fatalf("error %v", err)
	}
}

// TestEmojiAreDrawn sets emoji of chat-style scenes, inside and outside
// the Basic Multilingual Plane, in the body and a title: each is drawn by a
// fallback font, embedded as a subset, and pdftotext gives it back. Before,
// the first emoji failed the book ("not in font NanumMyeongjo"), and
// go-pdf/fpdf could not draw a character past U+FFFF in any font (it
// panicked, index out of range [65536]).
func TestEmojiAreDrawn(t *testing.T) {
	l, pdf, err := setEpisodes(t, a5, map[string]string{"001.md": "# 제1화 🎉 축하\n\n그가 웃었다 😊 그리고 😀 🙏 손을 모았다.\n\n> 하트 ❤ 🐶 강아지\n"})
	if err != nil {
		t.Fatal(err)
	}
	checkLinesInside(t, l)
	fontList := testtools.Poppler(t, "pdffonts", pdf)
	if !regexp.MustCompile(`(?m)^[A-Z]{6}\+(DejaVuSans|Symbola) .* yes yes yes `).MatchString(fontList) {
		t.Errorf("no fallback font embedded as a subset:\n%s", fontList)
	}
	text := squash(testtools.Poppler(t, "pdftotext", "-enc", "UTF-8", pdf, "-"))
	for _, want := range []string{"그가웃었다😊그리고😀🙏손을모았다.", "하트❤🐶강아지", "제1화🎉축하"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext lacks %q:\n%s", want, text)
		}
	}
}

// TestMissingGlyphsFallBackAlongTheChain sets symbols, Greek with accents,
// Hanja and Hebrew, which NanumMyeongjo lacks, in body text, bold, code, a
// title and the running head: each character is drawn by the first
// fallback font that has it, embedded as a subset, and pdftotext gives the
// text back. Before, the first such character failed the book.
func TestMissingGlyphsFallBackAlongTheChain(t *testing.T) {
	episodes := map[string]string{
		"001.md": "# 제1화 ☺ 웃는 얼굴\n\n그가 웃었다 ☺ 그리고 말했다.\n\n**굵게 ♫** 그리고 `코드 ⌘` 그리고 Ελληνικά é\n\n漢字와 שלום 그리고 ✔ 체크\n",
	}
	l, pdf, err := setEpisodes(t, a5, episodes)
	if err != nil {
		t.Fatal(err)
	}
	checkLinesInside(t, l)
	fontList := testtools.Poppler(t, "pdffonts", pdf)
	for _, name := range []string{"NanumMyeongjo", "DejaVuSans", "DroidSansFallback"} {
		if !regexp.MustCompile(`(?m)^[A-Z]{6}\+` + name + ` .* yes yes `).MatchString(fontList) {
			t.Errorf("%s is not embedded as a subset:\n%s", name, fontList)
		}
	}
	text := squash(testtools.Poppler(t, "pdftotext", "-enc", "UTF-8", pdf, "-"))
	for _, want := range []string{"그가웃었다☺그리고말했다.", "굵게♫", "코드⌘", "Ελληνικάé", "漢字와", "✔체크", "제1화☺웃는얼굴"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext lacks %q:\n%s", want, text)
		}
	}
}

func TestUnusableFontsAreRefusedUpFront(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]struct{ head, want string }{
		"NotoSerifCJK-Regular.ttc":  {"ttcf\x00\x02\x00\x00\x00\x00\x00\x10", "is a TrueType collection (.ttc), which the PDF writer cannot embed; install Debian's fonts-nanum"},
		"NotoSansCJKkr-Regular.otf": {"OTTO\x00\x0b\x00\x80\x00\x03\x00\x30", "has CFF (PostScript) outlines"},
		"notes.txt":                 {"these are not the glyphs", "is not a TrueType font"},
	}
	for name, c := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(c.head+strings.Repeat("\x00", 64)), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := pdfbook.FindFonts(path, "", "")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
	if _, err := pdfbook.FindFonts("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "", ""); err == nil || !strings.Contains(err.Error(), "has no Hangul") {
		t.Errorf("a font without Hangul: %v", err)
	}
}
