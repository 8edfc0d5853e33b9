package finance_test

import (
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/finance"
)

// testdata/finance.csv is out of date order, misses a sales value, and
// has negative and fractional numbers.

func TestSummarizeGivesTheSeriesOldestFirstAndTheTotals(t *testing.T) {
	s, err := finance.Summarize(context.Background(), "testdata/finance.csv", finance.Options{Unit: "원", Labels: map[string]string{"cost": "비용"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Latest != "2026-03-01" || s.Unit != "원" || s.Source != "testdata/finance.csv" {
		t.Errorf("latest %s, unit %s, source %s", s.Latest, s.Unit, s.Source)
	}
	if want := []string{"2026-01-31", "2026-02-10", "2026-02-27", "2026-02-28", "2026-03-01"}; !reflect.DeepEqual(s.Dates, want) {
		t.Errorf("dates %v, want %v", s.Dates, want)
	}
	if len(s.Series) != 3 || s.Series[0].Name != "비용" || s.Series[1].Name != "sales" {
		t.Fatalf("series %+v", s.Series)
	}
	sales := s.Series[1]
	if !reflect.DeepEqual(sales.Exact, []string{"60", "100", "2500.5", "0", ""}) || !math.IsNaN(sales.Values[4]) || sales.Values[2] != 2500.5 {
		t.Errorf("sales %+v", sales)
	}
	want := []finance.Card{
		{Name: "비용", Totals: []finance.Total{{"최근 7일", "12,347,878 원", false}, {"최근 30일", "12,348,228 원", false}, {"2026년 3월", "1,200 원", false}}},
		{Name: "sales", Totals: []finance.Total{{"최근 7일", "2,500.5 원", false}, {"최근 30일", "2,660.5 원", false}, {"2026년 3월", "0 원", false}}},
		{Name: "profit", Totals: []finance.Total{{"최근 7일", "-12,345,377.5 원", true}, {"최근 30일", "-12,345,567.5 원", true}, {"2026년 3월", "-1,200 원", true}}},
	}
	if !reflect.DeepEqual(s.Cards, want) {
		t.Errorf("cards\n%+v\nwant\n%+v", s.Cards, want)
	}
}

func TestSummarizeInEnglishAndSomeColumns(t *testing.T) {
	s, err := finance.Summarize(context.Background(), "testdata/finance.csv", finance.Options{Columns: []string{"profit"}, Language: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Cards) != 1 || s.Cards[0].Totals[2] != (finance.Total{Label: "2026-03", Value: "-1,200", Neg: true}) || s.Cards[0].Totals[0].Label != "Last 7 days" {
		t.Errorf("cards %+v", s.Cards)
	}
	if _, err := finance.Summarize(context.Background(), "testdata/finance.csv", finance.Options{Language: "fr"}); err == nil || !strings.Contains(err.Error(), "ko or en") {
		t.Errorf("language fr: %v", err)
	}
	if _, err := finance.Summarize(context.Background(), "testdata/missing.csv", finance.Options{}); err == nil {
		t.Error("a missing file gave no error")
	}
}

func TestASummaryIsJSONWithNullForAMissingValue(t *testing.T) {
	s, err := finance.Summarize(context.Background(), "testdata/finance.csv", finance.Options{Columns: []string{"sales"}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"values":[60,100,2500.5,0,null]`) {
		t.Errorf("json %s", b)
	}
}
