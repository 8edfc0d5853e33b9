// Package csvsum is the built-in task type `csvsum`: sum, count or average columns of CSV and spreadsheet exports by group, exactly, on every core.
// Registered with the others in package tasks.
package csvsum

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/tabular"
	"github.com/novelfactory/runner/tasks/internal/csvagg"
	"github.com/novelfactory/runner/tasks/internal/sourcefiles"
)

// Params are the params of the csvsum task.
type Params struct {
	// Table files (CSV, .xlsx, HTML .xls, zipped CSV): a path, a glob, or a list of them, relative to the recipe.
	Src params.Strings `yaml:"src" json:"src" required:"true"`
	// Columns to group by, in output order; "name = expression" groups by a computed value, e.g. "월 = month(판매일)".
	GroupBy []string `yaml:"group_by" json:"group_by"`
	// Columns to aggregate and how: {금액: sum} or {금액: [sum, avg]} (then named 금액_sum, 금액_avg); count of rows: {"*": count}.
	Aggregate map[string]params.Strings `yaml:"aggregate" json:"aggregate" required:"true"`
	// Keep only the rows where this expression is true; columns are variables (row["이름 with space"] for any name), with num(), date(), month(), year().
	Where string `yaml:"where" json:"where"`
	// CSV file to write: the group columns, then one column per aggregate.
	Dest params.Path `yaml:"dest" json:"dest" required:"true"`
	// Text encoding of CSV and HTML sources: auto tells UTF-8, UTF-8 with BOM and CP949 (EUC-KR) apart by content.
	Encoding string `yaml:"encoding" json:"encoding" default:"auto" enum:"auto,utf-8,cp949"`
	// CSV field separator (one character, or "tab"); chosen among , tab ; | from the header when empty.
	Delimiter string `yaml:"delimiter" json:"delimiter"`
	// Row (1-based) that holds the column names; rows above it (an export's title lines) are ignored.
	HeaderRow int `yaml:"header_row" json:"header_row" default:"1"`
	// Rows right after the header to ignore (units, a second header line).
	SkipRows int `yaml:"skip_rows" json:"skip_rows"`
	// Renames of source columns, {source name: name used here}, so exports with different headers add up; a header with two 금액 columns names the second "금액#2", here and wherever a column is named.
	Columns map[string]string `yaml:"columns" json:"columns"`
	// Sheet of .xlsx sources; the first when empty.
	Sheet string `yaml:"sheet" json:"sheet"`
	// Output columns to sort by ("-col" for descending); the group columns when empty.
	Sort []string `yaml:"sort" json:"sort"`
	// What an unreadable value does: error names file, line and column and stops; skip counts and reports the row.
	OnBadRow string `yaml:"on_bad_row" json:"on_bad_row" default:"error" enum:"error,skip"`
	// Keep rows whose first cell is 합계, 총계, 소계 or Total (they are left out by default, not to count sales twice).
	KeepTotals bool `yaml:"keep_totals" json:"keep_totals"`

	plan *csvagg.Plan // compiled by Check, run by Run
}

// Register adds the csvsum task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "csvsum",
		Summary:   "Sum, count or average columns of CSV and spreadsheet exports by group, exactly, on every core.",
		Doc: "Reads one or many tables — CSV in UTF-8, UTF-8 with BOM or CP949 (Korean platform exports), .xlsx, " +
			"HTML tables saved as .xls (merged two-row headers become `group / column`), zipped CSVs — the format " +
			"chosen by content. Groups rows by `group_by` (dates normalised to YYYY-MM-DD whatever their form: " +
			"2026.11.01, 2026/11/1, 20261101, with a time or not) and aggregates columns with sum, count, avg, min, max " +
			"in exact decimals: \"1,234\", 1,234원, ₩1,234, -1,000 and (1,000) are read as people mean them; blanks " +
			"are left out. An unreadable value is an error naming file, line and column, or with `on_bad_row: skip` a " +
			"counted, reported skip — never a silently wrong total. Total rows (합계, 총계, Total) are left out. Large " +
			"CSV files stream in chunks on every core with flat memory. The result is written to a temporary file and " +
			"renamed into place.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the CSV written."},
			{Name: "rows_in", Type: "integer", Doc: "Data rows read from the sources."},
			{Name: "rows_out", Type: "integer", Doc: "Rows written (one per group)."},
			{Name: "skipped", Type: "integer", Doc: "Rows skipped for an unreadable value (on_bad_row: skip)."},
		},
		Examples: []tasktype.Example{
			{Title: "Sales per day from every platform's export", YAML: `sales:
  uses: csvsum
  with:
    src: finance/sales/*
    columns: {판매일: date, 판매금액: sales}
    group_by: [date]
    aggregate: {sales: sum}
    dest: metrics/sales-by-day.csv
`},
		},
		Check: func(p *Params) error {
			spec, err := p.spec()
			if err != nil {
				return err
			}
			p.plan, err = csvagg.Compile(spec)
			return err
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			files, err := p.sources(env)
			if err != nil {
				return tasktype.Plan{}, err
			}
			return tasktype.Plan{
				Summary: fmt.Sprintf("would aggregate %d file(s) by %s into %s", len(files), strings.Join(p.GroupBy, ", "), p.Dest),
				Outputs: tasktype.Outputs{"path": string(p.Dest)},
			}, nil
		},
		Run: runCsvsum,
	})
}

