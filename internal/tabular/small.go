package tabular

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"

	"github.com/novelfactory/runner/engine/atomicfile"
)

// Small is a CSV read whole (a ledger: a row a day).
// Small is a whole table read into memory, for the small tables of
// joins and charts.
type Small struct {
	Header []string
	At     Pos // where the header is
	Rows   [][]string
	Lines  []int
}

// ReadSmall reads a whole table.
func ReadSmall(ctx context.Context, file string) (*Small, error) {
	t, err := Open(file, Options{})
	if err != nil {
		return nil, err
	}
	defer t.Close()
	out := &Small{Header: t.Header(), At: t.HeaderAt()}
	var dec Decoder
	err = t.Rows(ctx, 1, func(_ int, fields [][]byte, at Pos) error {
		if err := CheckWidth(fields, len(out.Header), at); err != nil {
			return err
		}
		row := make([]string, len(fields))
		for i, f := range fields {
			row[i] = string(dec.Decode(f, t.CP949()))
		}
		out.Rows = append(out.Rows, row)
		out.Lines = append(out.Lines, at.Line)
		return nil
	})
	return out, err
}

// checkWidth refuses a row with more values than the header has columns:
// an amount written 1,234 without quotes is two values, and the first
// would be taken. Empty values after the last column (a trailing
// delimiter) are fine.
// CheckWidth reports a row whose number of fields is not width.
func CheckWidth(fields [][]byte, width int, at Pos) error {
	for i := width; i < len(fields); i++ {
		if len(bytes.TrimSpace(fields[i])) > 0 {
			return fmt.Errorf("%s: the row has %d columns, the header %d: a value with a delimiter not in quotes (1,234 written without quotes is two values)?", at, len(fields), width)
		}
	}
	return nil
}

// WriteCSV writes a table atomically: a temporary file renamed into place.
func WriteCSV(dest string, header []string, rows [][]string) error {
	f, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	w := csv.NewWriter(f)
	if err := w.Write(header); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	return f.Commit()
}
