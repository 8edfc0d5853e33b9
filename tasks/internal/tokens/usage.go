package tokens

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones on machines without zoneinfo

	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/tasks/internal/decimal"
)

// Record is one priced or priceable piece of usage.
type Record struct {
	Time  time.Time
	Model string
	// Calls counts API requests (1 for a log line).
	Calls                                int64
	Input, Output, CacheRead, CacheWrite int64
	// Cost, when Known, is what the provider billed (cost exports), in USD.
	Cost  decimal.Dec
	Known bool
	// Where names the file and line or bucket, for messages.
	Where string
}

// Read reads usage records from a file, telling the format by content: a
// JSON Lines call log, or an OpenAI or Anthropic admin API usage or cost
// export (one JSON page, or several, one per line).
func Read(name string) ([]Record, string, error) {
	data, err := regfile.ReadFile(name)
	if err != nil {
		return nil, "", err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, "empty", nil
	}
	// A page of an admin API export is one object with "data": [buckets].
	var probe struct {
		Object string            `json:"object"`
		Data   []json.RawMessage `json:"data"`
	}
	first := trimmed
	if i := bytes.IndexByte(trimmed, '\n'); i > 0 && json.Valid(trimmed[:i]) {
		first = trimmed[:i]
	}
	if json.Unmarshal(first, &probe) == nil && probe.Data != nil {
		return readPages(name, trimmed)
	}
	return readLog(name, data)
}

// logLine is a call log line; the common spellings are all accepted.
type logLine struct {
	Time      *string `json:"time"`
	Timestamp *string `json:"timestamp"`
	TS        *string `json:"ts"`
	CreatedAt any     `json:"created_at"`
	Model     string  `json:"model"`
	usageFields
	Usage *usageFields `json:"usage"`
}

