package tasks

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/datefmt"
	"github.com/novelfactory/runner/tasks/internal/decimal"
	"github.com/novelfactory/runner/tasks/internal/plot"
	"github.com/novelfactory/runner/tasks/internal/tabular"
)

// ChartParams are the params of the chart task.
type ChartParams struct {
	// CSV file with a date column and numeric columns (e.g. metrics/finance.csv).
	Src string `yaml:"src" json:"src" required:"true"`
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
	SVG string `yaml:"svg" json:"svg"`
	// PNG file to write (text drawn with font).
	PNG string `yaml:"png" json:"png"`
	// Width in pixels.
	Width int `yaml:"width" json:"width" default:"960"`
	// Height in pixels.
	Height int `yaml:"height" json:"height" default:"480"`
	// Font for the PNG (.ttf, .otf or a .ttc collection); Noto Sans CJK KR from fonts-noto-cjk when empty.
	Font string `yaml:"font" json:"font"`
}

func init() {
	register(tasktype.Def[ChartParams]{
		Name:    "chart",
		Summary: "Draw a dated line or bar chart of CSV columns as SVG and PNG, with Korean labels.",
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
		Check: func(p *ChartParams) error {
			if p.SVG == "" && p.PNG == "" {
				return fmt.Errorf("svg, png: name at least one file to write")
			}
			if p.Width < 200 || p.Height < 150 || p.Width > 8000 || p.Height > 8000 {
				return fmt.Errorf("width %d, height %d: use 200–8000 × 150–8000 pixels", p.Width, p.Height)
			}
			return nil
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *ChartParams) (tasktype.Plan, error) {
			return tasktype.Plan{
				Summary: fmt.Sprintf("would draw a %s chart of %s", p.Kind, env.Path(p.Src)),
				Outputs: tasktype.Outputs{"svg": optPath(env, p.SVG), "png": optPath(env, p.PNG)},
			}, nil
		},
		Run: runChart,
	})
}

// chartData reads the series of a dated CSV.
func chartData(ctx context.Context, file, x string, columns []string, labels map[string]string) (plot.Chart, [][]decimal.Dec, error) {
	var c plot.Chart
	t, err := readTable(ctx, file)
	if err != nil {
		return c, nil, err
	}
	if len(t.rows) == 0 {
		return c, nil, fmt.Errorf("%s has no rows to draw", file)
	}
	cols := tabular.NewColumns(t.header, t.at, nil)
	xi := 0
	if x != "" {
		if xi, err = cols.Find(x, "x"); err != nil {
			return c, nil, err
		} else if xi < 0 {
			return c, nil, fmt.Errorf("%s: no column %s; it has %s", file, tabular.Quote(x), cols.List())
		}
	}
	var series []int
	if len(columns) == 0 {
		for i := range t.header {
			if i != xi {
				series = append(series, i)
			}
		}
	}
	for _, name := range columns {
		i, err := cols.Find(name, "columns")
		if err != nil {
			return c, nil, err
		} else if i < 0 {
			return c, nil, fmt.Errorf("%s: no column %s; it has %s", file, tabular.Quote(name), cols.List())
		}
		series = append(series, i)
	}
	keys := cols.Keys()
	for _, ci := range series {
		name := keys[ci] // 금액#2 when two columns are called 금액
		if l, ok := labels[name]; ok {
			name = l
		} else if l, ok := labels[t.header[ci]]; ok {
			name = l
		}
		c.Series = append(c.Series, plot.Series{Name: name})
	}
	exact := make([][]decimal.Dec, len(series))
	for ri, r := range t.rows {
		if xi >= len(r) {
			return c, nil, fmt.Errorf("%s:%d: no value in the date column", file, t.lines[ri])
		}
		day, ok := datefmt.Parse(r[xi])
		if !ok {
			return c, nil, fmt.Errorf("%s:%d: %s is not a date", file, t.lines[ri], tabular.Quote(r[xi]))
		}
		c.Dates = append(c.Dates, day)
		for si, ci := range series {
			v := math.NaN()
			var d decimal.Dec
			if ci < len(r) {
				var present bool
				d, present, err = decimal.Parse(r[ci])
				if err != nil {
					return c, nil, fmt.Errorf("%s:%d: column %s: %s %v", file, t.lines[ri], tabular.Quote(t.header[ci]), tabular.Quote(r[ci]), err)
				}
				if present {
					v = d.Float()
				}
			}
			c.Series[si].Values = append(c.Series[si].Values, v)
			exact[si] = append(exact[si], d)
		}
	}
	return c, exact, nil
}

func runChart(ctx context.Context, env *tasktype.Env, p *ChartParams) (tasktype.Outputs, error) {
	c, _, err := chartData(ctx, env.Path(p.Src), p.X, p.Columns, p.Labels)
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
		fo, err := plot.LoadFont(optPath(env, p.Font))
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := scene.PNG(&buf, fo); err != nil {
			return nil, err
		}
		dest := env.Path(p.PNG)
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
		dest := env.Path(p.SVG)
		if err := atomicfile.WriteFile(dest, buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
		out["svg"] = dest
		fmt.Fprintf(env.Log, "drew %s\n", dest)
	}
	return out, nil
}
