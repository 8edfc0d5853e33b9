// Package report is the built-in task type `report`: write a self-contained HTML report of a dated CSV: chart, totals for 7 and 30 days and the month, table.
// Registered with the others in package tasks.
package report

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"bytes"
	"context"
	"fmt"
	"html/template"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/finance"
	"github.com/novelfactory/runner/internal/plot"
)

// Params are the params of the report task.
type Params struct {
	// CSV file with a date column and numeric columns (e.g. metrics/finance.csv).
	Src params.Path `yaml:"src" json:"src" required:"true"`
	// HTML file to write: one self-contained page (inline SVG and CSS, no script, no network).
	Dest params.Path `yaml:"dest" json:"dest" required:"true"`
	// Title of the page and the chart.
	Title string `yaml:"title" json:"title" default:"Report"`
	// Date column; the first column when empty.
	X string `yaml:"x" json:"x"`
	// Columns to chart and total; every column but x when empty.
	Columns []string `yaml:"columns" json:"columns"`
	// Names shown for the columns, {column: name}.
	Labels map[string]string `yaml:"labels" json:"labels"`
	// Unit of the values, shown with totals (원, USD).
	Unit string `yaml:"unit" json:"unit"`
	// Language of the page (lang attribute and labels: ko or en).
	Language string `yaml:"language" json:"language" default:"ko" enum:"ko,en"`
}

// Register adds the report task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "report",
		Summary:   "Write a self-contained HTML report of a dated CSV: chart, totals for 7 and 30 days and the month, table.",
		Doc: "Reads a CSV whose first (or `x`) column is a date and writes one HTML file that opens offline: the " +
			"chart (inline SVG, drawn with the browser's own Korean fonts), the totals of each column for the last 7 " +
			"and 30 days and for the latest month (counted back from the latest date in the file, so a report is the " +
			"same whenever it is made), and the table, newest day first. No script, no network. Written to a temporary " +
			"file and renamed into place.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the HTML file."},
			{Name: "latest", Type: "string", Doc: "The latest date in the data."},
		},
		Examples: []tasktype.Example{
			{Title: "A one-page HTML finance report", YAML: `report:
  uses: report
  with:
    src: metrics/finance.csv
    title: 노벨 팩토리 손익
    unit: 원
    dest: metrics/finance.html
`},
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			return tasktype.Plan{
				Summary: fmt.Sprintf("would write a report of %s to %s", p.Src, p.Dest),
				Outputs: tasktype.Outputs{"path": string(p.Dest)},
			}, nil
		},
		Run: runReport,
	})
}

var reportPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body { font-family: ` + plot.FontStack + `; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
.sub { color: #666; margin-top: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: .8rem; margin: 1.2rem 0; }
.card { border: 1px solid #ddd; border-radius: 8px; padding: .8rem 1rem; }
.card h2 { font-size: .95rem; color: #555; margin: 0 0 .5rem; font-weight: normal; }
.card dl { display: grid; grid-template-columns: auto 1fr; gap: .2rem .8rem; margin: 0; }
.card dd { margin: 0; text-align: right; font-variant-numeric: tabular-nums; }
.neg { color: #b00020; }
svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin-top: 1rem; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #eee; padding: .35rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #999; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<p class="sub">{{.Range}}</p>
<div class="cards">
{{range .Cards}}<section class="card"><h2>{{.Name}}</h2><dl>
{{range .Totals}}<dt>{{.Label}}</dt><dd{{if .Neg}} class="neg"{{end}}>{{.Value}}</dd>
{{end}}</dl></section>
{{end}}</div>
{{.Chart}}
<table>
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td{{if .Neg}} class="neg"{{end}}>{{.Value}}</td>{{end}}</tr>
{{end}}</tbody>
</table>
</body>
</html>
`))

type reportCell struct {
	Value string
	Neg   bool
}

func runReport(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	c, exact, err := plot.FromCSV(ctx, string(p.Src), p.X, p.Columns, p.Labels)
	if err != nil {
		return nil, err
	}
	// The totals come from the code runner serve's Finance page uses too.
	sum, err := finance.FromChart(string(p.Src), c, exact, finance.Options{Unit: p.Unit, Language: p.Language})
	if err != nil {
		return nil, err
	}
	words, err := finance.WordsOf(p.Language)
	if err != nil {
		return nil, err
	}
	c.Title, c.YLabel = p.Title, p.Unit
	scene, err := plot.Layout(c)
	if err != nil {
		return nil, err
	}
	var svg bytes.Buffer
	if err := scene.SVG(&svg, p.Title); err != nil {
		return nil, err
	}
	header := []string{words.Date}
	for _, s := range c.Series {
		header = append(header, s.Name)
	}
	var rows [][]reportCell
	for i := len(c.Dates) - 1; i >= 0; i-- {
		row := []reportCell{{Value: c.Dates[i].Format("2006-01-02")}}
		for si := range c.Series {
			row = append(row, reportCell{Value: exact[si][i].Grouped(), Neg: exact[si][i].Units < 0})
		}
		rows = append(rows, row)
	}
	var page bytes.Buffer
	err = reportPage.Execute(&page, map[string]any{
		"Lang": p.Language, "Title": p.Title, "Cards": sum.Cards, "Header": header, "Rows": rows,
		"Range": fmt.Sprintf("%s – %s", sum.Dates[0], sum.Latest),
		"Chart": template.HTML(svg.String()), // drawn by plot from numbers and escaped labels
	})
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	dest := string(p.Dest)
	if err := atomicfile.WriteFile(dest, page.Bytes(), 0o644); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "wrote %s: %d days up to %s\n", dest, len(c.Dates), sum.Latest)
	return tasktype.Outputs{"path": dest, "latest": sum.Latest}, nil
}
