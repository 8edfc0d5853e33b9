package tokens

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestEveryTimeFieldTakesUnixTime: the docs name time, timestamp, ts and
// created_at, RFC 3339 or Unix seconds. A number worked for created_at
// only; time and ts failed with "json: cannot unmarshal number into Go
// struct field logLine.time of type string". Milliseconds (13 digits,
// what JavaScript's Date.now() writes) were read as seconds: year 57807,
// priced without a word.
func TestEveryTimeFieldTakesUnixTime(t *testing.T) {
	for _, field := range []string{"time", "timestamp", "ts", "created_at"} {
		for _, v := range []string{"1793577600", `"1793577600"`, "1793577600.25", "1793577600000", `"2026-11-02T00:00:00Z"`} {
			line := `{"` + field + `": ` + v + `, "model": "gpt-4o", "input_tokens": 1}`
			recs := readString(t, line)
			if len(recs) != 1 || recs[0].Time.UTC().Format("2006-01-02T15") != "2026-11-02T00" {
				t.Errorf("%s: %v", line, recs)
			}
		}
	}
}

// TestABOMIsNoError: a log saved by a Windows editor starts with a BOM:
// "not a JSON object: invalid character 'ï' looking for beginning of value".
func TestABOMIsNoError(t *testing.T) {
	if recs := readString(t, "\ufeff"+`{"time": "2026-11-01T00:00:00Z", "model": "gpt-4o", "input_tokens": 1}`); len(recs) != 1 {
		t.Fatalf("records %v", recs)
	}
}

// TestBadUsageIsNamedForWhatItIs: each is an error naming file, line, the
// field and what is wrong, never a Go-internal message or a quiet
// wrong cost.
func TestBadUsageIsNamedForWhatItIs(t *testing.T) {
	const ok = `"time": "2026-11-01T00:00:00Z", "model": "gpt-4o"`
	for _, c := range []struct{ line, want string }{
		{`{` + ok + `, "input_tokens": -5}`, "bad.jsonl:1: input_tokens is -5: token counts cannot be negative"},
		{`{` + ok + `, "output_tokens": -1}`, "bad.jsonl:1: output_tokens is -1: token counts cannot be negative"},
		{`{` + ok + `, "usage": {"prompt_tokens": -3}}`, "bad.jsonl:1: prompt_tokens is -3: token counts cannot be negative"},
		{`{` + ok + `, "input_tokens": 5.5}`, "bad.jsonl:1: input_tokens is 5.5: token counts are whole numbers"},
		{`{` + ok + `, "input_tokens": 99999999999999999999}`, "bad.jsonl:1: input_tokens is 99999999999999999999: too large for a token count"},
		{`{` + ok + `, "input_tokens": 1e300}`, "bad.jsonl:1: input_tokens is 1e300: too large for a token count"},
		{`{` + ok + `, "input_tokens": "many"}`, `bad.jsonl:1: input_tokens is "many": give a whole number`},
		{`{` + ok + `, "input_tokens": true}`, `bad.jsonl:1: input_tokens is true: give a whole number`},
		{`{"time": "2026-11-01T00:00:00Z", "model": 4, "input_tokens": 1}`, `bad.jsonl:1: model is 4: give the model's name as a string`},
		{`{"time": "2999-01-01T00:00:00Z", "model": "gpt-4o"}`, `bad.jsonl:1: time "2999-01-01T00:00:00Z" is in 2999: runner reads times from 2000 to 2099 (a clock set wrong, or a number in the wrong unit?)`},
		{`{"ts": 1793577600000000, "model": "gpt-4o"}`, `bad.jsonl:1: ts 1793577600000000 is neither Unix seconds nor milliseconds`},
		{`{"ts": -1, "model": "gpt-4o"}`, `bad.jsonl:1: ts -1 is in 1969`},
		{`{"ts": {"a": 1}, "model": "gpt-4o"}`, `bad.jsonl:1: ts {"a": 1}: use RFC 3339 (2026-11-01T09:30:00+09:00) or Unix seconds`},
		{`[1, 2]`, `bad.jsonl:1: a JSON array, not a JSON object: write one call per line (JSON Lines)`},
		{`"call"`, `bad.jsonl:1: not a JSON object`},
	} {
		path := t.TempDir() + "/bad.jsonl"
		if err := writeFile(path, c.line+"\n"); err != nil {
			t.Fatal(err)
		}
		_, err := readFile(path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.line, err, c.want)
		}
	}
}

