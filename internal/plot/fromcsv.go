package plot

import (
	"context"
	"fmt"
	"math"

	"github.com/novelfactory/runner/internal/datefmt"
	"github.com/novelfactory/runner/internal/decimal"
	"github.com/novelfactory/runner/internal/tabular"
)

// FromCSV reads the series of a dated CSV.
func FromCSV(ctx context.Context, file, x string, columns []string, labels map[string]string) (Chart, [][]decimal.Dec, error) {
	var c Chart
	t, err := tabular.ReadSmall(ctx, file)
	if err != nil {
		return c, nil, err
	}
	if len(t.Rows) == 0 {
		return c, nil, fmt.Errorf("%s has no rows to draw", file)
	}
	cols := tabular.NewColumns(t.Header, t.At, nil)
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
		for i := range t.Header {
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
		} else if l, ok := labels[t.Header[ci]]; ok {
			name = l
		}
		c.Series = append(c.Series, Series{Name: name})
	}
	exact := make([][]decimal.Dec, len(series))
	for ri, r := range t.Rows {
		if xi >= len(r) {
			return c, nil, fmt.Errorf("%s:%d: no value in the date column", file, t.Lines[ri])
		}
		day, ok := datefmt.Parse(r[xi])
		if !ok {
			return c, nil, fmt.Errorf("%s:%d: %s is not a date", file, t.Lines[ri], tabular.Quote(r[xi]))
		}
		c.Dates = append(c.Dates, day)
		for si, ci := range series {
			v := math.NaN()
			var d decimal.Dec
			if ci < len(r) {
				var present bool
				d, present, err = decimal.Parse(r[ci])
				if err != nil {
					return c, nil, fmt.Errorf("%s:%d: column %s: %s %v", file, t.Lines[ri], tabular.Quote(t.Header[ci]), tabular.Quote(r[ci]), err)
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
