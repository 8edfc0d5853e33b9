package web

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/internal/serve/api"
)

var (
	opToken   = strings.Repeat("o", 20) + "-operator-token"
	readToken = strings.Repeat("r", 20) + "-read-token"
	testNow   = time.Date(2026, 3, 8, 12, 0, 0, 0, time.UTC)
)

type testEnv struct {
	t  *testing.T
	fb *fakeBackend
	h  http.Handler
}

func newTestEnv(t *testing.T, tokens Tokens, mask *secret.Masker) *testEnv {
	t.Helper()
	fb := newFakeBackend(testNow)
	fb.finance = sampleFinance()
	fb.backups = &api.Backups{Target: "s3://factory-backups/weekly", Sets: []api.BackupSet{{
		Name: "2026-03-01T040000", Date: testNow.Add(-7 * 24 * time.Hour), Objects: 3, Size: 123456789, Complete: true,
		RestoreCommand: "runner apply recipes/restore.yaml --set set=2026-03-01T040000 --set dest=./restored",
	}}}
	h, err := New(fb, Config{
		Tokens: tokens, Masker: mask, Location: time.UTC, Now: func() time.Time { return testNow },
		FinanceConfigured: true, BackupsConfigured: true, LogPoll: 10 * time.Millisecond, Heartbeat: time.Hour,
		Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "runner_up 1\n") }),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{t: t, fb: fb, h: h}
}

func withTokens() Tokens { return Tokens{Operator: []string{opToken}, Read: []string{readToken}} }