type usageFields struct {
	InputTokens              *int64 `json:"input_tokens"`
	OutputTokens             *int64 `json:"output_tokens"`
	PromptTokens             *int64 `json:"prompt_tokens"`
	CompletionTokens         *int64 `json:"completion_tokens"`
	CachedTokens             *int64 `json:"cached_tokens"`
	CacheReadInputTokens     *int64 `json:"cache_read_input_tokens"`
	CacheCreationInputTokens *int64 `json:"cache_creation_input_tokens"`
	PromptTokensDetails      *struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

func val(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// readLog reads JSON Lines: one call per line.
func readLog(name string, data []byte) ([]Record, string, error) {
	var out []Record
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		var l logLine
		if err := json.Unmarshal(text, &l); err != nil {
			return nil, "", fmt.Errorf("%s:%d: not a JSON object: %v", name, line, err)
		}
		at := fmt.Sprintf("%s:%d", name, line)
		t, err := lineTime(l)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", at, err)
		}
		if l.Model == "" {
			return nil, "", fmt.Errorf("%s: no model", at)
		}
		u := l.usageFields
		if l.Usage != nil {
			u = *l.Usage
		}
		r := Record{Time: t, Model: l.Model, Calls: 1, Where: at}
		cached := val(u.CachedTokens) + val(u.CacheReadInputTokens)
		if u.PromptTokensDetails != nil {
			cached += u.PromptTokensDetails.CachedTokens
		}
		switch {
		case u.PromptTokens != nil: // OpenAI: prompt tokens include the cached ones
			r.Input = val(u.PromptTokens) - cached
			r.Output = val(u.CompletionTokens)
		default: // Anthropic: input tokens exclude cache reads and writes
			r.Input = val(u.InputTokens)
			r.Output = val(u.OutputTokens)
		}
		r.CacheRead = cached
		r.CacheWrite = val(u.CacheCreationInputTokens)
		if r.Input < 0 {
			return nil, "", fmt.Errorf("%s: %d cached tokens, more than the %d prompt tokens", at, cached, val(u.PromptTokens))
		}
		if r.Output < 0 || r.CacheWrite < 0 || r.CacheRead < 0 {
			return nil, "", fmt.Errorf("%s: a negative token count", at)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, "", fmt.Errorf("read %s: %w", name, err)
	}
	return out, "jsonl call log", nil
}

func lineTime(l logLine) (time.Time, error) {
	for _, s := range []*string{l.Time, l.Timestamp, l.TS} {
		if s != nil {
			return parseTime(*s)
		}
	}
	switch v := l.CreatedAt.(type) {
	case float64:
		return time.Unix(int64(v), 0).UTC(), nil
	case string:
		return parseTime(v)
	}
	return time.Time{}, fmt.Errorf("no time (time, timestamp, ts or created_at)")
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("time %q: use RFC 3339 (2026-11-01T09:30:00+09:00) or Unix seconds", s)
}

// page is one page of an OpenAI or Anthropic admin API export.
type page struct {
	Data []struct {
		// OpenAI: Unix seconds; Anthropic: RFC 3339.
		StartTime  *int64          `json:"start_time"`
		StartingAt *string         `json:"starting_at"`
		Results    []pageResult    `json:"results"`
		Result     json.RawMessage `json:"result"`
	} `json:"data"`
}

type pageResult struct {
	Object string  `json:"object"`
	Model  *string `json:"model"`
	// OpenAI usage (organization.usage.completions.result).
	InputTokens       *int64 `json:"input_tokens"`
	OutputTokens      *int64 `json:"output_tokens"`
	InputCachedTokens *int64 `json:"input_cached_tokens"`
	NumModelRequests  *int64 `json:"num_model_requests"`
	// OpenAI costs (organization.costs.result): dollars.
	Amount json.RawMessage `json:"amount"`
	// Anthropic usage report (messages).
	UncachedInputTokens  *int64 `json:"uncached_input_tokens"`
	CacheReadInputTokens *int64 `json:"cache_read_input_tokens"`
	CacheCreation        *struct {
		Ephemeral1h int64 `json:"ephemeral_1h_input_tokens"`
		Ephemeral5m int64 `json:"ephemeral_5m_input_tokens"`
	} `json:"cache_creation"`
	// Anthropic cost report: amount in cents, as a decimal string.
	Currency string `json:"currency"`
}

func readPages(name string, data []byte) ([]Record, string, error) {
	var out []Record
	format := ""
	dec := json.NewDecoder(bytes.NewReader(data))
	for n := 1; ; n++ {
		var p page
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			return nil, "", fmt.Errorf("%s: page %d: %v", name, n, err)
		}
		for bi, b := range p.Data {
			var start time.Time
			switch {
			case b.StartTime != nil:
				start = time.Unix(*b.StartTime, 0).UTC()
			case b.StartingAt != nil:
				t, err := parseTime(*b.StartingAt)
				if err != nil {
					return nil, "", fmt.Errorf("%s: page %d bucket %d: %w", name, n, bi+1, err)
				}
				start = t
			default:
				return nil, "", fmt.Errorf("%s: page %d bucket %d has no start_time or starting_at", name, n, bi+1)
			}
			for ri, res := range b.Results {
				at := fmt.Sprintf("%s: page %d bucket %s result %d", name, n, start.Format(time.RFC3339), ri+1)
				r, kind, err := fromResult(res, start, at)
				if err != nil {
					return nil, "", err
				}
				if format == "" {
					format = kind
				}
				out = append(out, r)
			}
		}
	}
	return out, format, nil
}

