// Package tokencost is the built-in task type `tokencost`: price LLM token usage per day (and model) from call logs and provider exports.
// Registered with the others in package tasks.
package tokencost

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/decimal"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/internal/tabular"
	"github.com/novelfactory/runner/tasks/internal/sourcefiles"
	"github.com/novelfactory/runner/tasks/internal/tokens"
)

// Params are the params of the tokencost task.
type Params struct {
	// Usage files: JSON Lines call logs, or OpenAI / Anthropic admin API usage or cost exports (JSON); a path, a glob, or a list.
	Src params.Strings `yaml:"src" json:"src" required:"true"`
	// Price table (YAML: per-model prices with the day each takes effect); runner's shipped table when empty.
	Prices params.Path `yaml:"prices" json:"prices"`
	// Reporting currency, written in the log and the report.
	Currency string `yaml:"currency" json:"currency" default:"USD"`
	// Units of the currency per US dollar (e.g. 1380 for KRW).
	Rate string `yaml:"rate" json:"rate" default:"1"`
	// Decimals costs are rounded to; 0 for KRW and JPY, 4 otherwise, when negative.
	Decimals int `yaml:"decimals" json:"decimals" default:"-1"`
	// Time zone whose days the costs are reported in; usage bucketed by UTC hour is re-bucketed into it.
	TimeZone string `yaml:"time_zone" json:"time_zone" default:"Asia/Seoul"`
	// One row per day and model (with calls and token counts), not per day.
	PerModel bool `yaml:"per_model" json:"per_model"`
	// CSV file to write: date,cost (per_model: date,model,calls,input_tokens,output_tokens,cache_read_tokens,cache_write_tokens,cost).
	Dest params.Path `yaml:"dest" json:"dest" required:"true"`

	opt tokens.Options // read by Check from time_zone, rate, decimals and per_model
}

// Register adds the tokencost task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "tokencost",
		Summary:   "Price LLM token usage per day (and model) from call logs and provider exports.",
		Doc: "Reads usage — JSON Lines call logs (time, model, input/output/cached tokens in OpenAI's or Anthropic's " +
			"spelling) and the usage and cost exports of the OpenAI and Anthropic admin APIs — and prices it with a " +
			"price table that gives each model's prices with the day they take effect (runner ships one; `prices:` " +
			"overrides it). Cost exports are taken as billed. Usage is bucketed by the days of `time_zone` (Asia/Seoul " +
			"by default); exports bucketed by UTC day keep their day. Costs are exact decimals converted at `rate`. An " +
			"unknown model is an error listing the models the table knows (or a `match: \"*\"` rule prices it).",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the CSV written."},
			{Name: "rows_out", Type: "integer", Doc: "Rows written."},
			{Name: "calls", Type: "integer", Doc: "API calls counted."},
			{Name: "cost", Type: "string", Doc: "Total cost, in the currency, as an exact decimal."},
		},
		Examples: []tasktype.Example{
			{Title: "LLM cost per day in won", YAML: `cost:
  uses: tokencost
  with:
    src: finance/usage/*
    currency: KRW
    rate: "1380"
    time_zone: Asia/Seoul
    dest: metrics/cost-by-day.csv
`},
		},
		Check: func(p *Params) error {
			var err error
			p.opt, err = p.options()
			return err
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			files, err := sourcefiles.Expand(env, p.Src)
			if err != nil {
				return tasktype.Plan{}, err
			}
			return tasktype.Plan{
				Summary: fmt.Sprintf("would price the usage in %d file(s) in %s per day (%s) into %s", len(files), p.Currency, p.TimeZone, p.Dest),
				Outputs: tasktype.Outputs{"path": string(p.Dest)},
			}, nil
		},
		Run: runTokencost,
	})
}

func (p *Params) options() (tokens.Options, error) {
	var opt tokens.Options
	loc, err := time.LoadLocation(p.TimeZone)
	if err != nil {
		return opt, params.At("time_zone", fmt.Errorf("time_zone %s: use an IANA name such as Asia/Seoul or UTC", tabular.Quote(p.TimeZone)))
	}
	rate, ok, err := decimal.Parse(p.Rate)
	if err != nil || !ok || rate.Units <= 0 {
		return opt, params.At("rate", fmt.Errorf("rate %s: give the units of %s per US dollar, e.g. 1380", tabular.Quote(p.Rate), tabular.Quote(p.Currency)))
	}
	places := p.Decimals
	if places < 0 {
		places = 4
		if c := strings.ToUpper(p.Currency); c == "KRW" || c == "JPY" {
			places = 0
		}
	}
	if places > decimal.MaxScale {
		return opt, params.At("decimals", fmt.Errorf("decimals %d: at most %d", places, decimal.MaxScale))
	}
	return tokens.Options{Location: loc, Rate: rate, PerModel: p.PerModel, Places: uint8(places)}, nil
}

func runTokencost(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	opt := p.opt
	var err error
	table, name := tokens.DefaultPrices(), "(runner's default)"
	if p.Prices != "" {
		name = string(p.Prices)
		if table, err = regfile.ReadFile(name); err != nil {
			return nil, fmt.Errorf("price table: %w", err)
		}
	}
	if opt.Prices, err = tokens.ParsePrices(name, table); err != nil {
		return nil, err
	}
	files, err := sourcefiles.Expand(env, p.Src)
	if err != nil {
		return nil, err
	}
	counter := tokens.NewCounter(opt)
	for _, f := range files {
		format, n, err := tokens.Read(ctx, f, counter.Add)
		if err != nil {
			return nil, err
		}
		if format == "" {
			format = "no records"
		}
		fmt.Fprintf(env.Log, "%s: %s, %d records\n", f, format, n)
	}
	days, err := counter.Days()
	if err != nil {
		return nil, err
	}
	header := []string{"date", "cost"}
	if p.PerModel {
		header = []string{"date", "model", "calls", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost"}
	}
	var rows [][]string
	var total decimal.Dec
	var calls int64
	for _, d := range days {
		if total, err = total.Add(d.Cost); err != nil {
			return nil, err
		}
		calls += d.Calls
		if p.PerModel {
			rows = append(rows, []string{d.Date, d.Model, itoa(d.Calls), itoa(d.Input), itoa(d.Output), itoa(d.CacheRead), itoa(d.CacheWrite), d.Cost.String()})
		} else {
			rows = append(rows, []string{d.Date, d.Cost.String()})
		}
	}
	dest := string(p.Dest)
	if err := tabular.WriteCSV(dest, header, rows); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "%d calls, %s %s in all, over %d row(s) → %s\n", calls, total.Grouped(), p.Currency, len(rows), dest)
	return tasktype.Outputs{"path": dest, "rows_out": len(rows), "calls": calls, "cost": total.String()}, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
