package tokens

import (
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/decimal"
)

func dec(s string) decimal.Dec {
	d, _, err := decimal.Parse(s)
	if err != nil {
		panic(err)
	}
	return d
}

func cost(t *testing.T, tz string, rate string, places uint8, files ...string) map[string]string {
	t.Helper()
	prices, err := ParsePrices("default", DefaultPrices())
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(tz)
	var records []Record
	for _, f := range files {
		recs, err := readFile("testdata/" + f)
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, recs...)
	}
	days, err := Cost(records, Options{Prices: prices, Location: loc, Rate: dec(rate), Places: places})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range days {
		out[d.Date] = d.Cost.String()
	}
	return out
}

// TestEveryFormatGivesItsKnownCost prices each input format on its own; the
// expected figures are worked out by hand in the comments.
func TestEveryFormatGivesItsKnownCost(t *testing.T) {
	cases := []struct {
		file string
		want map[string]string
	}{
		// Sonnet 4.5: 1M in × $3 + 0.1M out × $15 + 1M cache read × $0.3 + 0.1M cache write × $3.75 = 5.175;
		// gpt-4o-mini: 0.8M uncached × $0.15 + 0.2M cached × $0.075 + 1M out × $0.6 = 0.735.
		{"calls.jsonl", map[string]string{"2026-11-01": "5.91"}},
		// gpt-4o: 1M uncached × $2.5 + 1M cached × $1.25 + 0.1M out × $10 = 4.75.
		{"openai-usage.json", map[string]string{"2026-11-01": "4.75"}},
		// Billed amounts, dollars: 0.06 + 1.5.
		{"openai-costs.json", map[string]string{"2026-11-01": "1.56"}},
		// Haiku 4.5, hourly buckets: 14:00Z is 23:00 in Seoul (1M in × $1), 15:00Z is midnight (1M cache write × $1.25 + 1M out × $5).
		{"anthropic-usage.json", map[string]string{"2026-11-01": "1", "2026-11-02": "6.25"}},
		// "12345.6" cents.
		{"anthropic-cost.json", map[string]string{"2026-11-02": "123.456"}},
	}
	for _, c := range cases {
		got := cost(t, "Asia/Seoul", "1", 6, c.file)
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.file, got, c.want)
		}
		for day, w := range c.want {
			if got[day] != w {
				t.Errorf("%s: %s costs %s, want %s", c.file, day, got[day], w)
			}
		}
	}
	// In UTC both hourly buckets fall on November 1st.
	if got := cost(t, "UTC", "1", 6, "anthropic-usage.json"); got["2026-11-01"] != "7.25" || len(got) != 1 {
		t.Errorf("UTC buckets: %v", got)
	}
	// In won at 1,385.5 per dollar, rounded to whole won: 5.91 × 1385.5 = 8188.305.
	if got := cost(t, "Asia/Seoul", "1385.5", 0, "calls.jsonl"); got["2026-11-01"] != "8188" {
		t.Errorf("KRW: %v", got)
	}
}

func TestPricesTakeEffectOnTheirDay(t *testing.T) {
	table := `per: 1000000
models:
  - match: house-model*
    prices:
      - {from: 2026-11-02, input: 2, output: 0}
      - {from: 2026-01-01, input: 1, output: 0}
`
	prices, err := ParsePrices("house", []byte(table))
	if err != nil {
		t.Fatal(err)
	}
	day := func(d int) time.Time { return time.Date(2026, 11, d, 3, 0, 0, 0, time.UTC) }
	recs := []Record{{Time: day(1), Model: "house-model-v2", Input: 1_000_000}, {Time: day(2), Model: "house-model-v2", Input: 1_000_000}}
	days, err := Cost(recs, Options{Prices: prices, Location: time.UTC, Rate: dec("1"), Places: 4})
	if err != nil {
		t.Fatal(err)
	}
	if days[0].Cost.String() != "1" || days[1].Cost.String() != "2" {
		t.Fatalf("costs %v %v, want 1 then 2", days[0].Cost, days[1].Cost)
	}
	_, err = Cost([]Record{{Time: day(1), Model: "mystery-9", Input: 1, Where: "log.jsonl:7"}}, Options{Prices: prices, Location: time.UTC, Rate: dec("1")})
	if err == nil || !strings.Contains(err.Error(), `log.jsonl:7: unknown model "mystery-9": the price table knows house-model*`) {
		t.Fatalf("error %v", err)
	}
	wild, _ := ParsePrices("wild", []byte(table+"  - match: \"*\"\n    prices:\n      - {from: 2020-01-01, input: 9, output: 9}\n"))
	days, err = Cost([]Record{{Time: day(1), Model: "mystery-9", Input: 1_000_000}}, Options{Prices: wild, Location: time.UTC, Rate: dec("1"), Places: 2})
	if err != nil || days[0].Cost.String() != "9" {
		t.Fatalf("wildcard: %v %v", days, err)
	}
	if _, err := ParsePrices("bad", []byte("models:\n  - match: x\n    prices:\n      - {from: 11/01/2026, input: 1}\n")); err == nil || !strings.Contains(err.Error(), `from "11/01/2026": use YYYY-MM-DD`) {
		t.Fatalf("bad date: %v", err)
	}
}

func TestBadLogLinesNameTheirLine(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"{\"time\": \"2026-11-01T00:00:00Z\", \"model\": \"gpt-4o\", \"input_tokens\": 1}\nnot json\n", "bad.jsonl:2: not a JSON object"},
		{"{\"model\": \"gpt-4o\", \"input_tokens\": 1}\n", "bad.jsonl:1: no time"},
		{"{\"time\": \"yesterday\", \"model\": \"gpt-4o\"}\n", `bad.jsonl:1: time "yesterday"`},
		{"{\"time\": \"2026-11-01T00:00:00Z\", \"usage\": {\"prompt_tokens\": 5, \"prompt_tokens_details\": {\"cached_tokens\": 9}}, \"model\": \"gpt-4o\"}\n", "bad.jsonl:1: 9 cached tokens, more than the 5 prompt tokens"},
	} {
		path := t.TempDir() + "/bad.jsonl"
		if err := writeFile(path, c.body); err != nil {
			t.Fatal(err)
		}
		_, err := readFile(path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
