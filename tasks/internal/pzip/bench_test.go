package pzip_test

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/novelfactory/runner/tasks/internal/fileset"
	"github.com/novelfactory/runner/tasks/internal/pzip"
)

// BenchmarkEpisodes zips the folder named by PZIP_BENCH_DIR (bench/zip.sh
// makes one with bench/gencorpus): many small Markdown files.
func BenchmarkEpisodes(b *testing.B) {
	dir := os.Getenv("PZIP_BENCH_DIR")
	if dir == "" {
		b.Skip("set PZIP_BENCH_DIR to a folder, e.g. one made by go run ./bench/gencorpus")
	}
	for i := 0; i < b.N; i++ {
		entries, err := fileset.Walk(dir, fileset.Options{Dirs: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pzip.Write(context.Background(), io.Discard, entries, pzip.Options{Level: 6}); err != nil {
			b.Fatal(err)
		}
	}
}
