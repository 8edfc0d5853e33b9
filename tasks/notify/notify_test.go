package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/errclass"
	"github.com/novelfactory/runner/internal/testtools"
)

// hookPath is the part of a webhook URL that is its credential.
const hookPath = "/services/T0AAAA1111/B0BBBB2222/hookTOKENxyz123456789"

// hook is a stateful webhook: it answers each request with the next of
// answers (the last one again when they run out) and keeps what it got.
type hook struct {
	t       *testing.T
	mu      sync.Mutex
	answers []func(w http.ResponseWriter, r *http.Request)
	bodies  []string
	srv     *httptest.Server
}

func newHook(t *testing.T, answers ...func(w http.ResponseWriter, r *http.Request)) *hook {
	h := &hook{t: t, answers: answers}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		n := len(h.bodies)
		h.bodies = append(h.bodies, string(body))
		h.mu.Unlock()
		if r.Method != http.MethodPost || r.URL.Path != hookPath || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("request %s %s (%s)", r.Method, r.URL.Path, r.Header.Get("Content-Type"))
		}
		answers[min(n, len(answers)-1)](w, r)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) url() string { return h.srv.URL + hookPath }

func (h *hook) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.bodies...)
}

func status(code int, body string, headers ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.WriteHeader(code)
		io.WriteString(w, body)
	}
}

var ok = status(200, "ok")

// waits records the waits between tries instead of waiting.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

