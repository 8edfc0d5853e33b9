package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCsvjoinFillsMissingDaysAndKeepsHistory(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"cost.csv":    "date,cost\n2026-11-01,100.5\n2026-11-02,200\n",
		"sales.csv":   "\ufeff날짜,판매\n2026.11.02,\"1,000\"\n2026/11/3,500\n",
		"finance.csv": "date,cost,sales,profit\n2026-10-31,1,2,1\n2026-11-01,999,999,0\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	with := map[string]any{
		"on": "date",
		"sources": []any{
			map[string]any{"file": "cost.csv", "column": "cost"},
			map[string]any{"file": "sales.csv", "column": "판매", "as": "sales"},
		},
		"derive": map[string]any{"profit": "sales - cost"},
		"dest":   "finance.csv",
	}
	// Every source must have the key column: the error says what the file has.
	_, _, err := runTask(context.Background(), t, "csvjoin", dir, with)
	if err == nil || !strings.Contains(err.Error(), `needs columns "date" and "판매"; it has 날짜, 판매`) {
		t.Fatalf("error %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sales.csv"), []byte("\ufeffdate,판매\n2026.11.02,\"1,000\"\n2026/11/3,500\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runTask(context.Background(), t, "csvjoin", dir, with)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "finance.csv"))
	want := "date,cost,sales,profit\n2026-10-31,1,2,1\n2026-11-01,100.5,0,-100.5\n2026-11-02,200,1000,800\n2026-11-03,0,500,500\n"
	if string(got) != want {
		t.Fatalf("finance.csv:\n%s\nwant\n%s", got, want)
	}
	if out["rows"] != 4 || out["updated"] != 3 {
		t.Fatalf("outputs %v", out)
	}
	with["derive"] = map[string]any{"profit": "sales - costs"}
	if _, _, err := runTask(context.Background(), t, "csvjoin", dir, with); err == nil || !strings.Contains(err.Error(), `derive profit: "costs" is not a column (columns: cost, sales)`) {
		t.Fatalf("error %v", err)
	}
}
