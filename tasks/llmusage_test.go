package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/llmfake"
)

// TestLLMUsageFetchesCostsThatTokencostPrices runs llmusage through the
// registry against the fake admin API, then tokencost on its output: the
// two compose, and the key never reaches the log.
func TestLLMUsageFetchesCostsThatTokencostPrices(t *testing.T) {
	fake := llmfake.New(t)
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	fake.SetCost(llmfake.OpenAI, yesterday, "12.5")
	dir := t.TempDir()
	environ := []string{"OPENAI_ADMIN_KEY=" + llmfake.OpenAIKey}
	out, log, err := runTaskEnv(context.Background(), t, "llmusage", dir, environ, map[string]any{
		"provider": "openai", "cache": "llm", "base_url": fake.URL(), "since": yesterday,
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	costs := out["costs"].([]any)
	if len(costs) < 2 || costs[0] != filepath.Join(dir, "llm", "openai", "costs", yesterday+".json") || out["requests"] != 1 {
		t.Fatalf("outputs %v", out)
	}
	if strings.Contains(log, llmfake.OpenAIKey) || !strings.Contains(log, "openai costs: 2 day(s) from "+yesterday) {
		t.Fatalf("log:\n%s", log)
	}
	out, log, err = runTask(context.Background(), t, "tokencost", dir, map[string]any{
		"src": costs, "currency": "KRW", "rate": "1400", "time_zone": "Asia/Seoul", "dest": "cost.csv",
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	csv, _ := os.ReadFile(filepath.Join(dir, "cost.csv"))
	if string(csv) != "date,cost\n"+yesterday+",17500\n" || out["cost"] != "17500" {
		t.Fatalf("tokencost wrote %q, outputs %v", csv, out)
	}
}