// TestCountsThatOverflowAreErrors: a day's token counts were summed in
// int64 without a check: two calls of 5e18 free tokens made a negative
// count in the per_model table.
func TestCountsThatOverflowAreErrors(t *testing.T) {
	prices, err := ParsePrices("free", []byte("models:\n  - match: \"*\"\n    prices:\n      - {from: 2020-01-01, input: 0, output: 0}\n"))
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	recs := []Record{{Time: day, Model: "m", Input: 5e18, Where: "log.jsonl:1"}, {Time: day, Model: "m", Input: 5e18, Where: "log.jsonl:2"}}
	days, err := Cost(recs, Options{Prices: prices, Location: time.UTC, Rate: dec("1"), PerModel: true})
	if err == nil || !strings.Contains(err.Error(), "log.jsonl:2: the day's token counts are too large to add up") {
		t.Fatalf("days %v, error %v", days, err)
	}
}

// TestLongValuesAreCutInMessages: an unknown model named with 10 MB made
// a 10 MB error; a line longer than the limit is named.
func TestLongValuesAreCutInMessages(t *testing.T) {
	prices, _ := ParsePrices("default", DefaultPrices())
	huge := strings.Repeat("m", 10<<20)
	_, err := Cost([]Record{{Time: time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC), Model: huge, Input: 1, Where: "log.jsonl:1"}}, Options{Prices: prices, Location: time.UTC, Rate: dec("1")})
	if err == nil || len(err.Error()) > 2000 || !strings.Contains(err.Error(), `log.jsonl:1: unknown model "mmm`) || !strings.Contains(err.Error(), "… (10485760 bytes)") {
		t.Fatalf("a %d-byte error", len(err.Error()))
	}
	defer func(n int) { maxLine = n }(maxLine)
	maxLine = 1 << 20
	path := t.TempDir() + "/log.jsonl"
	if err := writeFile(path, `{"time": "2026-11-01T00:00:00Z", "model": "`+huge+`"}`+"\n"); err != nil {
		t.Fatal(err)
	}
	_, err = readFile(path)
	if err == nil || len(err.Error()) > 2000 || !strings.Contains(err.Error(), "log.jsonl:1: a line longer than 1 MiB") {
		t.Fatalf("error %.300v", err)
	}
}

// TestCallLogsStream: a call log was read whole, and every record kept,
// before any was priced; the heap now stays far below the file's size.
func TestCallLogsStream(t *testing.T) {
	path := t.TempDir() + "/big.jsonl"
	var sb strings.Builder
	for i := range 150_000 {
		fmt.Fprintf(&sb, `{"time": "2026-11-%02dT03:00:00Z", "model": "claude-sonnet-4-5-20250929", "input_tokens": %d, "output_tokens": 300, "project": "Ember"}`+"\n", 1+i%30, i%5000)
	}
	size := sb.Len()
	if err := writeFile(path, sb.String()); err != nil {
		t.Fatal(err)
	}
	sb = strings.Builder{}
	prices, _ := ParsePrices("default", DefaultPrices())
	c := NewCounter(Options{Prices: prices, Location: time.UTC, Rate: dec("1"), Places: 4})
	var peak uint64
	n := 0
	_, _, err := Read(context.Background(), path, func(r Record) error {
		if n++; n%25_000 == 0 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
		return c.Add(r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if days, _ := c.Days(); len(days) != 30 || n != 150_000 {
		t.Fatalf("%d records, %d days", n, len(days))
	}
	t.Logf("peak live heap %d KiB for a %d MiB log", peak>>10, size>>20)
	if peak > uint64(size/4) {
		t.Fatalf("the heap reached %d MiB reading a %d MiB log", peak>>20, size>>20)
	}
}