// decode decodes with as the registered type does, defaults and Check
// included.
func decode(t *testing.T, with map[string]any) *Params {
	t.Helper()
	r := tasktype.NewRegistry()
	Register(r)
	typ, _ := r.Lookup("notify")
	p, err := typ.Decode(with, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return p.(*Params)
}

type sent struct {
	out  tasktype.Outputs
	log  string
	err  error
	wait []time.Duration
	mask *secret.Masker
}

func send(t *testing.T, with map[string]any) sent {
	t.Helper()
	p := decode(t, with)
	w := &waits{}
	log := &testtools.SyncBuffer{}
	m := secret.New()
	env := &tasktype.Env{RunID: "20260301T040000Z-abc123", Recipe: "weekly-backup", TaskID: "notify-failure", Log: log, Secrets: m}
	out, err := sender{client: client, sleep: w.sleep}.send(context.Background(), env, p)
	return sent{out, log.String(), err, w.d, m}
}

// noURL fails when text holds the webhook URL or its token.
func noURL(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range []string{hookPath, "hookTOKENxyz123456789", "B0BBBB2222"} {
		if strings.Contains(text, s) {
			t.Errorf("%s holds %q: %s", where, s, text)
		}
	}
}

func TestASlackMessageIsSentOnce(t *testing.T) {
	h := newHook(t, ok)
	s := send(t, map[string]any{"url": h.url(), "title": "weekly-backup failed", "text": "see runner runs"})
	if s.err != nil {
		t.Fatal(s.err)
	}
	if s.out["status"] != 200 || s.out["attempts"] != 1 {
		t.Errorf("outputs %v", s.out)
	}
	if got := h.requests(); len(got) != 1 || got[0] != `{"text":"*weekly-backup failed*\nsee runner runs"}` {
		t.Errorf("requests %q", got)
	}
	noURL(t, "log", s.log)
	if !strings.Contains(s.log, "to ***: 200 OK") {
		t.Errorf("log %q", s.log)
	}
}

func TestTheURLAndItsTokenAreMaskedOnceKnown(t *testing.T) {
	h := newHook(t, ok)
	s := send(t, map[string]any{"url": h.url(), "text": "hi"})
	for _, text := range []string{h.url(), hookPath, "token hookTOKENxyz123456789 in a line", `Post "` + h.url() + `": EOF`} {
		noURL(t, "masked text", s.mask.String(text))
	}
	if got := s.mask.String("hooks.slack.com webhooks services"); got != "hooks.slack.com webhooks services" {
		t.Errorf("masked plain words: %q", got)
	}
}

func TestAFlakyHookIsTriedAgainWithGrowingWaits(t *testing.T) {
	h := newHook(t, status(500, "oops"), status(502, ""), status(503, ""), ok)
	s := send(t, map[string]any{"url": h.url(), "text": "hi", "attempts": 5, "delay": "1s", "max_delay": "3s"})
	if s.err != nil {
		t.Fatal(s.err)
	}
	if s.out["attempts"] != 4 || len(h.requests()) != 4 {
		t.Errorf("outputs %v after %d requests", s.out, len(h.requests()))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second}
	if len(s.wait) != 3 || s.wait[0] != want[0] || s.wait[1] != want[1] || s.wait[2] != want[2] {
		t.Errorf("waits %v, want %v", s.wait, want)
	}
	noURL(t, "log", s.log)
}

func TestA429IsTriedAgainAfterRetryAfterUpToMaxDelay(t *testing.T) {
	h := newHook(t, status(429, "slow down", "Retry-After", "7"), status(429, "", "Retry-After", "120"), ok)
	s := send(t, map[string]any{"url": h.url(), "text": "hi", "delay": "1s", "max_delay": "1m"})
	if s.err != nil {
		t.Fatal(s.err)
	}
	if len(s.wait) != 2 || s.wait[0] != 7*time.Second || s.wait[1] != time.Minute {
		t.Errorf("waits %v, want [7s 1m0s]", s.wait)
	}
	if s.out["attempts"] != 3 {
		t.Errorf("outputs %v", s.out)
	}
}

func TestAHookAnswering500EveryTimeFailsWithTheStatusAndNoURL(t *testing.T) {
	h := newHook(t, status(500, "internal error"))
	s := send(t, map[string]any{"url": h.url(), "text": "hi", "attempts": 3})
	if s.err == nil {
		t.Fatal("no error")
	}
	if n := len(h.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	msg := s.err.Error()
	if !strings.Contains(msg, "POST to ***: the server answered 500 Internal Server Error") || !strings.Contains(msg, "after 3 attempts") || !strings.Contains(msg, `"internal error"`) {
		t.Errorf("error %q", msg)
	}
	noURL(t, "error", msg)
	noURL(t, "log", s.log)
	if errclass.Of(s.err) != errclass.Transient {
		t.Errorf("class %s, want transient (retry.on may try the task later)", errclass.Of(s.err))
	}
}

func TestA4xxFailsAtOnceWithTheStartOfTheAnswer(t *testing.T) {
	h := newHook(t, status(404, "no_service "+strings.Repeat("x", 1000)))
	s := send(t, map[string]any{"url": h.url(), "text": "hi"})
	if s.err == nil || len(h.requests()) != 1 || len(s.wait) != 0 {
		t.Fatalf("error %v after %d requests", s.err, len(h.requests()))
	}
	msg := s.err.Error()
	if !strings.Contains(msg, "answered 404 Not Found: \"no_service xxx") || len(msg) > 500 {
		t.Errorf("error %q", msg)
	}
	if errclass.Of(s.err) == errclass.Transient {
		t.Error("a 404 is marked transient")
	}
}

func TestASlowHookTimesOutAndIsTriedAgain(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hang := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}
	h := newHook(t, hang, hang, ok)
	s := send(t, map[string]any{"url": h.url(), "text": "hi", "timeout": "20ms", "attempts": 3})
	if s.err != nil {
		t.Fatal(s.err)
	}
	if s.out["attempts"] != 3 || !strings.Contains(s.log, "no answer within 20ms") {
		t.Errorf("outputs %v, log %q", s.out, s.log)
	}
	noURL(t, "log", s.log)
}

func TestANetworkErrorIsMaskedAndTriedAgain(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused
	s := send(t, map[string]any{"url": "http://" + addr + hookPath, "text": "hi", "attempts": 2})
	if s.err == nil || len(s.wait) != 1 {
		t.Fatalf("error %v, waits %v", s.err, s.wait)
	}
	if msg := s.err.Error(); !strings.Contains(msg, "POST to ***:") || !strings.Contains(msg, "connection refused") {
		t.Errorf("error %q", msg)
	}
	noURL(t, "error", s.err.Error())
}

func TestTheContextEndsTheWaitsAtOnce(t *testing.T) {
	h := newHook(t, status(500, ""))
	p := decode(t, map[string]any{"url": h.url(), "text": "hi", "delay": "1h", "max_delay": "1h"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sender{client: &http.Client{}, sleep: sleep}.send(ctx, &tasktype.Env{Log: io.Discard, Secrets: secret.New()}, p)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

func TestPayloads(t *testing.T) {
	long := strings.Repeat("가나다 ", 1000) // 4000 characters
	for _, tc := range []struct {
		name string
		with map[string]any
		want func(doc map[string]any) bool
	}{
		{"discord sends content", map[string]any{"format": "discord", "title": "failed", "text": "hi"},
			func(d map[string]any) bool { return d["content"] == "**failed**\nhi" && len(d) == 1 }},
		{"discord cuts a long message at a space to 2000 characters", map[string]any{"format": "discord", "text": long},
			func(d map[string]any) bool {
				c, _ := d["content"].(string)
				return utf8.RuneCountInString(c) <= 2000 && utf8.RuneCountInString(c) > 1900 && strings.HasSuffix(c, "가나다…")
			}},
		{"json sends the run's facts", map[string]any{"format": "json", "text": "hi", "status": "failed"},
			func(d map[string]any) bool {
				return d["text"] == "hi" && d["status"] == "failed" && d["recipe"] == "weekly-backup" &&
					d["run_id"] == "20260301T040000Z-abc123" && d["task"] == "notify-failure"
			}},
		{"json sends a payload as written", map[string]any{"format": "json", "payload": map[string]any{"event": "backup", "n": 3}},
			func(d map[string]any) bool { return d["event"] == "backup" && d["n"] == 3.0 && len(d) == 2 }},
		{"slack puts the status before the title", map[string]any{"title": "backup", "status": "failed", "text": "x"},
			func(d map[string]any) bool { return d["text"] == "*[failed] backup*\nx" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHook(t, ok)
			tc.with["url"] = h.url()
			if s := send(t, tc.with); s.err != nil {
				t.Fatal(s.err)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(h.requests()[0]), &doc); err != nil || !tc.want(doc) {
				t.Errorf("sent %s (%v)", h.requests()[0], err)
			}
		})
	}
}

func TestBadParamsAreRefusedWithoutRepeatingTheURL(t *testing.T) {
	r := tasktype.NewRegistry()
	Register(r)
	typ, _ := r.Lookup("notify")
	for _, tc := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"url": "ftp://host" + hookPath, "text": "x"}, `not "ftp:"`},
		{map[string]any{"url": "https://" + hookPath[1:] + "%zz", "text": "x"}, "not a URL"},
		{map[string]any{"url": "https://h" + hookPath}, "the message is empty"},
		{map[string]any{"url": "https://h" + hookPath, "text": "x", "payload": map[string]any{"a": 1}}, "format: json only"},
		{map[string]any{"url": "https://h" + hookPath, "text": "x", "attempts": 0}, "at least 1"},
	} {
		_, err := typ.Decode(tc.with, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.with, err, tc.want)
			continue
		}
		noURL(t, "error", err.Error())
	}
}

