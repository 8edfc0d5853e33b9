package pdfbook_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/testtools"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
	"github.com/novelfactory/runner/tasks/internal/pdfbook"
)

// BenchmarkBook300 typesets the 300-episode book of the benchmarks on A5.
func BenchmarkBook300(b *testing.B) {
	dir := testtools.Book(b, 300, 5700, 1)
	fonts, err := pdfbook.FindFonts("", "", "")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		book, err := manuscript.Load(context.Background(), manuscript.Options{Src: dir})
		if err != nil {
			b.Fatal(err)
		}
		l, err := pdfbook.Set(book, fonts, a5)
		if err != nil {
			b.Fatal(err)
		}
		if err := pdfbook.Render(io.Discard, l, pdfbook.Info{Title: book.Meta.Title, Date: time.Unix(0, 0)}); err != nil {
			b.Fatal(err)
		}
	}
}

var a5 = pdfbook.Config{PageWidth: 148, PageHeight: 210, Top: 19, Bottom: 21, Left: 18, Right: 18, FontSize: 10, Leading: 1.75}

// BenchmarkLongTitle typesets one episode whose title heading holds n
// characters (an LLM that put a whole episode on the `#` line), with and
// without spaces. The work grows linearly (TestFittingATitleIsLinear,
// typeset's TestBreakingWorkGrowsLinearly); figures are in bench/README.md.
func BenchmarkLongTitle(b *testing.B) {
	fonts, err := pdfbook.FindFonts("", "", "")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{10_000, 20_000} {
		for _, spaced := range []bool{true, false} {
			unit := "그녀는 문을 열었다. "
			name := fmt.Sprintf("%d/spaces", n)
			if !spaced {
				unit, name = "그녀는문을열었다", fmt.Sprintf("%d/no-spaces", n)
			}
			title := string([]rune(strings.Repeat(unit, n))[:n])
			dir := b.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "001.md"), []byte("# "+title+"\n\n본문이다.\n"), 0o644); err != nil {
				b.Fatal(err)
			}
			b.Run(name, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					book, err := manuscript.Load(context.Background(), manuscript.Options{Src: dir})
					if err != nil {
						b.Fatal(err)
					}
					l, err := pdfbook.Set(book, fonts, a5)
					if err != nil {
						b.Fatal(err)
					}
					if err := pdfbook.Render(io.Discard, l, pdfbook.Info{Date: time.Unix(0, 0)}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
