package pdfbook_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/testtools"
	"github.com/novelfactory/runner/tasks/internal/manuscript"
	"github.com/novelfactory/runner/tasks/internal/pdfbook"
)

// heapSampler is the file a book is written to: every 256 KiB written it
// collects garbage and records the live heap, so its peak is what Write
// holds while it writes, not what it has not yet freed.
type heapSampler struct {
	f          *os.File
	written    int
	next, peak uint64
}

func (h *heapSampler) Write(p []byte) (int, error) {
	h.written += len(p)
	if uint64(h.written) >= h.next {
		h.next += 256 << 10
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.peak = max(h.peak, m.HeapAlloc)
	}
	return h.f.Write(p)
}

// TestWriteHoldsNoPages writes books of 100 and 400 episodes (about 1,000
// and 4,200 pages) and samples the live heap while the file is written:
// beyond the loaded manuscript and the fonts, Write may hold only what does
// not grow with the book (the page being set, the fonts' used glyphs, a
// few numbers a page). Set then Render, which keep the whole layout (as
// md2pdf did, and go-pdf/fpdf kept every page's content besides), fail it:
// 18.3 MiB more held for 400 episodes than for 100.
func TestWriteHoldsNoPages(t *testing.T) {
	f := fonts(t)
	held := map[int]uint64{}
	for _, episodes := range []int{100, 400} {
		dir := testtools.Book(t, episodes, 5700, 7)
		b, err := manuscript.Load(context.Background(), manuscript.Options{Src: dir})
		if err != nil {
			t.Fatal(err)
		}
		out, err := os.Create(filepath.Join(t.TempDir(), "book.pdf"))
		if err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		before := m.HeapAlloc
		h := &heapSampler{f: out}
		pages, err := pdfbook.Write(context.Background(), h, b, f, a5, pdfbook.Info{Title: "t", Date: time.Unix(0, 0)})
		out.Close()
		if err != nil {
			t.Fatal(err)
		}
		held[episodes] = h.peak - min(before, h.peak)
		t.Logf("%d episodes, %d pages, %d KiB written: %.1f MiB held beyond the loaded book", episodes, pages, h.written>>10, float64(held[episodes])/(1<<20))
		info := testtools.Poppler(t, "pdfinfo", out.Name())
		if !strings.Contains(info, "Pages:           "+strconv.Itoa(pages)) {
			t.Fatalf("pdfinfo:\n%s", info)
		}
		runtime.KeepAlive(b)
	}
	if growth := float64(held[400]) - float64(held[100]); growth > 4<<20 {
		t.Fatalf("Write held %.1f MiB more for 400 episodes than for 100", growth/(1<<20))
	}
}
