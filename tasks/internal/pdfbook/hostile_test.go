package pdfbook_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/testtools"
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

// tableOf is a table of n columns.
func tableOf(n int) string {
	return "앞 문단\n\n" + strings.Repeat("| a ", n) + "|\n" + strings.Repeat("|---", n) + "|\n" + strings.Repeat("| 가나다 ", n) + "|\n"
}

// TestBadEpisodesAreNamedErrors sets episodes that cannot be set and
// checks the error names the episode, the line and what to do.
func TestBadEpisodesAreNamedErrors(t *testing.T) {
	for _, c := range []struct{ name, md, want string }{
		{"a table of 200 columns", tableOf(200), "001.md:5: a table of 200 columns does not fit the text width (112 mm): at most 11 do"},
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
