package web

import (
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/novelfactory/runner/engine/secret"
)

// checkNoInlineCode parses a page and fails on anything the
// Content-Security-Policy would block or that loads from elsewhere.
func checkNoInlineCode(t *testing.T, name, page string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	scripts := 0
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: an inline handler %s on <%s>", name, a.Key, n.Data)
				}
				if a.Key == "style" {
					t.Errorf("%s: an inline style on <%s>", name, n.Data)
				}
				if (a.Key == "src" || a.Key == "href" || a.Key == "action") && (strings.Contains(a.Val, "//") || strings.HasPrefix(strings.ToLower(a.Val), "javascript:")) {
					t.Errorf("%s: <%s %s=%q> leaves the server", name, n.Data, a.Key, a.Val)
				}
			}
			switch n.Data {
			case "script":
				scripts++
				if attrs["src"] != "/static/app.js" || n.FirstChild != nil {
					t.Errorf("%s: an inline or foreign script %v", name, attrs)
				}
			case "style":
				t.Errorf("%s: a <style> element", name)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if scripts != 1 {
		t.Errorf("%s: %d scripts, want app.js only", name, scripts)
	}
	return doc
}

func TestPagesReadWellWithoutJavaScript(t *testing.T) {
	m := secret.New()
	e := newTestEnv(t, withTokens(), m)
	sid := signIn(t, e, opToken)
	live, _ := e.fb.Start(t.Context(), "hello", []string{"project=파일럿"})
	e.fb.setTask(live.ID, "find-episodes", "succeeded")
	e.fb.appendLog(live.ID, "find-episodes", "ep01.md", "ep02.md")
	e.fb.setTask(live.ID, "count", "running")
	e.fb.appendLog(live.ID, "count", "1234 characters")
	failed := e.fb.order[len(e.fb.order)-2]

	cases := []struct {
		path  string
		code  int
		wants []string
	}{
		{"/", 200, []string{"주간 백업", "Overdue", "no successful run for 9 days", "at 04:00 on Sunday (Asia/Seoul)", "in 2 hours", " KST (", "Invalid recipe", "minute 61 is out of range", `class="strip"`, "✗ failed"}},
		{"/runs", 200, []string{"26 runs", live.ID, "▶ running"}},
		{"/runs?recipe=weekly-backup&status=failed&per_page=1", 200, []string{"2 runs", "page 1 of 2", `rel="next"`, "Older"}},
		{"/runs/" + live.ID, 200, []string{`<svg class="graph"`, `data-task="find-episodes"`, "✓ succeeded", "▶ running", "ep01.md\nep02.md", "1234 characters", `data-stream="/api/v1/runs/` + live.ID + `/tasks/count/log/stream"`, `data-offset="16"`, `data-live="true"`, "Cancel"}},
		{"/runs/" + failed, 200, []string{`data-live="false"`, "Resume", "With all after it", "This task", `name="downstream" value="true"`}},
		{"/recipes/weekly-backup", 200, []string{"next ", " KST ("}}, // the schedule's zone, then the server's
		{"/recipes/hello", 200, []string{"Run now", `name="var.project" value="Pilot"`, `name="var.api_token" type="password"`, `name="var.stamp" placeholder="computed: ${{ strftime(now(), &#34;%Y-%m-%d&#34;) }}"`, "에피소드"}},
		{"/finance", 200, []string{"최근 7일", "675,000 원", "1,080,000 원", "405,000 원", "2026년 3월", "metrics/finance.csv", "<polyline"}},
		{"/backups", 200, []string{"s3://factory-backups/weekly", "runner apply recipes/restore.yaml --set set=2026-03-01T040000 --set dest=./restored", "117.7 MiB", "✓ complete"}},
		{"/runs/20200101T000000Z-abcdef", 404, []string{"not_found", "no run 20200101T000000Z-abcdef"}},
		{"/runs/..%2fx", 400, []string{"invalid_id"}},
	}
	for _, c := range cases {
		w := e.req("GET", c.path, "", "cookie="+sid)
		page := w.Body.String()
		if w.Code != c.code {
			t.Errorf("%s: %d, want %d", c.path, w.Code, c.code)
		}
		if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: content type %q", c.path, ct)
		}
		for _, want := range c.wants {
			if !strings.Contains(page, want) {
				t.Errorf("%s lacks %q", c.path, want)
			}
		}
		checkNoInlineCode(t, c.path, page)
	}
	w := e.req("GET", "/signin", "")
	checkNoInlineCode(t, "/signin", w.Body.String())

	t.Run("the read-only role sees no buttons", func(t *testing.T) {
		rsid := signIn(t, e, readToken)
		for _, p := range []string{"/runs/" + failed, "/recipes/hello"} {
			if page := e.req("GET", p, "", "cookie="+rsid).Body.String(); strings.Contains(page, `method="post" action="/r`) {
				t.Errorf("%s shows actions to a reader", p)
			}
		}
	})
}

var pointsRe = regexp.MustCompile(`<polyline points="([^"]*)"`)

func TestFinanceChartHasOnePointPerRow(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	page := e.req("GET", "/finance", "", bearer(readToken)).Body.String()
	lines := 0
	for _, m := range pointsRe.FindAllStringSubmatch(page, -1) {
		if n := len(strings.Fields(m[1])); n == len(e.fb.finance.Dates) {
			lines++
		} else if n != 2 { // a legend swatch
			t.Errorf("a line of %d points", n)
		}
	}
	if lines != len(e.fb.finance.Series) {
		t.Fatalf("%d lines of %d points, want %d", lines, len(e.fb.finance.Dates), len(e.fb.finance.Series))
	}
	if strings.Count(page, "<tr><td>2026-03-") != len(e.fb.finance.Dates) {
		t.Fatal("the table does not hold one row per date")
	}
}

func TestNotConfiguredPagesSaySo(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	e.fb.finance, e.fb.backups = nil, nil
	for _, p := range []string{"/finance", "/backups"} {
		w := e.req("GET", p, "", bearer(readToken))
		if w.Code != 200 || !strings.Contains(w.Body.String(), "is configured") || !strings.Contains(w.Body.String(), "docs/serve.md") {
			t.Errorf("%s: %d %s", p, w.Code, w.Body)
		}
	}
}
