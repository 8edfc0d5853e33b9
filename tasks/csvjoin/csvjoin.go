// Package csvjoin is the built-in task type `csvjoin`: join columns of several CSV files by a key into one table, updating it in place.
// Registered with the others in package tasks.
package csvjoin

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/datefmt"
	"github.com/novelfactory/runner/internal/decimal"
	"github.com/novelfactory/runner/internal/tabular"
)

// JoinSource is one column brought into a csvjoin.
type JoinSource struct {
	// CSV file, relative to the recipe.
	File params.Path `yaml:"file" json:"file" required:"true"`
	// Column of the file to bring in ("금액#2": the second of two columns called 금액).
	Column string `yaml:"column" json:"column" required:"true"`
	// Name of the column in the result; the column's own name when empty.
	As string `yaml:"as" json:"as"`
}

// Params are the params of the csvjoin task.
type Params struct {
	// Key column every source has (dates are normalised to YYYY-MM-DD).
	On string `yaml:"on" json:"on" default:"date"`
	// Columns to bring together, one per source file; a key missing from a source counts as 0.
	Sources []JoinSource `yaml:"sources" json:"sources" required:"true"`
	// Computed columns, {name: "a - b + c"} over the result's columns, in exact decimals.
	Derive map[string]string `yaml:"derive" json:"derive"`
	// CSV file to write. Its rows for keys the sources do not have are kept (history), those they have are replaced — never duplicated.
	Dest params.Path `yaml:"dest" json:"dest" required:"true"`
	// Keep dest's rows for keys not in the sources; false writes only the sources' keys.
	KeepHistory bool `yaml:"keep_history" json:"keep_history" default:"true"`

	header  []string          // the result's columns, worked out by Check
	derived map[string][]term // each derived column's terms
}

// Register adds the csvjoin task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "csvjoin",
		Summary:   "Join columns of several CSV files by a key into one table, updating it in place.",
		Doc: "Brings one column from each source file together by the `on` key (a date, normalised), a key missing " +
			"from a source counting as 0, adds `derive`d columns (sums and differences of columns, exact), and writes " +
			"`dest` sorted by key. Re-running for the same keys replaces their rows and keeps the rows of other keys, so " +
			"a daily ledger such as metrics/finance.csv (date,cost,sales,profit) grows by a row a day and never " +
			"duplicates one. The file is written to a temporary file and renamed into place.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the CSV written."},
			{Name: "rows", Type: "integer", Doc: "Rows in the result."},
			{Name: "updated", Type: "integer", Doc: "Rows that came from the sources (new or replaced)."},
		},
		Examples: []tasktype.Example{
			{Title: "Cost and sales side by side, with profit", YAML: `ledger:
  uses: csvjoin
  with:
    on: date
    sources:
      - {file: metrics/cost-by-day.csv, column: cost}
      - {file: metrics/sales-by-day.csv, column: sales}
    derive: {profit: sales - cost}
    dest: metrics/finance.csv
`},
		},
		Check: func(p *Params) error {
			var err error
			p.header, p.derived, err = p.columns()
			return err
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			header := p.header
			return tasktype.Plan{
				Summary: fmt.Sprintf("would join %d source(s) by %s into %s (%s)", len(p.Sources), p.On, p.Dest, strings.Join(header, ",")),
				Outputs: tasktype.Outputs{"path": string(p.Dest)},
			}, nil
		},
		Run: runCsvjoin,
	})
}

// term is one signed column of a derived sum.
type term struct {
	col  int
	sign int64
}

// columns gives the result's header and each derived column's terms.
func (p *Params) columns() ([]string, map[string][]term, error) {
	header := []string{p.On}
	index := map[string]int{}
	for _, s := range p.Sources {
		name := s.As
		if name == "" {
			name = s.Column
		}
		if _, dup := index[name]; dup || name == p.On {
			return nil, nil, params.At("sources", fmt.Errorf("sources: two columns named %q; name one with as", name))
		}
		index[name] = len(header)
		header = append(header, name)
	}
	names := make([]string, 0, len(p.Derive))
	for name := range p.Derive {
		names = append(names, name)
	}
	sort.Strings(names)
	derived := map[string][]term{}
	for _, name := range names {
		var terms []term
		sign := int64(1)
		for _, tok := range strings.Fields(strings.NewReplacer("+", " + ", "-", " - ").Replace(p.Derive[name])) {
			switch tok {
			case "+":
				sign = 1
			case "-":
				sign = -1
			default:
				i, ok := index[tok]
				if !ok {
					return nil, nil, params.At("derive", fmt.Errorf("derive %s: %q is not a column (columns: %s)", name, tok, strings.Join(header[1:], ", ")))
				}
				terms = append(terms, term{i, sign})
				sign = 1
			}
		}
		if len(terms) == 0 {
			return nil, nil, params.At("derive", fmt.Errorf("derive %s: write a sum of columns, e.g. sales - cost", name))
		}
		derived[name] = terms
		header = append(header, name)
	}
	return header, derived, nil
}

