package tabular

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/text/encoding/korean"
)

type zipFile struct {
	name   string
	body   string
	mode   fs.FileMode
	flag   uint16
	method uint16 // deflate when 0
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

func writeZip(t *testing.T, files ...zipFile) string {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(12, func(w io.Writer) (io.WriteCloser, error) { return nopCloser{w}, nil }) // "bzip2", stored
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: max(f.method, zip.Deflate), Flags: f.flag}
		if f.mode != 0 {
			h.SetMode(f.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(f.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "export.zip")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func readAll(t *testing.T, path string) ([]string, error) {
	t.Helper()
	tb, err := Open(path, Options{})
	if err != nil {
		return nil, err
	}
	defer tb.Close()
	var out []string
	err = tb.Rows(context.Background(), 1, func(_ int, fields [][]byte, at Pos) error {
		var fs []string
		for _, f := range fields {
			fs = append(fs, string(f))
		}
		out = append(out, filepath.Base(at.File)+":"+itoa(at.Line)+" "+strings.Join(fs, "|"))
		return nil
	})
	return out, err
}

// TestZipEntriesAreReadInOrderAndNamed: every entry is read, in order;
// positions name the entry; folders, __MACOSX and dot files are passed
// over; a CP949 entry is decoded; an HTML entry is read.
func TestZipEntriesAreReadInOrderAndNamed(t *testing.T) {
	euc, _ := korean.EUCKR.NewEncoder().String("일자,금액\n2026-11-03,300\n")
	eucName, _ := korean.EUCKR.NewEncoder().String("d\\리디-b.csv") // a Korean Windows tool's name
	path := writeZip(t,
		zipFile{name: "d/", mode: fs.ModeDir | 0o755},
		zipFile{name: "d/a.csv", body: "\ufeff일자,금액\r\n2026-11-01,100\r\n"},
		zipFile{name: "__MACOSX/d/._a.csv", body: "\x00\x05\x16\x07junk"},
		zipFile{name: "d/.DS_Store", body: "\x00\x00\x00\x01Bud1"},
		zipFile{name: eucName, body: euc},
		zipFile{name: "c.html", body: "<table><tr><th>일자</th><th>금액</th></tr><tr><td>2026-11-04</td><td>400</td></tr></table>"},
	)
	got, err := readAll(t, path)
	if err != nil {
		t.Fatal(err)
	}
	want := "a.csv:2 2026-11-01|100, 리디-b.csv:2 2026-11-03|300, c.html:2 2026-11-04|400"
	if strings.Join(got, ", ") != want {
		t.Fatalf("rows %q, want %q", strings.Join(got, ", "), want)
	}
}

// TestHostileZipsAreRefusedByName: each is an error naming the zip and
// the entry, never a crash, a hang or rows read from garbage.
func TestHostileZipsAreRefusedByName(t *testing.T) {
	csv := "일자,금액\n2026-11-01,100\n"
	var inner bytes.Buffer
	zw := zip.NewWriter(&inner)
	w, _ := zw.Create("a.csv")
	w.Write([]byte(csv))
	zw.Close()
	for _, c := range []struct {
		what  string
		files []zipFile
		want  string
	}{
		{"a zip inside", []zipFile{{name: "a.csv", body: csv}, {name: "inner.zip", body: inner.String()}}, "export.zip/inner.zip is a zip (or an .xlsx) inside the zip"},
		{"a zero-byte entry", []zipFile{{name: "a.csv", body: csv}, {name: "empty.csv"}}, "export.zip/empty.csv is empty: no header row"},
		{"other columns", []zipFile{{name: "a.csv", body: csv}, {name: "b.csv", body: "일자,금액,비고\n"}}, `the files inside have different columns: an extra column 3, "비고" (`},
		{"no table", []zipFile{{name: "d/", mode: fs.ModeDir | 0o755}}, "export.zip holds no table"},
		{"zip-slip", []zipFile{{name: "../../evil.csv", body: csv}}, `entry "../../evil.csv": it would land outside the destination; the zip is refused`},
		{"a symlink", []zipFile{{name: "l.csv", body: "/etc/passwd", mode: fs.ModeSymlink | 0o777}}, `entry "l.csv" is a symbolic link, not a table`},
		{"encrypted", []zipFile{{name: "a.csv", body: csv, flag: 1}}, `entry "a.csv" is encrypted`},
		{"bzip2", []zipFile{{name: "a.csv", body: csv, method: 12}}, "export.zip/a.csv: compressed with a method runner does not read (method 12)"},
		{"a bomb", []zipFile{{name: "zeros.csv", body: "a,b\n" + strings.Repeat("0", 20<<20)}}, `entry "zeros.csv" is compressed 10`},
	} {
		_, err := readAll(t, writeZip(t, c.files...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.what, err, c.want)
		}
	}
}

// TestAnEntryLongerThanItsHeaderSaysStops: the sizes in the central
// directory are what the ratio check trusts; an entry that inflates past
// them is stopped and named (archive/zip's ErrFormat).
func TestAnEntryLongerThanItsHeaderSaysStops(t *testing.T) {
	path := writeZip(t, zipFile{name: "a.csv", body: "일자,금액\n" + strings.Repeat("2026-11-01,100\n", 10000)})
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cd := bytes.Index(data, []byte("PK\x01\x02"))
	copy(data[cd+24:], []byte{100, 0, 0, 0}) // uncompressed: 100 bytes
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readAll(t, path); err == nil || !strings.Contains(err.Error(), "export.zip/a.csv: its data is damaged, or longer than its header says (a zip bomb?)") {
		t.Fatalf("error %v", err)
	}
}
