package tasks_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestNotifyPostsOnceAndKeepsTheURLOutOfItsLog runs notify as the engine
// does, against a test webhook: one POST, its declared outputs, and a log
// without the URL (tasks/notify tests the retries).
func TestNotifyPostsOnceAndKeepsTheURLOutOfItsLog(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, string(b))
	}))
	defer srv.Close()
	url := srv.URL + "/api/webhooks/1234567890/discordTOKENabcdef"
	out, log, err := runTask(context.Background(), t, "notify", t.TempDir(), map[string]any{"url": url, "format": "discord", "text": "백업 실패"})
	if err != nil {
		t.Fatal(err)
	}
	if out["status"] != 200 || out["attempts"] != 1 || len(got) != 1 || got[0] != `{"content":"백업 실패"}` {
		t.Errorf("outputs %v, requests %q", out, got)
	}
	if strings.Contains(log, "discordTOKENabcdef") || !strings.Contains(log, "to ***") {
		t.Errorf("log %q", log)
	}
}