// req is one request to the handler; opts set headers ("Name: value") or,
// as "cookie=…", a cookie.
func (e *testEnv) req(method, target, body string, opts ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var r *http.Request
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
	} else {
		r = httptest.NewRequest(method, target, nil)
	}
	for _, o := range opts {
		if v, ok := strings.CutPrefix(o, "cookie="); ok {
			r.AddCookie(&http.Cookie{Name: sessionCookie, Value: v})
			continue
		}
		k, v, _ := strings.Cut(o, ": ")
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func bearer(tok string) string { return "Authorization: Bearer " + tok }

// errorCode returns the code of a JSON error answer.
func errorCode(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var e struct {
		Error api.Error `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil {
		t.Fatalf("answer %d is not a JSON error: %v\n%s", w.Code, err, w.Body)
	}
	return e.Error.Code
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("decoding %s: %v", w.Body, err)
	}
	return v
}

func TestEveryAPIRouteAnswersFromTheBackend(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	auth := bearer(opToken)
	run := e.fb.order[len(e.fb.order)-1]
	e.fb.appendLog(run, "zip", "zipping 3 files", "wrote backup.zip")

	t.Run("recipes lists every recipe with its last runs", func(t *testing.T) {
		w := e.req("GET", "/api/v1/recipes", "", auth)
		rs := decode[struct{ Recipes []api.Recipe }](t, w)
		if w.Code != 200 || len(rs.Recipes) != 3 || len(rs.Recipes[1].Recent) != 20 || rs.Recipes[1].Overdue == nil {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("one recipe, and a missing one is not_found", func(t *testing.T) {
		if w := e.req("GET", "/api/v1/recipes/hello", "", auth); w.Code != 200 || decode[api.Recipe](t, w).Name != "hello" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if w := e.req("GET", "/api/v1/recipes/nope", "", auth); w.Code != 404 || errorCode(t, w) != api.CodeNotFound {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("runs filters and pages", func(t *testing.T) {
		w := e.req("GET", "/api/v1/runs?recipe=weekly-backup&status=failed&per_page=1&page=2", "", auth)
		p := decode[api.RunPage](t, w)
		if w.Code != 200 || p.Total != 2 || len(p.Runs) != 1 || p.Page != 2 || p.Runs[0].Status != "failed" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		w = e.req("GET", "/api/v1/runs?from=2026-03-01&to=2026-03-08", "", auth)
		if p := decode[api.RunPage](t, w); p.Total != 1 {
			t.Fatalf("a week holds one weekly run, got %s", w.Body)
		}
		for _, bad := range []string{"per_page=500", "page=0", "from=yesterday", "status=Bad!"} {
			if w := e.req("GET", "/api/v1/runs?"+bad, "", auth); w.Code != 400 || errorCode(t, w) != api.CodeBadRequest {
				t.Errorf("%s: %d %s", bad, w.Code, w.Body)
			}
		}
	})
	t.Run("one run with its tasks", func(t *testing.T) {
		w := e.req("GET", "/api/v1/runs/"+run, "", auth)
		if r := decode[api.Run](t, w); w.Code != 200 || r.ID != run || len(r.Tasks) != 2 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if w := e.req("GET", "/api/v1/runs/20200101T000000Z-abcdef", "", auth); w.Code != 404 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("a task's log from an offset", func(t *testing.T) {
		w := e.req("GET", "/api/v1/runs/"+run+"/tasks/zip/log?offset=16", "", auth)
		c := decode[api.LogChunk](t, w)
		if w.Code != 200 || c.Text != "wrote backup.zip\n" || c.Offset != 16 || c.End != 33 || !c.Done {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if w := e.req("GET", "/api/v1/runs/"+run+"/tasks/zip/log?offset=-1", "", auth); w.Code != 400 {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("start a run with var overrides", func(t *testing.T) {
		w := e.req("POST", "/api/v1/recipes/hello/runs", `{"vars": {"project": "파일럿", "publish": "true"}}`, auth)
		s := decode[api.RunSummary](t, w)
		if w.Code != 201 || s.Status != "running" || w.Header().Get("Location") != "/api/v1/runs/"+s.ID {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		if got := e.fb.started[len(e.fb.started)-1]; strings.Join(got, " ") != "project=파일럿 publish=true" {
			t.Fatalf("sets %q", got)
		}
		w = e.req("POST", "/api/v1/recipes/hello/runs", `{"vars": {"nope": "1"}}`, auth)
		if w.Code != 400 || errorCode(t, w) != api.CodeInvalidVar || !strings.Contains(w.Body.String(), "nope") {
			t.Fatalf("an undeclared var: %d %s", w.Code, w.Body)
		}
		w = e.req("POST", "/api/v1/recipes/hello/runs", `{"vars": [1]}`, auth)
		if w.Code != 400 || errorCode(t, w) != api.CodeBadRequest {
			t.Fatalf("a bad body: %d %s", w.Code, w.Body)
		}
		w = e.req("POST", "/api/v1/recipes/broken/runs", ``, auth)
		if w.Code != 400 || errorCode(t, w) != api.CodeInvalidRecipe {
			t.Fatalf("an invalid recipe: %d %s", w.Code, w.Body)
		}
	})
	t.Run("cancel, resume and retry", func(t *testing.T) {
		s, _ := e.fb.Start(t.Context(), "hello", nil)
		if w := e.req("POST", "/api/v1/runs/"+s.ID+"/resume", "", auth); w.Code != 409 || errorCode(t, w) != api.CodeConflict {
			t.Fatalf("resume a running run: %d %s", w.Code, w.Body)
		}
		if w := e.req("POST", "/api/v1/runs/"+s.ID+"/cancel", "", auth); w.Code != 202 {
			t.Fatalf("cancel: %d %s", w.Code, w.Body)
		}
		if w := e.req("POST", "/api/v1/runs/"+s.ID+"/resume", "", auth); w.Code != 202 || decode[api.RunSummary](t, w).Resumes != 1 {
			t.Fatalf("resume: %d %s", w.Code, w.Body)
		}
		w := e.req("POST", "/api/v1/runs/"+run+"/tasks/upload/retry", `{"downstream": true}`, auth)
		if w.Code != 202 || e.fb.started[len(e.fb.started)-1][0] != "retry upload downstream=true" {
			t.Fatalf("retry: %d %s", w.Code, w.Body)
		}
	})
	t.Run("finance and backups", func(t *testing.T) {
		w := e.req("GET", "/api/v1/finance", "", auth)
		if f := decode[api.Finance](t, w); w.Code != 200 || len(f.Dates) != 8 || f.Cards[0].Totals[0].Value != "675,000 원" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		w = e.req("GET", "/api/v1/backups", "", auth)
		if b := decode[api.Backups](t, w); w.Code != 200 || len(b.Sets) != 1 || !strings.Contains(b.Sets[0].RestoreCommand, "restore.yaml") {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		e.fb.finance = nil
		if w := e.req("GET", "/api/v1/finance", "", auth); w.Code != 404 || errorCode(t, w) != api.CodeNotConfigured {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("session says the role", func(t *testing.T) {
		w := e.req("GET", "/api/v1/session", "", bearer(readToken))
		if s := decode[struct{ Role string }](t, w); s.Role != RoleRead {
			t.Fatalf("%s", w.Body)
		}
	})
	t.Run("an unknown route is a JSON not_found", func(t *testing.T) {
		if w := e.req("GET", "/api/v1/nothing", "", auth); w.Code != 404 || errorCode(t, w) != api.CodeNotFound {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
	t.Run("metrics need a token", func(t *testing.T) {
		if w := e.req("GET", "/metrics", ""); w.Code != 401 {
			t.Fatalf("%d", w.Code)
		}
		if w := e.req("GET", "/metrics", "", bearer(readToken)); w.Code != 200 || w.Body.String() != "runner_up 1\n" {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
	})
}

func TestAuth(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	t.Run("no token is 401 on the API and a sign-in on pages", func(t *testing.T) {
		for _, p := range []string{"/api/v1/recipes", "/api/v1/runs", "/api/v1/events", "/api/v1/finance"} {
			if w := e.req("GET", p, ""); w.Code != 401 || errorCode(t, w) != api.CodeUnauthorized || w.Header().Get("WWW-Authenticate") == "" {
				t.Errorf("%s: %d %s", p, w.Code, w.Body)
			}
		}
		if w := e.req("POST", "/api/v1/recipes/hello/runs", ""); w.Code != 401 {
			t.Errorf("POST without a token: %d", w.Code)
		}
		for _, p := range []string{"/", "/runs", "/finance", "/recipes/hello"} {
			if w := e.req("GET", p, ""); w.Code != 303 || !strings.HasPrefix(w.Header().Get("Location"), "/signin?next=") {
				t.Errorf("%s: %d %v", p, w.Code, w.Header())
			}
		}
		if w := e.req("GET", "/signin", ""); w.Code != 200 {
			t.Errorf("the sign-in page: %d", w.Code)
		}
		if w := e.req("GET", "/static/style.css", ""); w.Code != 200 {
			t.Errorf("the style sheet: %d", w.Code)
		}
	})
	t.Run("a wrong token is 401", func(t *testing.T) {
		if w := e.req("GET", "/api/v1/recipes", "", bearer(opToken+"x")); w.Code != 401 {
			t.Fatalf("%d", w.Code)
		}
		if w := e.req("GET", "/api/v1/recipes", "", "Authorization: Basic "+opToken); w.Code != 401 {
			t.Fatalf("%d", w.Code)
		}
	})
	t.Run("the read-only role reads but cannot run", func(t *testing.T) {
		if w := e.req("GET", "/api/v1/recipes", "", bearer(readToken)); w.Code != 200 {
			t.Fatalf("%d", w.Code)
		}
		before := e.fb.totalCalls()
		run := e.fb.order[0]
		for _, p := range []string{"/api/v1/recipes/hello/runs", "/api/v1/runs/" + run + "/resume", "/api/v1/runs/" + run + "/cancel", "/api/v1/runs/" + run + "/tasks/zip/retry"} {
			if w := e.req("POST", p, "", bearer(readToken)); w.Code != 403 || errorCode(t, w) != api.CodeForbidden {
				t.Errorf("%s: %d %s", p, w.Code, w.Body)
			}
		}
		if e.fb.totalCalls() != before {
			t.Fatal("a forbidden request reached the backend")
		}
	})
	t.Run("sign-in gives an HttpOnly SameSite=Strict cookie that is not the token", func(t *testing.T) {
		w := e.req("POST", "/signin", "token="+url.QueryEscape(readToken)+"&next=%2Fruns", "Content-Type: application/x-www-form-urlencoded")
		if w.Code != 303 || w.Header().Get("Location") != "/runs" {
			t.Fatalf("%d %v", w.Code, w.Header())
		}
		c := w.Result().Cookies()[0]
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Value == readToken || strings.Contains(c.Value, readToken) {
			t.Fatalf("cookie %+v", c)
		}
		if w := e.req("GET", "/runs", "", "cookie="+c.Value); w.Code != 200 {
			t.Fatalf("with the cookie: %d", w.Code)
		}
		if w := e.req("POST", "/signin", "token=wrong&next=//evil.example", "Content-Type: application/x-www-form-urlencoded"); w.Code != 401 {
			t.Fatalf("a wrong token: %d", w.Code)
		}
		w = e.req("POST", "/signin", "token="+url.QueryEscape(opToken)+"&next=//evil.example", "Content-Type: application/x-www-form-urlencoded")
		if w.Header().Get("Location") != "/" {
			t.Fatalf("next leads off the server: %v", w.Header())
		}
	})
	t.Run("the cookie is Secure over TLS", func(t *testing.T) {
		r := httptest.NewRequest("POST", "/signin", strings.NewReader("token="+url.QueryEscape(opToken)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.TLS = &tls.ConnectionState{}
		w := httptest.NewRecorder()
		e.h.ServeHTTP(w, r)
		if c := w.Result().Cookies(); len(c) != 1 || !c[0].Secure {
			t.Fatalf("%v", c)
		}
	})
	t.Run("a POST from a session needs its CSRF token", func(t *testing.T) {
		sid := signIn(t, e, opToken)
		page := e.req("GET", "/recipes/hello", "", "cookie="+sid)
		token := csrfFrom(t, page.Body.String())
		form := "Content-Type: application/x-www-form-urlencoded"
		if w := e.req("POST", "/recipes/hello/runs", "var.project=Pilot", form, "cookie="+sid); w.Code != 403 || !strings.Contains(w.Body.String(), "CSRF") {
			t.Fatalf("without the token: %d %s", w.Code, w.Body)
		}
		if w := e.req("POST", "/api/v1/recipes/hello/runs", "{}", "cookie="+sid, "X-CSRF-Token: "+token+"x"); w.Code != 403 || errorCode(t, w) != api.CodeCSRF {
			t.Fatalf("with a wrong header: %d %s", w.Code, w.Body)
		}
		other := signIn(t, e, opToken)
		if w := e.req("POST", "/recipes/hello/runs", "csrf="+token, form, "cookie="+other); w.Code != 403 {
			t.Fatalf("another session's token: %d", w.Code)
		}
		w := e.req("POST", "/recipes/hello/runs", "csrf="+url.QueryEscape(token)+"&var.project=Second&var.publish=false&var.api_token=&var.stamp=", form, "cookie="+sid)
		if w.Code != 303 || !strings.HasPrefix(w.Header().Get("Location"), "/runs/") {
			t.Fatalf("with the token: %d %s", w.Code, w.Body)
		}
		if got := e.fb.started[len(e.fb.started)-1]; strings.Join(got, " ") != "project=Second" {
			t.Fatalf("only the changed var is an override: %q", got)
		}
		if w := e.req("POST", "/api/v1/recipes/hello/runs", "{}", "cookie="+sid, "X-CSRF-Token: "+token); w.Code != 201 {
			t.Fatalf("the header: %d %s", w.Code, w.Body)
		}
	})
	t.Run("sign-out ends the session", func(t *testing.T) {
		sid := signIn(t, e, readToken)
		token := csrfFrom(t, e.req("GET", "/", "", "cookie="+sid).Body.String())
		e.req("POST", "/signout", "csrf="+url.QueryEscape(token), "Content-Type: application/x-www-form-urlencoded", "cookie="+sid)
		if w := e.req("GET", "/api/v1/recipes", "", "cookie="+sid); w.Code != 401 {
			t.Fatalf("%d", w.Code)
		}
	})
}

func signIn(t *testing.T, e *testEnv, token string) string {
	t.Helper()
	w := e.req("POST", "/signin", "token="+url.QueryEscape(token), "Content-Type: application/x-www-form-urlencoded")
	for _, c := range w.Result().Cookies() {
		if c.Name == sessionCookie {
			return c.Value
		}
	}
	t.Fatalf("no session cookie: %d %s", w.Code, w.Body)
	return ""
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfFrom(t *testing.T, page string) string {
	t.Helper()
	m := csrfRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in the page:\n%s", page)
	}
	return m[1]
}

func TestWithoutTokensEveryoneIsAnOperatorButCSRFHolds(t *testing.T) {
	e := newTestEnv(t, Tokens{}, nil)
	w := e.req("GET", "/recipes/hello", "")
	if w.Code != 200 {
		t.Fatalf("%d", w.Code)
	}
	var sid string
	for _, c := range w.Result().Cookies() {
		sid = c.Value
	}
	token := csrfFrom(t, w.Body.String())
	form := "Content-Type: application/x-www-form-urlencoded"
	if w := e.req("POST", "/recipes/hello/runs", "", form, "cookie="+sid); w.Code != 403 {
		t.Fatalf("no CSRF token: %d", w.Code)
	}
	if w := e.req("POST", "/api/v1/recipes/hello/runs", "{}"); w.Code != 403 || errorCode(t, w) != api.CodeCSRF {
		t.Fatalf("an API POST without a session: %d %s", w.Code, w.Body)
	}
	if w := e.req("POST", "/recipes/hello/runs", "csrf="+url.QueryEscape(token), form, "cookie="+sid, "Sec-Fetch-Site: cross-site"); w.Code != 403 {
		t.Fatalf("a cross-site POST: %d", w.Code)
	}
	if w := e.req("POST", "/recipes/hello/runs", "csrf="+url.QueryEscape(token), form, "cookie="+sid, "Origin: https://evil.example"); w.Code != 403 {
		t.Fatalf("a POST from another origin: %d", w.Code)
	}
	if w := e.req("POST", "/recipes/hello/runs", "csrf="+url.QueryEscape(token), form, "cookie="+sid, "Sec-Fetch-Site: same-origin"); w.Code != 303 {
		t.Fatalf("a same-origin POST with the token: %d %s", w.Code, w.Body)
	}
	if w := e.req("GET", "/api/v1/recipes", "", bearer(opToken)); w.Code != 401 {
		t.Fatalf("a token where none is configured: %d", w.Code)
	}
}

func TestHostileIDsNeverReachTheBackend(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	run := e.fb.order[0]
	long := strings.Repeat("a", 200)
	paths := []string{
		"/api/v1/runs/../../etc/passwd",
		"/api/v1/runs/%2e%2e/tasks/x/log",
		"/api/v1/runs/%2e%2e%2f%2e%2e%2fetc",
		"/api/v1/runs/..%2fetc",
		"/api/v1/runs/" + long,
		"/api/v1/runs/%ff%fe",
		"/api/v1/runs/" + run + "/tasks/..%2f..%2fstate.json/log",
		"/api/v1/runs/" + run + "/tasks/%2e%2e/log",
		"/api/v1/runs/" + run + "/tasks/" + long + "/log",
		"/api/v1/runs/" + run + "/tasks/%c3%28/log/stream",
		"/api/v1/recipes/..",
		"/api/v1/recipes/%2e%2e%2fsecrets",
		"/api/v1/recipes/" + long,
		"/api/v1/recipes/%ff",
		"/api/v1/recipes/.hidden",
		"/runs/%2e%2e",
		"/runs/" + long,
		"/recipes/%ff",
	}
	for _, p := range paths {
		w := e.req("GET", p, "", bearer(opToken))
		if w.Code != 400 {
			t.Errorf("GET %s: %d, want 400", p, w.Code)
		} else if strings.HasPrefix(p, "/api/") && errorCode(t, w) != api.CodeInvalidID {
			t.Errorf("GET %s: %s", p, w.Body)
		}
	}
	for _, p := range []string{"/api/v1/recipes/%2e%2e/runs", "/api/v1/runs/" + long + "/cancel", "/api/v1/runs/%ff/resume", "/api/v1/runs/" + run + "/tasks/a%2f..%2fb/retry"} {
		if w := e.req("POST", p, "{}", bearer(opToken)); w.Code != 400 || errorCode(t, w) != api.CodeInvalidID {
			t.Errorf("POST %s: %d %s", p, w.Code, w.Body)
		}
	}
	if n := e.fb.totalCalls(); n != 0 {
		t.Fatalf("hostile ids reached the backend %d times: %v", n, e.fb.calls)
	}
}

func TestSecretsAreMaskedInAnswersAndPages(t *testing.T) {
	m := secret.New()
	m.Add("hunter2-very-secret")
	e := newTestEnv(t, withTokens(), m)
	run := e.fb.order[0]
	e.fb.runs[run].run.Tasks[0].Outputs = map[string]any{"url": "s3://u:hunter2-very-secret@host/b"}
	e.fb.appendLog(run, "zip", "token=hunter2-very-secret")
	for _, p := range []string{"/api/v1/runs/" + run, "/runs/" + run, "/api/v1/runs/" + run + "/tasks/zip/log"} {
		w := e.req("GET", p, "", bearer(opToken))
		if w.Code != 200 || strings.Contains(w.Body.String(), "hunter2") || !strings.Contains(w.Body.String(), "***") {
			t.Errorf("%s: %d\n%s", p, w.Code, w.Body)
		}
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	for _, p := range []string{"/signin", "/", "/api/v1/recipes", "/static/app.js", "/api/v1/runs/%2e%2e"} {
		w := e.req("GET", p, "")
		h := w.Header()
		if h.Get("Content-Security-Policy") != contentSecurityPolicy || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: %v", p, h)
		}
	}
	if !strings.Contains(contentSecurityPolicy, "script-src 'self';") || strings.Contains(contentSecurityPolicy, "unsafe") {
		t.Fatal(contentSecurityPolicy)
	}
}
