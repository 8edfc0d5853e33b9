package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFinanceTypesOnTheBundledExports runs csvsum and tokencost on the
// example project's exports (runTaskEnv checks their outputs against the
// declared ones) and checks what they wrote.
func TestFinanceTypesOnTheBundledExports(t *testing.T) {
	examples, err := filepath.Abs("../examples/finance")
	if err != nil {
		t.Fatal(err)
	}
	dest := t.TempDir()
	ctx := context.Background()
	out, _, err := runTask(ctx, t, "csvsum", examples, map[string]any{
		"src":       "sales/*",
		"columns":   map[string]any{"판매일": "date", "정산일": "date", "판매금액": "sales", "정산금액(원)": "sales"},
		"group_by":  []any{"date"},
		"aggregate": map[string]any{"sales": "sum"},
		"dest":      filepath.Join(dest, "sales.csv"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, in := asInt(out["rows_out"]), asInt(out["rows_in"]); n < 14 || in <= n {
		t.Errorf("csvsum of two platforms' November: %v", out)
	}
	out, _, err = runTask(ctx, t, "tokencost", examples, map[string]any{
		"src": "usage/*", "currency": "KRW", "rate": "1400", "time_zone": "Asia/Seoul",
		"dest": filepath.Join(dest, "cost.csv"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if asInt(out["calls"]) == 0 || out["cost"] == "0" {
		t.Errorf("tokencost of the pipeline's call log: %v", out)
	}
	csv, err := os.ReadFile(filepath.Join(dest, "cost.csv"))
	if err != nil || !strings.HasPrefix(string(csv), "date,cost\n2026-11-") {
		t.Errorf("cost.csv: %v %.80q", err, csv)
	}
}

// asInt reads an integer output, whatever Go integer type carries it.
func asInt(v any) int64 {
	switch n := v.(type) {
	case int:
		return int64(n)
	case int64:
		return n
	}
	return -1
}