// spec turns the params into an aggregation spec.
func (p *Params) spec() (csvagg.Spec, error) {
	spec := csvagg.Spec{Where: p.Where, Renames: p.Columns, SkipBadRows: p.OnBadRow == "skip", KeepTotals: p.KeepTotals, Sort: p.Sort,
		Table: tabular.Options{Encoding: p.Encoding, HeaderRow: p.HeaderRow, SkipRows: p.SkipRows, Sheet: p.Sheet}}
	switch d := p.Delimiter; {
	case d == "":
	case d == "tab" || d == `\t`:
		spec.Table.Delimiter = '\t'
	case len(d) == 1:
		spec.Table.Delimiter = d[0]
	default:
		return spec, params.At("delimiter", fmt.Errorf("delimiter %s: give one character, or tab", tabular.Quote(d)))
	}
	for _, g := range p.GroupBy {
		spec.Groups = append(spec.Groups, csvagg.ParseGroup(g))
	}
	columns := make([]string, 0, len(p.Aggregate))
	for col := range p.Aggregate {
		columns = append(columns, col)
	}
	sort.Strings(columns) // a map has no order; the output's columns must
	for _, col := range columns {
		fns := p.Aggregate[col]
		if len(fns) == 0 {
			return spec, params.At("aggregate", fmt.Errorf("aggregate %s: give a function (%s) or a list of them", col, strings.Join(csvagg.Functions, ", ")))
		}
		for _, fn := range fns {
			out := col
			if len(fns) > 1 {
				out = col + "_" + fn
			}
			if col == "*" {
				out = "count"
			}
			spec.Aggs = append(spec.Aggs, csvagg.Agg{Out: out, Column: col, Fn: fn})
		}
	}
	return spec, nil
}

// sources expands src (a path, a glob, or a list of them) into files.
func (p *Params) sources(env *tasktype.Env) ([]string, error) { return sourcefiles.Expand(env, p.Src) }

func runCsvsum(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	files, err := p.sources(env)
	if err != nil {
		return nil, err
	}
	res, err := p.plan.Run(ctx, files)
	if err != nil {
		return nil, err
	}
	dest := string(p.Dest)
	if err := tabular.WriteCSV(dest, res.Header, res.Rows); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "read %d rows from %d file(s) (%s) → %d rows in %s\n", res.RowsIn, len(files), strings.Join(uniq(res.Formats), ", "), len(res.Rows), dest)
	if res.Totals > 0 {
		fmt.Fprintf(env.Log, "left out %d total row(s) (합계/총계/Total; keep_totals: true keeps them)\n", res.Totals)
	}
	if res.Filtered > 0 {
		fmt.Fprintf(env.Log, "where: left out %d row(s)\n", res.Filtered)
	}
	if res.Skipped > 0 {
		fmt.Fprintf(env.Log, "skipped %d row(s) with unreadable values; the first: %s\n", res.Skipped, res.FirstSkip)
	}
	return tasktype.Outputs{"path": dest, "rows_in": res.RowsIn, "rows_out": len(res.Rows), "skipped": res.Skipped}, nil
}

func uniq(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
