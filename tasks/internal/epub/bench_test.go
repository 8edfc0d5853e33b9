package epub_test

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/testtools"
	"github.com/novelfactory/runner/tasks/internal/epub"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
)

// BenchmarkBook300 loads and writes the 300-episode book of the benchmarks.
func BenchmarkBook300(b *testing.B) {
	dir := testtools.Book(b, 300, 5700, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		book, err := manuscript.Load(context.Background(), manuscript.Options{Src: dir})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := epub.Write(context.Background(), io.Discard, book, epub.Options{Modified: time.Unix(0, 0)}); err != nil {
			b.Fatal(err)
		}
	}
}
