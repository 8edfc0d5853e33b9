package tokens

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones on machines without zoneinfo

	"github.com/novelfactory/runner/internal/decimal"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/internal/tabular"
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

// maxLine is the longest line of a call log (and the largest page of an
// export) read: memory stays bounded whatever the file holds.
var maxLine = 64 << 20

// Read reads the usage records of a file, one after the other, calling fn
// for each; it tells the format by content: a JSON Lines call log, or an
// OpenAI or Anthropic admin API usage or cost export (one JSON page, or
// several, one per line). The file is streamed: memory does not grow with
// it. It returns the format and the number of records.
func Read(ctx context.Context, name string, fn func(Record) error) (string, int, error) {
	f, err := regfile.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	// A page of an admin API export is one object with "data": [buckets];
	// a call log's first value is a call.
	var probe struct {
		Data json.RawMessage `json:"data"`
	}
	pages := json.NewDecoder(io.LimitReader(f, int64(maxLine))).Decode(&probe) == nil && bytes.HasPrefix(probe.Data, []byte("["))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", 0, fmt.Errorf("read %s: %w", name, err)
	}
	if pages {
		return ReadPages(ctx, name, f, fn)
	}
	return readLog(ctx, name, f, fn)
}

// logLine is a call log line; the common spellings are all accepted.
// Values are kept raw and read by hand, so that a wrong one is named for
// what it is (a negative count, a time in milliseconds), not with
// encoding/json's words.
type logLine struct {
	Time      json.RawMessage `json:"time"`
	Timestamp json.RawMessage `json:"timestamp"`
	TS        json.RawMessage `json:"ts"`
	CreatedAt json.RawMessage `json:"created_at"`
	Model     json.RawMessage `json:"model"`
	usageFields
	Usage json.RawMessage `json:"usage"`
}

type usageFields struct {
	InputTokens              json.RawMessage `json:"input_tokens"`
	OutputTokens             json.RawMessage `json:"output_tokens"`
	PromptTokens             json.RawMessage `json:"prompt_tokens"`
	CompletionTokens         json.RawMessage `json:"completion_tokens"`
	CachedTokens             json.RawMessage `json:"cached_tokens"`
	CacheReadInputTokens     json.RawMessage `json:"cache_read_input_tokens"`
	CacheCreationInputTokens json.RawMessage `json:"cache_creation_input_tokens"`
	PromptTokensDetails      json.RawMessage `json:"prompt_tokens_details"`
}

// absent says whether a raw value is missing or null.
func absent(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// count reads a token count: a whole number, not negative (a numeric
// string is taken too); missing or null is 0.
func count(field string, raw json.RawMessage) (int64, error) {
	if absent(raw) {
		return 0, nil
	}
	text := string(raw)
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &text); err != nil {
			return 0, fmt.Errorf("%s is %s: give a whole number", field, tabular.Excerpt(string(raw)))
		}
	}
	if n, err := strconv.ParseInt(text, 10, 64); err == nil {
		if n < 0 {
			return 0, fmt.Errorf("%s is %d: token counts cannot be negative", field, n)
		}
		return n, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange), math.IsNaN(f), math.IsInf(f, 0) && err == nil:
		return 0, fmt.Errorf("%s is %s: give a whole number", field, tabular.Excerpt(string(raw)))
	case f < 0:
		return 0, fmt.Errorf("%s is %s: token counts cannot be negative", field, tabular.Excerpt(text))
	case err != nil || f >= 1<<62:
		return 0, fmt.Errorf("%s is %s: too large for a token count", field, tabular.Excerpt(text))
	case f != math.Trunc(f):
		return 0, fmt.Errorf("%s is %s: token counts are whole numbers", field, tabular.Excerpt(text))
	}
	return int64(f), nil // 1e6, 5.0
}

// countField is a token count to read into dst.
type countField struct {
	name string
	raw  json.RawMessage
	dst  *int64
}

// counts reads token counts; the first wrong one is the error.
func counts(fields ...countField) error {
	for _, f := range fields {
		n, err := count(f.name, f.raw)
		if err != nil {
			return err
		}
		*f.dst = n
	}
	return nil
}

// str reads a string field.
func str(field string, raw json.RawMessage, what string) (string, error) {
	var s string
	if absent(raw) {
		return "", nil
	}
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", fmt.Errorf("%s is %s: give %s as a string", field, tabular.Excerpt(string(raw)), what)
	}
	return s, nil
}

