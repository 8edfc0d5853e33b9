package tabular

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestZippedCSVStreams reads a zip holding one CSV entry of about 100 MB
// and checks that the heap stays far below the entry's size: entries are
// streamed as plain files are, not read whole.
func TestZippedCSVStreams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big.zip")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	zw.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) { return flate.NewWriter(out, flate.BestSpeed) })
	w, err := zw.Create("sales.csv")
	if err != nil {
		t.Fatal(err)
	}
	// 30 days × 1,000 rows, written 100 times: about 100 MB.
	var block bytes.Buffer
	for i := 0; i < 30_000; i++ {
		fmt.Fprintf(&block, "2026-11-%02d,쓰이지 않은 책들의 서고,%d\n", 1+i%30, i%1000)
	}
	const rows = 100 * 30_000
	size := len("일자,작품,금액\n") + 100*block.Len()
	w.Write([]byte("일자,작품,금액\n"))
	for range 100 {
		if _, err := w.Write(block.Bytes()); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var peak uint64
	sample := func() { // the live heap: what is held, not garbage yet to collect
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		peak = max(peak, m.HeapAlloc)
	}
	runtime.GC()
	tb, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	sample()
	var counts [2]int // per worker: the two call fn at once
	err = tb.Rows(context.Background(), 2, func(w int, fields [][]byte, _ Pos) error {
		counts[w]++
		if w == 0 && counts[0]%100_000 == 0 {
			sample()
		}
		return nil
	})
	n := counts[0] + counts[1]
	if err != nil {
		t.Fatal(err)
	}
	if n != rows {
		t.Fatalf("%d rows, want %d", n, rows)
	}
	t.Logf("peak heap %d MiB for an entry of %d MiB", peak>>20, size>>20)
	if limit := uint64(size / 4); peak > limit {
		t.Fatalf("the heap reached %d MiB reading a %d MiB entry (limit %d MiB): the entry is not streamed", peak>>20, size>>20, limit>>20)
	}
}