func fromResult(res pageResult, start time.Time, at string) (Record, string, error) {
	r := Record{Time: start, Where: at}
	if res.Model != nil {
		r.Model = *res.Model
	}
	switch {
	case len(res.Amount) > 0 && res.Amount[0] == '{': // OpenAI costs: {"value": 0.06, "currency": "usd"}
		var a struct {
			Value    json.Number `json:"value"`
			Currency string      `json:"currency"`
		}
		if err := json.Unmarshal(res.Amount, &a); err != nil {
			return r, "", fmt.Errorf("%s: amount: %v", at, err)
		}
		if !strings.EqualFold(a.Currency, "usd") && a.Currency != "" {
			return r, "", fmt.Errorf("%s: amount in %s; only USD exports are priced", at, a.Currency)
		}
		d, _, err := decimal.Parse(a.Value.String())
		if err != nil {
			return r, "", fmt.Errorf("%s: amount: %v", at, err)
		}
		r.Cost, r.Known = d, true
		return r, "OpenAI costs export", nil
	case len(res.Amount) > 0: // Anthropic cost report: "123.45" cents
		var s string
		if err := json.Unmarshal(res.Amount, &s); err != nil {
			return r, "", fmt.Errorf("%s: amount: %v", at, err)
		}
		cents, _, err := decimal.Parse(s)
		if err != nil {
			return r, "", fmt.Errorf("%s: amount: %v", at, err)
		}
		if res.Currency != "" && !strings.EqualFold(res.Currency, "usd") {
			return r, "", fmt.Errorf("%s: amount in %s; only USD exports are priced", at, res.Currency)
		}
		r.Cost, r.Known = cents.Div(100, cents.Scale+2), true
		return r, "Anthropic cost report", nil
	case res.UncachedInputTokens != nil || res.CacheCreation != nil:
		r.Input = val(res.UncachedInputTokens)
		r.Output = val(res.OutputTokens)
		r.CacheRead = val(res.CacheReadInputTokens)
		if res.CacheCreation != nil {
			r.CacheWrite = res.CacheCreation.Ephemeral1h + res.CacheCreation.Ephemeral5m
		}
		if r.Model == "" {
			return r, "", fmt.Errorf("%s: no model: export the usage report grouped by model (group_by[]=model)", at)
		}
		return r, "Anthropic usage report", nil
	case res.InputTokens != nil:
		r.Input = val(res.InputTokens) - val(res.InputCachedTokens)
		r.CacheRead = val(res.InputCachedTokens)
		r.Output = val(res.OutputTokens)
		r.Calls = val(res.NumModelRequests)
		if r.Model == "" {
			return r, "", fmt.Errorf("%s: no model: export completions usage grouped by model (group_by=model)", at)
		}
		return r, "OpenAI usage export", nil
	}
	return r, "", fmt.Errorf("%s: neither token counts nor an amount", at)
}

// Day is one row of the result.
type Day struct {
	Date, Model                          string
	Calls                                int64
	Input, Output, CacheRead, CacheWrite int64
	Cost                                 decimal.Dec
}

// Options shape the result.
type Options struct {
	Prices *Prices
	// Location is the reporting time zone: usage is bucketed by its days.
	Location *time.Location
	// Rate converts USD into the reporting currency (1 for USD).
	Rate decimal.Dec
	// PerModel keeps one row per day and model.
	PerModel bool
	// Places is the number of decimals costs are rounded to.
	Places uint8
}

// Cost prices records and sums them per day (and model) in the time zone.
func Cost(records []Record, opt Options) ([]Day, error) {
	sums := map[[2]string]*Day{}
	for _, r := range records {
		local := r.Time.In(opt.Location)
		day := local.Format("2006-01-02")
		cost := r.Cost
		if !r.Known {
			pdate, _ := time.Parse("2006-01-02", day)
			price, err := opt.Prices.lookup(r.Model, pdate)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Where, err)
			}
			cost = decimal.Dec{}
			for _, part := range []struct {
				n int64
				p decimal.Dec
			}{{r.Input, price.input}, {r.Output, price.output}, {r.CacheRead, price.cacheRead}, {r.CacheWrite, price.cacheWrite}} {
				c, err := part.p.MulInt(part.n)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", r.Where, err)
				}
				if cost, err = cost.Add(c); err != nil {
					return nil, fmt.Errorf("%s: %w", r.Where, err)
				}
			}
			cost = cost.Div(opt.Prices.Per, decimal.MaxScale)
		}
		key := [2]string{day, ""}
		if opt.PerModel {
			key[1] = r.Model
		}
		d, ok := sums[key]
		if !ok {
			d = &Day{Date: day, Model: key[1]}
			sums[key] = d
		}
		var err error
		if d.Cost, err = d.Cost.Add(cost); err != nil {
			return nil, err
		}
		d.Calls += r.Calls
		d.Input += r.Input
		d.Output += r.Output
		d.CacheRead += r.CacheRead
		d.CacheWrite += r.CacheWrite
	}
	out := make([]Day, 0, len(sums))
	for _, d := range sums {
		c, err := d.Cost.Mul(opt.Rate)
		if err != nil {
			return nil, err
		}
		d.Cost = c.Round(opt.Places)
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Date != out[j].Date {
			return out[i].Date < out[j].Date
		}
		return out[i].Model < out[j].Model
	})
	return out, nil
}