// readLog reads JSON Lines: one call per line.
func readLog(ctx context.Context, name string, r io.Reader, fn func(Record) error) (string, int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	line, n := 0, 0
	for sc.Scan() {
		line++
		if line%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return "", n, err
			}
		}
		text := bytes.TrimSpace(sc.Bytes())
		if line == 1 {
			text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf")) // a BOM, as Windows editors write
		}
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		at := fmt.Sprintf("%s:%d", name, line)
		rec, err := logRecord(text, at)
		if err != nil {
			return "", n, fmt.Errorf("%s: %w", at, err)
		}
		if err := fn(rec); err != nil {
			return "", n, err
		}
		n++
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return "", n, fmt.Errorf("%s:%d: a line longer than %d MiB: not a call log", name, line+1, maxLine>>20)
	} else if err != nil {
		return "", n, fmt.Errorf("read %s: %w", name, err)
	}
	return "jsonl call log", n, nil
}

// logRecord reads one line of a call log.
func logRecord(text []byte, at string) (Record, error) {
	var l logLine
	switch text[0] {
	case '{':
	case '[':
		return Record{}, errors.New("a JSON array, not a JSON object: write one call per line (JSON Lines)")
	default:
		return Record{}, errors.New("not a JSON object")
	}
	if err := json.Unmarshal(text, &l); err != nil {
		return Record{}, fmt.Errorf("not a JSON object: %s", tabular.Cut(err.Error()))
	}
	t, err := lineTime(l)
	if err != nil {
		return Record{}, err
	}
	model, err := str("model", l.Model, "the model's name")
	if err != nil {
		return Record{}, err
	}
	if model == "" {
		return Record{}, errors.New("no model")
	}
	u := l.usageFields
	if !absent(l.Usage) {
		u = usageFields{}
		if l.Usage[0] != '{' || json.Unmarshal(l.Usage, &u) != nil {
			return Record{}, fmt.Errorf("usage is %s: give an object of token counts", tabular.Excerpt(string(l.Usage)))
		}
	}
	var c struct {
		input, output, prompt, completion, cached, cacheRead, cacheWrite, details int64
	}
	if err := counts(
		countField{"input_tokens", u.InputTokens, &c.input}, countField{"output_tokens", u.OutputTokens, &c.output},
		countField{"prompt_tokens", u.PromptTokens, &c.prompt}, countField{"completion_tokens", u.CompletionTokens, &c.completion},
		countField{"cached_tokens", u.CachedTokens, &c.cached}, countField{"cache_read_input_tokens", u.CacheReadInputTokens, &c.cacheRead},
		countField{"cache_creation_input_tokens", u.CacheCreationInputTokens, &c.cacheWrite},
	); err != nil {
		return Record{}, err
	}
	if !absent(u.PromptTokensDetails) {
		var d struct {
			CachedTokens json.RawMessage `json:"cached_tokens"`
		}
		if u.PromptTokensDetails[0] != '{' || json.Unmarshal(u.PromptTokensDetails, &d) != nil {
			return Record{}, fmt.Errorf("prompt_tokens_details is %s: give an object", tabular.Excerpt(string(u.PromptTokensDetails)))
		}
		if c.details, err = count("prompt_tokens_details.cached_tokens", d.CachedTokens); err != nil {
			return Record{}, err
		}
	}
	r := Record{Time: t, Model: model, Calls: 1, Where: at}
	cached, ok := add(c.cached, c.cacheRead, c.details)
	if !ok {
		return Record{}, errors.New("cached token counts too large to add up")
	}
	switch {
	case !absent(u.PromptTokens): // OpenAI: prompt tokens include the cached ones
		if cached > c.prompt {
			return Record{}, fmt.Errorf("%d cached tokens, more than the %d prompt tokens", cached, c.prompt)
		}
		r.Input = c.prompt - cached
		r.Output = c.completion
	default: // Anthropic: input tokens exclude cache reads and writes
		r.Input = c.input
		r.Output = c.output
	}
	r.CacheRead = cached
	r.CacheWrite = c.cacheWrite
	return r, nil
}

// add sums counts, saying whether the sum fits.
func add(ns ...int64) (int64, bool) {
	var sum int64
	for _, n := range ns {
		if n > math.MaxInt64-sum {
			return 0, false
		}
		sum += n
	}
	return sum, true
}

