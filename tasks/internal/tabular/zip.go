package tabular

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/novelfactory/runner/internal/regfile"
)

// openZip reads the CSV files inside a zip (Ridi's daily download) as one
// table; they must share a header.
func openZip(file string, opt Options) (Table, error) {
	f, err := regfile.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(f, info.Size())
	if err != nil {
		return nil, fmt.Errorf("open zip %s: %w", file, err)
	}
	var tables []*memTable
	for _, f := range zr.File {
		if f.FileInfo().IsDir() || strings.HasPrefix(path.Base(f.Name), ".") || strings.HasPrefix(f.Name, "__MACOSX/") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(rc, 1<<30))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", file, f.Name, err)
		}
		t, err := readWhole(file+"/"+f.Name, data, opt)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	if len(tables) == 0 {
		return nil, fmt.Errorf("%s holds no table", file)
	}
	out := tables[0]
	out.format = "zip/" + out.format
	for _, t := range tables[1:] {
		if strings.Join(t.header, "\x00") != strings.Join(out.header, "\x00") {
			return nil, fmt.Errorf("%s: the files inside have different columns (%v and %v)", file, out.header, t.header)
		}
		out.rows = append(out.rows, t.rows...)
		out.lines = append(out.lines, t.lines...)
	}
	return out, nil
}

// readWhole reads a small CSV (or HTML) table held in memory.
func readWhole(name string, data []byte, opt Options) (*memTable, error) {
	if looksLikeHTML(data) {
		tmp, err := os.CreateTemp("", "runner-table-*.html")
		if err != nil {
			return nil, err
		}
		defer os.Remove(tmp.Name())
		if _, err := tmp.Write(data); err != nil {
			tmp.Close()
			return nil, err
		}
		tmp.Close()
		t, err := openHTML(tmp.Name(), opt)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return t.(*memTable), nil
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	cp949, err := detectEncoding(name, data, opt.Encoding)
	if err != nil {
		return nil, err
	}
	if cp949 {
		if data, err = DecodeAll(data); err != nil {
			return nil, fmt.Errorf("decode %s as CP949: %w", name, err)
		}
	}
	delim := opt.Delimiter
	if delim == 0 {
		first, _, _ := bytes.Cut(data, []byte("\n"))
		delim = sniffDelimiter(first)
	}
	p := parser{delim: delim}
	var rows [][]string
	var lines []int
	err = p.each(data, 1, func(fields [][]byte, line int) error {
		row := make([]string, len(fields))
		for i, f := range fields {
			row[i] = string(f)
		}
		rows = append(rows, row)
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fromRows(name, "csv", rows, lines, opt)
}
