package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The cases of this file were found attacking the finance tasks (csvsum,
// csvjoin, tokencost, chart, report) for issue 11 (docs/security.md).

// writeFiles writes files into a new folder and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestJoinAndChartRefuseAColumnNamedTwice: csvjoin took the first of two
// 금액 columns, chart and report drew the first; both now name the
// duplicate and where the header is, and 금액#2 picks the second.
func TestJoinAndChartRefuseAColumnNamedTwice(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"sales.csv": "date,금액,금액\n2026-11-01,100,7\n2026-11-02,200,9\n",
	})
	with := map[string]any{
		"sources": []any{map[string]any{"file": "sales.csv", "column": "금액", "as": "sales"}},
		"dest":    "finance.csv",
	}
	_, _, err := runTask(context.Background(), t, "csvjoin", dir, with)
	if err == nil || !strings.Contains(err.Error(), `sales.csv:1: column: the header has the column "금액" twice (columns 2 and 3): write "금액#1" or "금액#2" for the one meant`) {
		t.Fatalf("csvjoin: error %v", err)
	}
	with["sources"] = []any{map[string]any{"file": "sales.csv", "column": "금액#2", "as": "sales"}}
	if _, _, err := runTask(context.Background(), t, "csvjoin", dir, with); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "finance.csv")); string(got) != "date,sales\n2026-11-01,7\n2026-11-02,9\n" {
		t.Fatalf("finance.csv:\n%s", got)
	}
	for _, task := range []string{"chart", "report"} {
		w := map[string]any{"src": "sales.csv", "columns": []any{"금액"}, "svg": "c.svg"}
		if task == "report" {
			w = map[string]any{"src": "sales.csv", "columns": []any{"금액"}, "dest": "r.html"}
		}
		_, _, err := runTask(context.Background(), t, task, dir, w)
		if err == nil || !strings.Contains(err.Error(), `sales.csv:1: columns: the header has the column "금액" twice (columns 2 and 3)`) {
			t.Fatalf("%s: error %v", task, err)
		}
		w["columns"] = []any{"금액#1", "금액#2"}
		if _, _, err := runTask(context.Background(), t, task, dir, w); err != nil {
			t.Fatalf("%s: %v", task, err)
		}
	}
}

// TestMessagesQuoteAtMost80Characters: a 10 MB field made a 10 MB error
// (in the log, state.json and the summary). Every value a message quotes
// is cut to 80 characters, "…" and its size.
func TestMessagesQuoteAtMost80Characters(t *testing.T) {
	huge := strings.Repeat("가", 10<<20/3) // 10 MB
	dir := writeFiles(t, map[string]string{
		"amount.csv": "date,amount\n2026-11-01,100\n2026-11-02," + huge + "\n",
		"date.csv":   "date,amount\n" + huge + ",100\n",
		"header.csv": "date," + huge + "\n2026-11-01,100\n",
	})
	sum := map[string]any{"src": "amount.csv", "group_by": []any{"date"}, "aggregate": map[string]any{"amount": "sum"}, "dest": "out.csv"}
	where := map[string]any{"src": "amount.csv", "where": "int(amount) > 0", "aggregate": map[string]any{"amount": "sum"}, "dest": "out.csv"}
	missing := map[string]any{"src": "header.csv", "aggregate": map[string]any{"amount": "sum"}, "dest": "out.csv"}
	join := map[string]any{"sources": []any{map[string]any{"file": "amount.csv", "column": "amount"}}, "dest": "j.csv"}
	for _, c := range []struct {
		task string
		with map[string]any
		want string
	}{
		{"csvsum", sum, `amount.csv:3: column 2 (amount): "가가가`},
		{"csvsum", where, `amount.csv:3: where: invalid operation: int(가가가`},
		{"csvsum", missing, `header.csv: no column "amount" for aggregate; the columns are: date, "가가가`},
		{"csvjoin", join, `amount.csv:3: column "amount": "가가가`},
		{"chart", map[string]any{"src": "date.csv", "svg": "c.svg"}, `date.csv:2: "가가가`},
		{"report", map[string]any{"src": "date.csv", "dest": "r.html"}, `date.csv:2: "가가가`},
	} {
		_, _, err := runTask(context.Background(), t, c.task, dir, c.with)
		if err == nil {
			t.Fatalf("%s %v: no error", c.task, c.with)
		}
		msg := err.Error()
		if len(msg) > 1000 || !strings.Contains(msg, c.want) || !strings.Contains(msg, " bytes)") {
			t.Errorf("%s: a %d-byte error: %.300s", c.task, len(msg), msg)
		}
	}
}

// TestAnEmptyLedgerIsNamed: "chart: no rows to draw" did not say which file.
func TestAnEmptyLedgerIsNamed(t *testing.T) {
	dir := writeFiles(t, map[string]string{"finance.csv": "date,cost,sales,profit\n"})
	for task, with := range map[string]map[string]any{"chart": {"src": "finance.csv", "svg": "c.svg"}, "report": {"src": "finance.csv", "dest": "r.html"}} {
		if _, _, err := runTask(context.Background(), t, task, dir, with); err == nil || !strings.Contains(err.Error(), "finance.csv has no rows to draw") {
			t.Errorf("%s: error %v", task, err)
		}
	}
}

// TestJoinRefusesSplitAmountsAndBadKeys: 2026-11-01,1,234 (no quotes)
// joined 1 as the day's sales; a key with a NUL or CP949 bytes went into
// the ledger as it was.
func TestJoinRefusesSplitAmountsAndBadKeys(t *testing.T) {
	for body, want := range map[string]string{
		"date,sales\n2026-11-01,1,234\n":                                                 "sales.csv:2: the row has 3 columns, the header 2",
		"date,sales\n2026-11-01\x00x,5\n":                                                `sales.csv:2: column date: the key "2026-11-01\x00x" is not text`,
		"date,sales\n" + strings.Repeat("2026-11-01,1\n", 6000) + "\xba\xd2\xbe\xbe,5\n": `sales.csv:6002: column date: the key "\xba`,
		"date,sales\n2026-11-01,1,\n":                                                    "",
		"date,sales\n2026-11-01,\"1,234\"\n":                                             "",
	} {
		dir := writeFiles(t, map[string]string{"sales.csv": body})
		_, _, err := runTask(context.Background(), t, "csvjoin", dir, map[string]any{"sources": []any{map[string]any{"file": "sales.csv", "column": "sales"}}, "dest": "f.csv"})
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%q: error %v, want %q", body, err, want)
		}
	}
}