// The times runner reads: usage outside them is a clock set wrong or a
// number in the wrong unit, not a day to price.
const firstYear, lastYear = 2000, 2099

func lineTime(l logLine) (time.Time, error) {
	for _, f := range []struct {
		name string
		raw  json.RawMessage
	}{{"time", l.Time}, {"timestamp", l.Timestamp}, {"ts", l.TS}, {"created_at", l.CreatedAt}} {
		if !absent(f.raw) {
			return parseTime(f.name, f.raw)
		}
	}
	return time.Time{}, fmt.Errorf("no time (time, timestamp, ts or created_at)")
}

// parseTime reads a time: RFC 3339 (or without its zone, as UTC), or Unix
// seconds — as a JSON number or string, with a fraction or not — or Unix
// milliseconds (13 digits), in 2000–2099.
func parseTime(field string, raw json.RawMessage) (time.Time, error) {
	text := string(raw)
	quoted := raw[0] == '"'
	if quoted && json.Unmarshal(raw, &text) != nil {
		quoted = false
	}
	var t time.Time
	parsed := false
	if quoted {
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
			if v, err := time.Parse(layout, text); err == nil {
				t, parsed = v, true
				break
			}
		}
	}
	if !parsed {
		f, err := strconv.ParseFloat(text, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(text, "xX") {
			return time.Time{}, fmt.Errorf("%s %s: use RFC 3339 (2026-11-01T09:30:00+09:00) or Unix seconds", field, tabular.Excerpt(string(raw)))
		}
		switch a := math.Abs(f); {
		case a >= 1e14:
			return time.Time{}, fmt.Errorf("%s %s is neither Unix seconds nor milliseconds (it would be after the year 5000)", field, tabular.Excerpt(string(raw)))
		case a >= 1e11: // 13 digits: milliseconds (seconds would be after 5138)
			f /= 1000
		}
		sec, frac := math.Modf(f)
		t = time.Unix(int64(sec), int64(frac*1e9)).UTC()
	}
	if y := t.Year(); y < firstYear || y > lastYear {
		return time.Time{}, fmt.Errorf("%s %s is in %d: runner reads times from %d to %d (a clock set wrong, or a number in the wrong unit?)", field, tabular.Excerpt(string(raw)), y, firstYear, lastYear)
	}
	return t, nil
}

// page is one page of an OpenAI or Anthropic admin API export.
type page struct {
	Data []struct {
		// OpenAI: Unix seconds; Anthropic: RFC 3339.
		StartTime  json.RawMessage `json:"start_time"`
		StartingAt json.RawMessage `json:"starting_at"`
		Results    []pageResult    `json:"results"`
	} `json:"data"`
}

type pageResult struct {
	Model json.RawMessage `json:"model"`
	// OpenAI usage (organization.usage.completions.result).
	InputTokens       json.RawMessage `json:"input_tokens"`
	OutputTokens      json.RawMessage `json:"output_tokens"`
	InputCachedTokens json.RawMessage `json:"input_cached_tokens"`
	NumModelRequests  json.RawMessage `json:"num_model_requests"`
	// OpenAI costs (organization.costs.result): dollars.
	Amount json.RawMessage `json:"amount"`
	// Anthropic usage report (messages).
	UncachedInputTokens  json.RawMessage `json:"uncached_input_tokens"`
	CacheReadInputTokens json.RawMessage `json:"cache_read_input_tokens"`
	CacheCreation        json.RawMessage `json:"cache_creation"`
	// Anthropic cost report: amount in cents, as a decimal string.
	Currency json.RawMessage `json:"currency"`
}

// budget ends a read that passes its limit: no page may be larger.
type budget struct {
	r    io.Reader
	left int64
}

var errPageTooLarge = errors.New("page too large")

func (b *budget) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errPageTooLarge
	}
	n, err := b.r.Read(p[:min(int64(len(p)), b.left)])
	b.left -= int64(n)
	return n, err
}

