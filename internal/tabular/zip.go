package tabular

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/novelfactory/runner/internal/zipsafe"
)

// maxRatio is the largest compression ratio an entry of over 1 MiB may
// have, as for the unzip task: deflate cannot pass about 1032:1, and a
// zip bomb sits at that limit. With it, the text read from a zip is at
// most about a thousand times the zip's size.
const maxRatio = 1000

// zipTable reads the tables inside a zip (Ridi's daily download) one after
// the other as one table; they must share a header. CSV entries are
// streamed as plain CSV files are: memory does not grow with their size.
type zipTable struct {
	f       *os.File
	name    string
	opt     Options
	entries []zipEntry
	cur     Table // the entry being read
	header  []string
	at      Pos // where the first entry's header is
	format  string
}

type zipEntry struct {
	f    *zip.File
	name string // the zip's path and the entry's clean name
}

// openZip checks the entries of a zip and opens the first.
func openZip(f *os.File, file string, opt Options) (Table, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	zr, err := zip.NewReader(f, info.Size())
	if err != nil {
		return nil, fmt.Errorf("open zip %s: %w", file, err)
	}
	t := &zipTable{f: f, name: file, opt: opt}
	for _, e := range zr.File {
		mode := e.Mode()
		if mode.IsDir() || strings.HasPrefix(e.Name, "__MACOSX/") {
			continue
		}
		clean, err := zipsafe.CleanName(strings.ReplaceAll(zipsafe.EntryName(e), `\`, "/"))
		if err != nil {
			return nil, fmt.Errorf("%s: entry %s: %v; the zip is refused", file, Quote(e.Name), err)
		}
		if strings.HasPrefix(path.Base(clean), ".") {
			continue // .DS_Store and the like
		}
		switch {
		case mode.Type()&fs.ModeSymlink != 0:
			return nil, fmt.Errorf("%s: entry %s is a symbolic link, not a table", file, Quote(clean))
		case !mode.IsRegular():
			return nil, fmt.Errorf("%s: entry %s is a device, pipe or socket, not a table", file, Quote(clean))
		case e.Flags&0x1 != 0:
			return nil, fmt.Errorf("%s: entry %s is encrypted; encrypted entries are not supported (unpack it with a tool that knows the password)", file, Quote(clean))
		case e.UncompressedSize64 > 1<<20 && e.UncompressedSize64/max(e.CompressedSize64, 1) > maxRatio:
			return nil, fmt.Errorf("%s: entry %s is compressed %d:1, over %d:1 (a zip bomb?)", file, Quote(clean), e.UncompressedSize64/max(e.CompressedSize64, 1), maxRatio)
		}
		t.entries = append(t.entries, zipEntry{f: e, name: file + "/" + clean})
	}
	if len(t.entries) == 0 {
		return nil, fmt.Errorf("%s holds no table", file)
	}
	if t.cur, err = t.openEntry(t.entries[0]); err != nil {
		return nil, err
	}
	t.header, t.at = t.cur.Header(), t.cur.HeaderAt()
	t.format = "zip/" + t.cur.Format()
	return t, nil
}

// openEntry opens one entry as a table, telling its format by content.
func (t *zipTable) openEntry(e zipEntry) (Table, error) {
	rc, err := e.f.Open()
	if err != nil {
		return nil, entryError(e, err)
	}
	// Buffers fit the entry: a zip of many small files reads fast.
	size := int(min(e.f.UncompressedSize64+1, 64<<10))
	br := bufio.NewReaderSize(rc, size)
	head, err := br.Peek(size)
	if err != nil && !errors.Is(err, io.EOF) {
		rc.Close()
		return nil, entryError(e, err)
	}
	switch {
	case len(head) == 0:
		rc.Close()
		return nil, fmt.Errorf("%s is empty: no header row", e.name)
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		rc.Close()
		return nil, fmt.Errorf("%s is a zip (or an .xlsx) inside the zip: runner reads the CSV and HTML files of a zip; unpack it and name the inner file", e.name)
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")):
		rc.Close()
		return nil, fmt.Errorf("%s is a legacy binary Excel (.xls) workbook: open it and save it as .xlsx or CSV", e.name)
	case looksLikeHTML(head):
		// HTML is parsed whole, as a plain HTML file is; the ratio check
		// bounds its size by the zip's.
		data, err := io.ReadAll(br)
		rc.Close()
		if err != nil {
			return nil, entryError(e, err)
		}
		return readHTML(e.name, data, t.opt)
	}
	ct, err := openCSV(br, rc, e.name, head, t.opt, true)
	if err != nil {
		rc.Close()
		return nil, entryError(e, err)
	}
	return ct, nil
}

// entryError says what archive/zip's errors mean for an entry.
func entryError(e zipEntry, err error) error {
	switch {
	case errors.Is(err, zip.ErrChecksum):
		return fmt.Errorf("%s: its data is damaged (checksum mismatch): %w", e.name, err)
	case errors.Is(err, zip.ErrFormat):
		return fmt.Errorf("%s: its data is damaged, or longer than its header says (a zip bomb?): %w", e.name, err)
	case errors.Is(err, zip.ErrAlgorithm):
		return fmt.Errorf("%s: compressed with a method runner does not read (method %d); re-zip it with deflate: %w", e.name, e.f.Method, err)
	}
	return err
}

func (t *zipTable) Header() []string { return t.header }
func (t *zipTable) Format() string   { return t.format }
func (t *zipTable) CP949() bool      { return false } // CP949 entries are decoded as they are read
func (t *zipTable) HeaderAt() Pos    { return t.at }

// Rows reads the entries one after the other.
func (t *zipTable) Rows(ctx context.Context, workers int, fn RowFunc) error {
	for i, e := range t.entries {
		if i > 0 {
			cur, err := t.openEntry(e)
			if err != nil {
				return err
			}
			t.cur = cur
			if d := firstDifference(t.header, cur.Header()); d != "" {
				return fmt.Errorf("%s: the files inside have different columns: %s (%s) against %s", t.name, d, cur.HeaderAt(), t.at)
			}
		}
		err := t.cur.Rows(ctx, workers, fn)
		cerr := t.cur.Close()
		t.cur = nil
		if err != nil {
			return entryError(e, err)
		}
		if cerr != nil {
			return entryError(e, cerr)
		}
	}
	return nil
}

// firstDifference describes where two headers differ, or gives "".
func firstDifference(a, b []string) string {
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			return fmt.Sprintf("an extra column %d, %s", i+1, Quote(b[i]))
		case i >= len(b):
			return fmt.Sprintf("no column %d (%s)", i+1, Quote(a[i]))
		case a[i] != b[i]:
			return fmt.Sprintf("column %d is %s, not %s", i+1, Quote(b[i]), Quote(a[i]))
		}
	}
	return ""
}

// Close closes the entry being read and the zip.
func (t *zipTable) Close() error {
	if t.cur != nil {
		t.cur.Close()
		t.cur = nil
	}
	return t.f.Close()
}