func runCsvjoin(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	header, derived := p.header, p.derived
	width := 1 + len(p.Sources)
	values := map[string][]decimal.Dec{}
	for si, s := range p.Sources {
		col, err := readKeyed(ctx, string(s.File), p.On, s.Column)
		if err != nil {
			return nil, err
		}
		for key, v := range col {
			row, ok := values[key]
			if !ok {
				row = make([]decimal.Dec, width)
				values[key] = row
			}
			row[1+si] = v
		}
	}
	rows := map[string][]string{}
	for key, vals := range values {
		row := []string{key}
		for _, v := range vals[1:] {
			row = append(row, v.String())
		}
		for _, name := range header[width:] {
			var sum decimal.Dec
			for _, t := range derived[name] {
				v, err := vals[t.col].MulInt(t.sign)
				if err == nil {
					sum, err = sum.Add(v)
				}
				if err != nil {
					return nil, fmt.Errorf("derive %s for %s: %w", name, key, err)
				}
			}
			row = append(row, sum.String())
		}
		rows[key] = row
	}
	dest := string(p.Dest)
	kept := 0
	if p.KeepHistory {
		old, err := tabular.ReadSmall(ctx, dest)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, fmt.Errorf("read the existing %s: %w", dest, err)
		default:
			if strings.Join(old.Header, ",") != strings.Join(header, ",") {
				return nil, fmt.Errorf("%s has columns %s, this join writes %s: move the old file away or set keep_history: false", dest, tabular.ListNames(old.Header), tabular.ListNames(header))
			}
			for _, r := range old.Rows {
				if _, replaced := rows[r[0]]; !replaced {
					rows[r[0]] = r
					kept++
				}
			}
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, rows[k])
	}
	if err := tabular.WriteCSV(dest, header, out); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "%d row(s) from the sources, %d kept from the existing file → %s\n", len(values), kept, dest)
	return tasktype.Outputs{"path": dest, "rows": len(out), "updated": len(values)}, nil
}

// readKeyed sums a column of a table by its key column, streaming: memory
// grows with the keys, not the rows.
func readKeyed(ctx context.Context, file, on, column string) (map[string]decimal.Dec, error) {
	t, err := tabular.Open(file, tabular.Options{})
	if err != nil {
		return nil, err
	}
	defer t.Close()
	cols := tabular.NewColumns(t.Header(), t.HeaderAt(), nil)
	ki, err := cols.Find(on, "on")
	if err != nil {
		return nil, err
	}
	vi, err := cols.Find(column, "column")
	if err != nil {
		return nil, err
	}
	if ki < 0 || vi < 0 {
		return nil, fmt.Errorf("%s: needs columns %s and %s; it has %s", file, tabular.Quote(on), tabular.Quote(column), cols.List())
	}
	out := map[string]decimal.Dec{}
	var dec tabular.Decoder
	width := len(t.Header())
	err = t.Rows(ctx, 1, func(_ int, fields [][]byte, at tabular.Pos) error {
		if ki >= len(fields) || vi >= len(fields) {
			return fmt.Errorf("%s: the row has %d columns", at, len(fields))
		}
		if err := tabular.CheckWidth(fields, width, at); err != nil {
			return err
		}
		key := strings.TrimSpace(string(dec.Decode(fields[ki], t.CP949())))
		if strings.IndexByte(key, 0) >= 0 || !utf8.ValidString(key) {
			return fmt.Errorf("%s: column %s: the key %s is not text (a NUL byte, or bytes that are not UTF-8)", at, tabular.Name(on), tabular.Quote(key))
		}
		if iso, ok := datefmt.Normalize(key); ok {
			key = iso
		}
		raw := string(dec.Decode(fields[vi], t.CP949()))
		d, _, err := decimal.Parse(raw)
		if err != nil {
			return fmt.Errorf("%s: column %s: %s %v", at, tabular.Quote(column), tabular.Quote(raw), err)
		}
		if out[key], err = out[key].Add(d); err != nil {
			return fmt.Errorf("%s: %w", at, err)
		}
		return nil
	})
	return out, err
}