func TestThePlanSaysWhereWithoutTheURL(t *testing.T) {
	r := tasktype.NewRegistry()
	Register(r)
	typ, _ := r.Lookup("notify")
	p, err := typ.Decode(map[string]any{"url": "https://hooks.slack.com" + hookPath, "text": "x"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := secret.New()
	plan, err := typ.Plan(context.Background(), &tasktype.Env{Secrets: m}, p)
	if err != nil || plan.Summary != "would POST a slack message to ***" {
		t.Fatalf("plan %q, %v", plan.Summary, err)
	}
	noURL(t, "masked params", m.String("url: https://hooks.slack.com"+hookPath))
}

// TestARedirectIsNeitherFollowedNorTakenForSuccess: Go's client follows a
// 307 with the message to the other host, and sends it the webhook's URL,
// token and all, as Referer; it follows a 301 with a GET that carries no
// message and reported 200 OK. A webhook that redirects fails at once,
// and the other host hears nothing.
func TestARedirectIsNeitherFollowedNorTakenForSuccess(t *testing.T) {
	for _, code := range []int{301, 302, 303, 307, 308} {
		var other []string
		var mu sync.Mutex
		elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			other = append(other, r.Method+" Referer: "+r.Header.Get("Referer"))
			mu.Unlock()
		}))
		t.Cleanup(elsewhere.Close)
		h := newHook(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/elsewhere", code)
		})
		s := send(t, map[string]any{"url": h.url(), "text": "hi"})
		mu.Lock()
		if len(other) != 0 {
			t.Errorf("%d: the other host got %q", code, other)
		}
		mu.Unlock()
		if s.err == nil {
			t.Errorf("%d: no error, outputs %v", code, s.out)
			continue
		}
		if msg := s.err.Error(); !strings.Contains(msg, fmt.Sprintf("answered %d", code)) || !strings.Contains(msg, "redirect") {
			t.Errorf("%d: error %q", code, msg)
		}
		if errclass.Of(s.err) == errclass.Transient || len(h.requests()) != 1 {
			t.Errorf("%d: tried %d times", code, len(h.requests()))
		}
		noURL(t, "error", s.err.Error())
	}
}

