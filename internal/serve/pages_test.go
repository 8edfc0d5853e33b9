package serve

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/finance"
	"github.com/novelfactory/runner/internal/serve/api"
)

func TestFinanceIsTheReportTasksSummary(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"r.yaml": counting("r")})
	ctx := context.Background()
	if _, err := f.core.Finance(ctx); api.AsError(err).Code != api.CodeNotConfigured {
		t.Errorf("without a CSV: %v", err)
	}
	csv := filepath.Join(f.work, "finance.csv")
	writeFile(t, csv, "date,cost,sales,profit\n2026-02-27,1000,5000,4000\n2026-02-28,2000,,\n2026-03-01,1500,7000,5500\n")
	f.core.cfg.FinanceCSV = csv
	doc, err := f.core.Finance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := finance.Summarize(ctx, csv, finance.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Dates) != 3 || len(doc.Series) != 3 || len(doc.Cards) != 3 || doc.Cards[1].Totals[0].Value != want.Cards[1].Totals[0].Value {
		t.Errorf("finance: %+v, want the summary %+v", doc, want)
	}
	data, err := json.Marshal(doc)
	if err != nil || !strings.Contains(string(data), "null") {
		t.Errorf("a missing value must be null in JSON: %s, %v", data, err)
	}
}

func TestBackupsListsTheTarget(t *testing.T) {
	f := newFixture(t, OverlapSkip, map[string]string{"r.yaml": counting("r")})
	if err := os.MkdirAll(filepath.Join(f.work, "offsite"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.core.cfg.BackupTarget = "file://" + filepath.Join(f.work, "offsite")
	doc, err := f.core.Backups(context.Background())
	if err != nil || len(doc.Sets) != 0 || doc.Target != f.core.cfg.BackupTarget {
		t.Errorf("an empty target: %+v, %v", doc, err)
	}
}
