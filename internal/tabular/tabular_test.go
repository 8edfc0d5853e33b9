package tabular

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func rows(t *testing.T, name, content string, opt Options) (Table, []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	tb, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tb.Close() })
	var out []string
	err = tb.Rows(context.Background(), 1, func(_ int, fields [][]byte, at Pos) error {
		var fs []string
		for _, f := range fields {
			fs = append(fs, string(f))
		}
		out = append(out, strings.Join(fs, "|")+"@"+itoa(at.Line))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tb, out
}

func itoa(n int) string {
	s := ""
	for n >= 10 {
		s = string(rune('0'+n%10)) + s
		n /= 10
	}
	return string(rune('0'+n)) + s
}

func TestDelimiterHeaderRowAndSkipRows(t *testing.T) {
	content := "리디 정산 내역 (2026년 11월)\n\n일자;작품;금액\n(YYYY-MM-DD);;(원)\n2026-11-01;\"불씨; 1권\";1000\n\n2026-11-02;서고;2000\n"
	tb, got := rows(t, "semi.csv", content, Options{HeaderRow: 3, SkipRows: 1})
	if h := strings.Join(tb.Header(), ","); h != "일자,작품,금액" {
		t.Fatalf("header %q", h)
	}
	want := []string{"2026-11-01|불씨; 1권|1000@5", "2026-11-02|서고|2000@7"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("rows %q, want %q", got, want)
	}
	tb, got = rows(t, "tab.tsv", "a\tb\n1\t2\n", Options{})
	if len(tb.Header()) != 2 || got[0] != "1|2@2" {
		t.Fatalf("tab-separated: %v %v", tb.Header(), got)
	}
}

func TestFormatsAreToldByContent(t *testing.T) {
	dir := t.TempDir()
	legacy := filepath.Join(dir, "old.xls")
	if err := os.WriteFile(legacy, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(legacy, Options{}); err == nil || !strings.Contains(err.Error(), "legacy binary Excel (.xls) workbook: open it and save it as .xlsx or CSV") {
		t.Fatalf("error %v", err)
	}
	// An HTML table named .csv is still read as HTML.
	tb, got := rows(t, "naver.csv", "<table><tr><th>일자</th><th>금액</th></tr><tr><td>2026-11-01</td><td>1,000</td></tr></table>", Options{})
	if tb.Format() != "html" || got[0] != "2026-11-01|1,000@2" {
		t.Fatalf("format %s rows %v", tb.Format(), got)
	}
	empty := filepath.Join(dir, "empty.csv")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(empty, Options{}); err == nil || !strings.Contains(err.Error(), "is empty: no header row") {
		t.Fatalf("error %v", err)
	}
	bad := filepath.Join(dir, "latin1.csv")
	if err := os.WriteFile(bad, []byte("a,b\n\xff\xfe\xfd,1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad, Options{}); err == nil || !strings.Contains(err.Error(), "neither UTF-8 nor CP949") {
		t.Fatalf("error %v", err)
	}
}

func TestUnwrap(t *testing.T) {
	for in, want := range map[string]string{`=T("1,300")`: "1,300", `="0012"`: "0012", ` 12 `: "12", `=SUM(A1)`: "=SUM(A1)"} {
		if got := string(Unwrap([]byte(in))); got != want {
			t.Errorf("Unwrap(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestColumnsPickDuplicatesByNumber(t *testing.T) {
	c := NewColumns([]string{"a", "b", "a", "a", "금액#2"}, Pos{"x.csv", 3}, nil)
	for name, want := range map[string]int{"b": 1, "a#1": 0, "a#3": 3, "a#4": -1, "금액#2": 4, "c": -1} {
		if got, err := c.Find(name, ""); got != want || err != nil {
			t.Errorf("Find(%q) = %d, %v; want %d", name, got, err, want)
		}
	}
	if _, err := c.Find("a", "aggregate"); err == nil || err.Error() != `x.csv:3: aggregate: the header has the column "a" 3 times (columns 1, 3 and 4): write "a#1" or "a#2" or "a#3" for the one meant` {
		t.Errorf("error %v", err)
	}
	if keys := strings.Join(c.Keys(), " "); keys != "a#1 b a#2 a#3 금액#2" {
		t.Errorf("keys %q", keys)
	}
}

// TestOddFilesAreNamed: UTF-16 read as a header of one garbled column
// ("neither UTF-8 nor CP949" at best); an empty zip read as a CSV whose
// header was "PK\x05\x06…".
func TestOddFilesAreNamed(t *testing.T) {
	dir := t.TempDir()
	var empty bytes.Buffer
	zip.NewWriter(&empty).Close()
	for name, c := range map[string]struct{ body, want string }{
		"bom16.csv": {"\xff\xfed\x00a\x00t\x00e\x00\n\x00", "bom16.csv is UTF-16 text"},
		"raw16.csv": {"d\x00a\x00t\x00e\x00\n\x00", "raw16.csv has NUL bytes between its first letters"},
		"empty.zip": {empty.String(), "empty.zip holds no table"},
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", name, err, c.want)
		}
	}
}

// TestMergedCellsCannotSpreadWithoutEnd: 200 cells of rowspan=999
// colspan=999 in a 9 KB page took 14 GB (and counting) to lay out.
func TestMergedCellsCannotSpreadWithoutEnd(t *testing.T) {
	defer func(n int) { maxCells = n }(maxCells)
	maxCells = 1_000_000
	page := "<table><tr><th>일자</th><th>금액</th></tr>" + strings.Repeat(`<tr><td rowspan="999" colspan="999">x</td></tr>`, 200) + "</table>"
	path := filepath.Join(t.TempDir(), "spans.xls")
	if err := os.WriteFile(path, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "spans.xls: the table spreads to more than 1000000 cells once its merged cells are repeated") {
		t.Fatalf("error %v", err)
	}
	// Merged headers still read as "group / column".
	tb, got := rows(t, "ok.xls", `<table><tr><th rowspan="2">일자</th><th colspan="2">판매</th></tr><tr><th>건수</th><th>금액</th></tr><tr><td>2026-11-01</td><td>3</td><td>1,000</td></tr></table>`, Options{})
	if h := strings.Join(tb.Header(), "|"); h != "일자|판매 / 건수|판매 / 금액" || len(got) != 1 || got[0] != "2026-11-01|3|1,000@2" {
		t.Fatalf("header %q rows %q", h, got)
	}
}
