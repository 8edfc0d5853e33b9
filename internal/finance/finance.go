// Package finance sums up a dated CSV (metrics/finance.csv: date, cost,
// sales, profit) as the report task and runner serve's Finance page show
// it: the day-by-day series and, per column, the totals of the last 7 and
// 30 days and of the latest month. Both call this one code, so that the
// page and the report never disagree on a number. It reads; it writes
// nothing and draws nothing (package plot draws).
package finance

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/novelfactory/runner/internal/decimal"
	"github.com/novelfactory/runner/internal/plot"
)

// Options say what to read from the CSV and how to word the totals.
type Options struct {
	X        string            // the date column; the first when empty
	Columns  []string          // the columns to sum; every one but X when empty
	Labels   map[string]string // names shown for columns, {column: name}
	Unit     string            // shown after each total (원, USD)
	Language string            // ko (the default) or en: the totals' labels
}

// Summary is a dated CSV summed up.
type Summary struct {
	Source string   `json:"source"`           // the CSV file
	Latest string   `json:"latest,omitempty"` // the latest date, YYYY-MM-DD: the totals count back from it
	Dates  []string `json:"dates"`            // one per row, YYYY-MM-DD, oldest first
	Series []Series `json:"series"`           // one per column, its values in the order of Dates
	Cards  []Card   `json:"cards"`            // one per column: its totals
	Unit   string   `json:"unit,omitempty"`
}

// Series is one column's values, day by day.
type Series struct {
	Name string
	// Values are the values as numbers, for drawing; NaN where a row has
	// no value (written as null in JSON).
	Values []float64
	// Exact are the values as written in decimal, for showing; "" where a
	// row has no value.
	Exact []string
}

// MarshalJSON writes a missing value as null: JSON has no NaN.
func (s Series) MarshalJSON() ([]byte, error) {
	values := make([]*float64, len(s.Values))
	for i := range s.Values {
		if !math.IsNaN(s.Values[i]) {
			values[i] = &s.Values[i]
		}
	}
	return json.Marshal(struct {
		Name   string     `json:"name"`
		Values []*float64 `json:"values"`
		Exact  []string   `json:"exact"`
	}{s.Name, values, s.Exact})
}

// Card is the totals of one column.
type Card struct {
	Name   string  `json:"name"`
	Totals []Total `json:"totals"`
}

// Total is one total of a column: the last 7 days, the last 30 days, the
// latest month.
type Total struct {
	Label string `json:"label"`         // 최근 7일, Last 7 days, 2026년 3월, …
	Value string `json:"value"`         // grouped by thousands, with the unit: "1,234,500 원"
	Neg   bool   `json:"neg,omitempty"` // the total is below zero
}

// words are the labels of the totals, and the date column's heading.
var words = map[string]Words{
	"ko": {Week: "최근 7일", Month30: "최근 30일", Month: "%d년 %d월", Date: "날짜"},
	"en": {Week: "Last 7 days", Month30: "Last 30 days", Month: "%[1]d-%02[2]d", Date: "Date"},
}

// Words are the texts of one language.
type Words struct {
	Week, Month30 string
	Month         string // a format of the year and the month
	Date          string // the heading of the date column
}

// WordsOf returns the texts of language ("" is ko).
func WordsOf(language string) (Words, error) {
	if language == "" {
		language = "ko"
	}
	w, ok := words[language]
	if !ok {
		return Words{}, fmt.Errorf("language %q: ko or en", language)
	}
	return w, nil
}

// Summarize reads csvPath and sums it up.
func Summarize(ctx context.Context, csvPath string, opt Options) (*Summary, error) {
	c, exact, err := plot.FromCSV(ctx, csvPath, opt.X, opt.Columns, opt.Labels)
	if err != nil {
		return nil, err
	}
	return FromChart(csvPath, c, exact, opt)
}

// FromChart sums up series already read with plot.FromCSV (the report
// task draws its chart from the same read): exact holds each series'
// values in decimal, row by row, as FromCSV gives them.
func FromChart(source string, c plot.Chart, exact [][]decimal.Dec, opt Options) (*Summary, error) {
	w, err := WordsOf(opt.Language)
	if err != nil {
		return nil, err
	}
	if len(c.Dates) == 0 {
		return nil, fmt.Errorf("%s has no rows", source)
	}
	latest := c.Dates[0]
	for _, d := range c.Dates {
		if d.After(latest) {
			latest = d
		}
	}
	unit := ""
	if opt.Unit != "" {
		unit = " " + opt.Unit
	}
	s := &Summary{Source: source, Latest: latest.Format(time.DateOnly), Unit: opt.Unit}
	spans := []struct {
		label string
		from  time.Time
	}{
		{w.Week, latest.AddDate(0, 0, -6)},
		{w.Month30, latest.AddDate(0, 0, -29)},
		{fmt.Sprintf(w.Month, latest.Year(), int(latest.Month())), time.Date(latest.Year(), latest.Month(), 1, 0, 0, 0, 0, time.UTC)},
	}
	for si, series := range c.Series {
		card := Card{Name: series.Name}
		for _, span := range spans {
			var sum decimal.Dec
			for i, d := range c.Dates {
				if !d.Before(span.from) && !d.After(latest) {
					if sum, err = sum.Add(exact[si][i]); err != nil {
						return nil, fmt.Errorf("%s: summing %s: %w", source, series.Name, err)
					}
				}
			}
			card.Totals = append(card.Totals, Total{Label: span.label, Value: sum.Grouped() + unit, Neg: sum.Units < 0})
		}
		s.Cards = append(s.Cards, card)
	}
	// The rows oldest first, whatever their order in the file.
	order := make([]int, len(c.Dates))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return c.Dates[order[a]].Before(c.Dates[order[b]]) })
	for _, i := range order {
		s.Dates = append(s.Dates, c.Dates[i].Format(time.DateOnly))
	}
	for si, series := range c.Series {
		out := Series{Name: series.Name}
		for _, i := range order {
			v := series.Values[i]
			out.Values = append(out.Values, v)
			text := ""
			if !math.IsNaN(v) {
				text = exact[si][i].String()
			}
			out.Exact = append(out.Exact, text)
		}
		s.Series = append(s.Series, out)
	}
	return s, nil
}
