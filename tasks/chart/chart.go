// Package chart is the built-in task type `chart`: draw a dated line or bar chart of CSV columns as SVG and PNG, with Korean labels.
// Registered with the others in package tasks.
package chart

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"bytes"
	"context"
	"fmt"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/plot"
)

// Params are the params of the chart task.
type Params struct {
	// CSV file with a date column and numeric columns (e.g. metrics/finance.csv).
	Src params.Path `yaml:"src" json:"src" required:"true"`
	// Date column for the x axis; the first column when empty.
	X string `yaml:"x" json:"x"`
	// Columns to draw, one series each; every numeric column but x when empty.
	Columns []string `yaml:"columns" json:"columns"`
	// Names shown in the legend, {column: name}; the column names when empty.
	Labels map[string]string `yaml:"labels" json:"labels"`
	// Title above the chart.
	Title string `yaml:"title" json:"title"`
	// Unit shown above the y axis (원, USD).
	YLabel string `yaml:"y_label" json:"y_label"`
	// Chart kind.
	Kind string `yaml:"kind" json:"kind" default:"line" enum:"line,bar"`
	// SVG file to write (text drawn by the viewer's fonts).
	SVG params.Path `yaml:"svg" json:"svg"`
	// PNG file to write (text drawn with font).
	PNG params.Path `yaml:"png" json:"png"`
	// Width in pixels.
	Width int `yaml:"width" json:"width" default:"960"`
	// Height in pixels.
	Height int `yaml:"height" json:"height" default:"480"`
	// Font for the PNG (.ttf, .otf or a .ttc collection); Noto Sans CJK KR from fonts-noto-cjk when empty.
	Font params.Path `yaml:"font" json:"font"`
}

// Register adds the chart task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "chart",
		Summary:   "Draw a dated line or bar chart of CSV columns as SVG and PNG, with Korean labels.",
		Doc: "Reads a CSV whose first (or `x`) column is a date and draws one series per numeric column: title, " +
			"legend above the plot (it never covers the data), dates on the x axis, y ticks with thousands " +
			"separators. The SVG names a CSS font stack, so browsers draw Hangul with their own fonts; the PNG is " +
			"drawn with a CJK font (Noto Sans CJK KR, a face of the .ttc, by default) and a label the font cannot " +
			"draw is an error, never a row of blank boxes. Files are written to temporary files and renamed into place.",
		Outputs: []tasktype.Output{
			{Name: "svg", Type: "string", Doc: "Absolute path of the SVG, or empty."},
			{Name: "png", Type: "string", Doc: "Absolute path of the PNG, or empty."},
			{Name: "points", Type: "integer", Doc: "Dates on the x axis."},
		},
		Examples: []tasktype.Example{
			{Title: "A line chart of cost and sales, as SVG and PNG", YAML: `chart:
  uses: chart
  with:
    src: metrics/finance.csv
    columns: [cost, sales]
    labels: {cost: 비용, sales: 매출}
    title: 일별 비용과 매출
    svg: metrics/finance.svg
    png: metrics/finance.png
`},
		},
		Check: func(p *Params) error {
			if p.SVG == "" && p.PNG == "" {
				return fmt.Errorf("svg, png: name at least one file to write")
			}
			if p.Width < 200 || p.Height < 150 || p.Width > 8000 || p.Height > 8000 {
				field := "width"
				if p.Width >= 200 && p.Width <= 8000 {
					field = "height"
				}
				return params.At(field, fmt.Errorf("width %d, height %d: use 200–8000 × 150–8000 pixels", p.Width, p.Height))
			}
			return nil
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			return tasktype.Plan{
				Summary: fmt.Sprintf("would draw a %s chart of %s", p.Kind, p.Src),
				Outputs: tasktype.Outputs{"svg": string(p.SVG), "png": string(p.PNG)},
			}, nil
		},
		Run: runChart,
	})
}

func runChart(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	c, _, err := plot.FromCSV(ctx, string(p.Src), p.X, p.Columns, p.Labels)
	if err != nil {
		return nil, err
	}
	c.Title, c.Kind, c.Width, c.Height, c.YLabel = p.Title, p.Kind, p.Width, p.Height, p.YLabel
	scene, err := plot.Layout(c)
	if err != nil {
		return nil, err
	}
	out := tasktype.Outputs{"svg": "", "png": "", "points": len(c.Dates)}
	if p.PNG != "" {
		fo, err := plot.LoadFont(string(p.Font))
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := scene.PNG(&buf, fo); err != nil {
			return nil, err
		}
		dest := string(p.PNG)
		if err := atomicfile.WriteFile(dest, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		out["png"] = dest
		fmt.Fprintf(env.Log, "drew %s (%d×%d, font %s)\n", dest, p.Width, p.Height, fo.Path)
	}
	if p.SVG != "" {
		var buf bytes.Buffer
		if err := scene.SVG(&buf, c.Title); err != nil {
			return nil, err
		}
		dest := string(p.SVG)
		if err := atomicfile.WriteFile(dest, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		out["svg"] = dest
		fmt.Fprintf(env.Log, "drew %s\n", dest)
	}
	return out, nil
}