// ReadPages reads the pages of an admin API export from r (name names it in
// messages), one JSON page after the other, calling fn for each record, as
// Read does for a file of them. It returns the format and the number of
// records.
func ReadPages(ctx context.Context, name string, r io.Reader, fn func(Record) error) (string, int, error) {
	format, records := "", 0
	in := &budget{r: r}
	dec := json.NewDecoder(in)
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return "", records, err
		}
		in.left = int64(maxLine)
		var p page
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if errors.Is(err, errPageTooLarge) {
			return "", records, fmt.Errorf("%s: page %d is larger than %d MiB", name, n, maxLine>>20)
		} else if err != nil {
			return "", records, fmt.Errorf("%s: page %d: %s", name, n, tabular.Cut(err.Error()))
		}
		for bi, b := range p.Data {
			var start time.Time
			var err error
			switch {
			case !absent(b.StartTime):
				start, err = parseTime("start_time", b.StartTime)
			case !absent(b.StartingAt):
				start, err = parseTime("starting_at", b.StartingAt)
			default:
				err = errors.New("no start_time or starting_at")
			}
			if err != nil {
				return "", records, fmt.Errorf("%s: page %d bucket %d: %w", name, n, bi+1, err)
			}
			for ri, res := range b.Results {
				at := fmt.Sprintf("%s: page %d bucket %s result %d", name, n, start.Format(time.RFC3339), ri+1)
				r, kind, err := fromResult(res, start, at)
				if err != nil {
					return "", records, fmt.Errorf("%s: %w", at, err)
				}
				if format == "" {
					format = kind
				}
				if err := fn(r); err != nil {
					return "", records, err
				}
				records++
			}
		}
	}
	return format, records, nil
}