// TestAnAnswerEchoingTheURLShowsNoPartOfIt: the start of an error answer
// was cut at 300 bytes before it was masked, so a hook that echoes the
// request showed the first bytes of a token cut there; and one that echoes
// the Authorization header showed the URL's user:password in base64.
func TestAnAnswerEchoingTheURLShowsNoPartOfIt(t *testing.T) {
	var u string
	h := newHook(t, func(w http.ResponseWriter, r *http.Request) {
		i := strings.Index(u, "hookTOKEN")
		w.WriteHeader(400)
		io.WriteString(w, strings.Repeat("x", bodyShown-i-7)+u+" from "+r.Header.Get("Authorization"))
	})
	u = strings.Replace(h.url(), "http://", "http://ops:pw4hook@", 1)
	s := send(t, map[string]any{"url": u, "text": "hi"})
	if s.err == nil {
		t.Fatal("no error")
	}
	msg := s.err.Error()
	noURL(t, "error", msg)
	if strings.Contains(msg, "hookTOK") {
		t.Errorf("error holds the start of the token: %q", msg)
	}
	h2 := newHook(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(401)
		io.WriteString(w, "who is "+r.Header.Get("Authorization"))
	})
	u = strings.Replace(h2.url(), "http://", "http://ops:pw4hook@", 1)
	s = send(t, map[string]any{"url": u, "text": "hi"})
	if s.err == nil {
		t.Fatal("no error")
	}
	basic := base64.StdEncoding.EncodeToString([]byte("ops:pw4hook"))
	if msg := s.err.Error(); strings.Contains(msg, basic) || strings.Contains(msg, "pw4hook") {
		t.Errorf("error holds the credentials: %q", msg)
	}
}

// TestWaitsNeverOverflow: the wait doubled without bound, and past the
// 34th try it overflowed: negative waits ("trying again in
// -1899017h50m34s") and none at all, hammering the hook.
func TestWaitsNeverOverflow(t *testing.T) {
	h := newHook(t, status(500, ""))
	s := send(t, map[string]any{"url": h.url(), "text": "hi", "attempts": 70, "delay": "1s", "max_delay": "30s"})
	if s.err == nil || len(s.wait) != 69 {
		t.Fatalf("error %v, %d waits", s.err, len(s.wait))
	}
	for i, d := range s.wait {
		if d <= 0 || d > 30*time.Second || i > 0 && d < s.wait[i-1] {
			t.Fatalf("wait %d is %v (waits %v)", i+1, d, s.wait)
		}
	}
	if strings.Contains(s.log, "in -") || strings.Contains(s.log, "in 0s") {
		t.Error("the log tells of a wait of no time or less")
	}
}

// TestAHugeRetryAfterWaitsMaxDelay: a Retry-After of 10^11 seconds
// overflowed a time.Duration, was read as no wait at all, and the hook
// asking for a long pause was tried again after delay.
func TestAHugeRetryAfterWaitsMaxDelay(t *testing.T) {
	for _, ra := range []string{"100000000000", "9223372036854775807", "1e400"} {
		h := newHook(t, status(429, "", "Retry-After", ra), ok)
		s := send(t, map[string]any{"url": h.url(), "text": "hi", "delay": "1s", "max_delay": "1m"})
		if s.err != nil || len(s.wait) != 1 || s.wait[0] != time.Minute {
			t.Errorf("Retry-After %s: waits %v (error %v), want [1m0s]", ra, s.wait, s.err)
		}
	}
}
