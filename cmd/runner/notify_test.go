package main

import (
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// webhookPath is the secret part of the test webhooks' URLs.
const webhookPath = "/services/T0TEST0001/B0TEST0002/tok3nSECRETabcdef123456"

// webhook is a test webhook answering code, keeping the bodies it got.
func webhook(t *testing.T, code int) (url string, bodies func() []string) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		w.WriteHeader(code)
		io.WriteString(w, "answer "+http.StatusText(code))
	}))
	t.Cleanup(srv.Close)
	return srv.URL + webhookPath, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// noWebhook fails when a text of the run holds the webhook's secret part.
func noWebhook(t *testing.T, texts map[string]string) {
	t.Helper()
	for where, text := range texts {
		for _, s := range []string{webhookPath, "tok3nSECRETabcdef123456", "B0TEST0002"} {
			if strings.Contains(text, s) {
				t.Errorf("%s holds %q:\n%s", where, s, text)
			}
		}
	}
}

// runTexts returns every file under the state folder, by path.
func runTexts(t *testing.T, dir string) map[string]string {
	texts := map[string]string{}
	filepath.WalkDir(filepath.Join(dir, ".runner"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			texts[path] = readFile(t, path)
		}
		return nil
	})
	return texts
}

// TestAWebhookAnswering500FailsTheTaskWithTheStatusAndAMaskedURL: the
// URL is in a plain var (not under secrets:), yet the plan, the output,
// the JSON events, state.json and the task's log show only ***.
func TestAWebhookAnswering500FailsTheTaskWithTheStatusAndAMaskedURL(t *testing.T) {
	url, bodies := webhook(t, 500)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
vars:
  hook: ""
tasks:
  tell:
    uses: notify
    with:
      url: ${{ vars.hook }}
      text: hello
      attempts: 3
      delay: 1ms
      max_delay: 5ms
`)
	plan := runner(t, dir, baseEnv(), "plan", "r.yaml", "--set", "hook="+url)
	res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--set", "hook="+url)
	jsonOut := runner(t, dir, baseEnv(), "apply", "r.yaml", "--set", "hook="+url, "-o", "json")
	if !strings.Contains(plan.stdout, "would POST a slack message to ***") {
		t.Errorf("plan:\n%s", plan.stdout)
	}
	if res.code != 1 || !strings.Contains(res.stdout, "POST to ***: the server answered 500 Internal Server Error") || !strings.Contains(res.stdout, "after 3 attempts") {
		t.Errorf("exit %d:\n%s", res.code, res.stdout)
	}
	if n := len(bodies()); n != 6 {
		t.Errorf("the webhook got %d requests, want 3 per run", n)
	}
	texts := runTexts(t, dir)
	texts["plan"], texts["stdout"], texts["stderr"], texts["json"] = plan.stdout, res.stdout, res.stderr, jsonOut.stdout
	noWebhook(t, texts)
}

// TestTheWeeklyBackupTellsOfAFailureOnlyWhenItHasAURL: the shipped
// recipe's notify-failure is skipped when all goes well or when no URL is
// set, and posts once when the dump failed, although it needs only the
// last task.
func TestTheWeeklyBackupTellsOfAFailureOnlyWhenItHasAURL(t *testing.T) {
	url, bodies := webhook(t, 200)
	dir := t.TempDir()
	copyTree(t, dir)
	ok := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml", "--set", "notify_url="+url)
	if ok.code != 0 || len(bodies()) != 0 || !strings.Contains(ok.stdout, "notify-failure skipped") {
		t.Fatalf("a good backup: exit %d, %d messages:\n%s", ok.code, len(bodies()), ok.stdout)
	}
	quiet := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml", "--set", "database=missing.db")
	if quiet.code != 1 || len(bodies()) != 0 || !strings.Contains(quiet.stdout, "notify-failure skipped") {
		t.Fatalf("a failed backup without a URL: exit %d, %d messages:\n%s", quiet.code, len(bodies()), quiet.stdout)
	}
	failed := runner(t, dir, baseEnv(), "apply", "recipes/weekly-backup.yaml", "--set", "database=missing.db", "--set", "notify_url="+url)
	if failed.code != 1 || len(bodies()) != 1 {
		t.Fatalf("a failed backup: exit %d, %d messages:\n%s", failed.code, len(bodies()), failed.stdout)
	}
	var msg struct{ Text string }
	if err := json.Unmarshal([]byte(bodies()[0]), &msg); err != nil || !strings.HasPrefix(msg.Text, "*weekly-backup failed*\nRun ") {
		t.Errorf("message %s (%v)", bodies()[0], err)
	}
	texts := runTexts(t, dir)
	texts["stdout"] = failed.stdout
	noWebhook(t, texts)
}

// TestAPlanThatCannotAskNotifyStillMasksTheURL: the URL is registered by
// notify's Plan, which a dry run does not call when another param is known
// only after running (a text from an earlier task's output) or when a param
// fails to decode; the plan then printed `url: http://…/tok3nSECRET…`, in
// text and in JSON. A param tagged secret is masked as soon as it is known.
func TestAPlanThatCannotAskNotifyStillMasksTheURL(t *testing.T) {
	url, bodies := webhook(t, 200)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), `version: 1
vars:
  hook: ""
  tries: 1
tasks:
  a: {uses: shell, with: {run: echo hi}}
  tell:
    uses: notify
    needs: [a]
    with:
      url: ${{ vars.hook }}
      text: ${{ tasks.a.outputs.stdout }}
  count:
    uses: notify
    with:
      url: ${{ vars.hook }}
      text: hi
      attempts: ${{ vars.tries }}
`)
	texts := map[string]string{}
	for _, args := range [][]string{{}, {"-o", "json"}} {
		plan := runner(t, dir, baseEnv(), append([]string{"plan", "r.yaml", "--set", "hook=" + url, "--set", "tries=0"}, args...)...)
		if !strings.Contains(plan.stdout, "tell") || !strings.Contains(plan.stdout, "at least 1, not 0") {
			t.Errorf("plan %v:\n%s", args, plan.stdout)
		}
		texts["plan "+strings.Join(args, " ")] = plan.stdout
	}
	res := runner(t, dir, baseEnv(), "apply", "r.yaml", "--set", "hook="+url, "--set", "tries=0")
	texts["stdout"], texts["stderr"] = res.stdout, res.stderr
	for k, v := range runTexts(t, dir) {
		texts[k] = v
	}
	noWebhook(t, texts)
	if n := len(bodies()); n != 1 {
		t.Errorf("the webhook got %d requests, want 1", n)
	}
}