func fromResult(res pageResult, start time.Time, at string) (Record, string, error) {
	r := Record{Time: start, Where: at}
	var err error
	if r.Model, err = str("model", res.Model, "the model's name"); err != nil {
		return r, "", err
	}
	currency, err := str("currency", res.Currency, "the currency")
	if err != nil {
		return r, "", err
	}
	switch {
	case len(res.Amount) > 0 && res.Amount[0] == '{': // OpenAI costs: {"value": 0.06, "currency": "usd"}
		var a struct {
			Value    json.Number `json:"value"`
			Currency string      `json:"currency"`
		}
		if err := json.Unmarshal(res.Amount, &a); err != nil {
			return r, "", fmt.Errorf("amount is %s: give {\"value\": dollars, \"currency\": \"usd\"}", tabular.Excerpt(string(res.Amount)))
		}
		if !strings.EqualFold(a.Currency, "usd") && a.Currency != "" {
			return r, "", fmt.Errorf("amount in %s; only USD exports are priced", tabular.Quote(a.Currency))
		}
		d, _, err := decimal.Parse(a.Value.String())
		if err != nil {
			return r, "", fmt.Errorf("amount %s %v", tabular.Quote(a.Value.String()), err)
		}
		r.Cost, r.Known = d, true
		return r, "OpenAI costs export", nil
	case !absent(res.Amount): // Anthropic cost report: "123.45" cents
		var s string
		if err := json.Unmarshal(res.Amount, &s); err != nil {
			return r, "", fmt.Errorf("amount is %s: give cents as a decimal string", tabular.Excerpt(string(res.Amount)))
		}
		cents, _, err := decimal.Parse(s)
		if err != nil {
			return r, "", fmt.Errorf("amount %s %v", tabular.Quote(s), err)
		}
		if currency != "" && !strings.EqualFold(currency, "usd") {
			return r, "", fmt.Errorf("amount in %s; only USD exports are priced", tabular.Quote(currency))
		}
		r.Cost, r.Known = cents.Div(100, cents.Scale+2), true
		return r, "Anthropic cost report", nil
	case !absent(res.UncachedInputTokens) || !absent(res.CacheCreation):
		var e1h, e5m int64
		if !absent(res.CacheCreation) {
			var cc struct {
				Ephemeral1h json.RawMessage `json:"ephemeral_1h_input_tokens"`
				Ephemeral5m json.RawMessage `json:"ephemeral_5m_input_tokens"`
			}
			if res.CacheCreation[0] != '{' || json.Unmarshal(res.CacheCreation, &cc) != nil {
				return r, "", fmt.Errorf("cache_creation is %s: give an object of token counts", tabular.Excerpt(string(res.CacheCreation)))
			}
			if err := counts(countField{"ephemeral_1h_input_tokens", cc.Ephemeral1h, &e1h}, countField{"ephemeral_5m_input_tokens", cc.Ephemeral5m, &e5m}); err != nil {
				return r, "", err
			}
		}
		if err := counts(countField{"uncached_input_tokens", res.UncachedInputTokens, &r.Input}, countField{"output_tokens", res.OutputTokens, &r.Output},
			countField{"cache_read_input_tokens", res.CacheReadInputTokens, &r.CacheRead}); err != nil {
			return r, "", err
		}
		var ok bool
		if r.CacheWrite, ok = add(e1h, e5m); !ok {
			return r, "", errors.New("cache_creation: token counts too large to add up")
		}
		if r.Model == "" {
			return r, "", errors.New("no model: export the usage report grouped by model (group_by[]=model)")
		}
		return r, "Anthropic usage report", nil
	case !absent(res.InputTokens):
		var input, cached int64
		if err := counts(countField{"input_tokens", res.InputTokens, &input}, countField{"input_cached_tokens", res.InputCachedTokens, &cached},
			countField{"output_tokens", res.OutputTokens, &r.Output}, countField{"num_model_requests", res.NumModelRequests, &r.Calls}); err != nil {
			return r, "", err
		}
		if cached > input {
			return r, "", fmt.Errorf("%d cached tokens, more than the %d input tokens", cached, input)
		}
		r.Input, r.CacheRead = input-cached, cached
		if r.Model == "" {
			return r, "", errors.New("no model: export completions usage grouped by model (group_by=model)")
		}
		return r, "OpenAI usage export", nil
	}
	return r, "", errors.New("neither token counts nor an amount")
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

// Counter prices records as they come and sums them per day (and model)
// in the time zone: memory grows with the days, not the records.
type Counter struct {
	opt  Options
	sums map[[2]string]*Day
}

// NewCounter starts a count.
func NewCounter(opt Options) *Counter { return &Counter{opt: opt, sums: map[[2]string]*Day{}} }

// Add prices a record and adds it to its day.
func (c *Counter) Add(r Record) error {
	opt := c.opt
	local := r.Time.In(opt.Location)
	day := local.Format("2006-01-02")
	cost := r.Cost
	if !r.Known {
		pdate, _ := time.Parse("2006-01-02", day)
		price, err := opt.Prices.lookup(r.Model, pdate)
		if err != nil {
			return fmt.Errorf("%s: %w", r.Where, err)
		}
		cost = decimal.Dec{}
		for _, part := range []struct {
			n int64
			p decimal.Dec
		}{{r.Input, price.input}, {r.Output, price.output}, {r.CacheRead, price.cacheRead}, {r.CacheWrite, price.cacheWrite}} {
			c, err := part.p.MulInt(part.n)
			if err == nil {
				cost, err = cost.Add(c)
			}
			if err != nil {
				return fmt.Errorf("%s: a cost too large to sum exactly", r.Where)
			}
		}
		cost = cost.Div(opt.Prices.Per, decimal.MaxScale)
	}
	key := [2]string{day, ""}
	if opt.PerModel {
		key[1] = r.Model
	}
	d, ok := c.sums[key]
	if !ok {
		d = &Day{Date: day, Model: key[1]}
		c.sums[key] = d
	}
	sum, err := d.Cost.Add(cost)
	if err != nil {
		return fmt.Errorf("%s: the day's cost is too large to sum exactly", r.Where)
	}
	for _, f := range []struct{ sum, n *int64 }{{&d.Calls, &r.Calls}, {&d.Input, &r.Input}, {&d.Output, &r.Output}, {&d.CacheRead, &r.CacheRead}, {&d.CacheWrite, &r.CacheWrite}} {
		if _, ok := add(*f.sum, *f.n); !ok {
			return fmt.Errorf("%s: the day's token counts are too large to add up", r.Where)
		}
	}
	d.Cost = sum
	d.Calls += r.Calls
	d.Input += r.Input
	d.Output += r.Output
	d.CacheRead += r.CacheRead
	d.CacheWrite += r.CacheWrite
	return nil
}

// Days gives the sums, converted at the rate and rounded, by day (and
// model).
func (c *Counter) Days() ([]Day, error) {
	out := make([]Day, 0, len(c.sums))
	for _, d := range c.sums {
		cost, err := d.Cost.Mul(c.opt.Rate)
		if err != nil {
			return nil, fmt.Errorf("%s: the day's cost is too large to convert at the rate exactly", d.Date)
		}
		d.Cost = cost.Round(c.opt.Places)
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

// Cost prices records and sums them per day (and model) in the time zone.
func Cost(records []Record, opt Options) ([]Day, error) {
	c := NewCounter(opt)
	for _, r := range records {
		if err := c.Add(r); err != nil {
			return nil, err
		}
	}
	return c.Days()
}
