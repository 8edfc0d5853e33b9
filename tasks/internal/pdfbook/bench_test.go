package pdfbook_test

import (
	"context"
	"io"
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
