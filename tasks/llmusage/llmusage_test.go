package llmusage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/decimal"
	"github.com/novelfactory/runner/internal/errclass"
	"github.com/novelfactory/runner/internal/llmfake"
	"github.com/novelfactory/runner/tasks/internal/tokens"
)

// clock is a test's "now", moved by hand; waits advance it instead of
// sleeping and are recorded.
type clock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.waits = append(c.waits, d)
	c.t = c.t.Add(d)
	return ctx.Err()
}

// fixture is a fake provider, a clock both share and a task folder.
type fixture struct {
	t       *testing.T
	clock   *clock
	fake    *llmfake.Server
	dir     string
	environ []string
	log     bytes.Buffer
	secrets *secret.Masker
}

// today is the fixture's first "now": 10:00 UTC on 2026-11-20.
var today = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, opts ...llmfake.Option) *fixture {
	c := &clock{t: today}
	f := &fixture{t: t, clock: c, dir: t.TempDir(), secrets: secret.New()}
	f.fake = llmfake.New(t, append([]llmfake.Option{llmfake.WithClock(c.now)}, opts...)...)
	f.environ = []string{"OPENAI_ADMIN_KEY=" + llmfake.OpenAIKey, "ANTHROPIC_ADMIN_KEY=" + llmfake.AnthropicKey}
	return f
}

func (f *fixture) env() *tasktype.Env {
	return &tasktype.Env{Dir: f.dir, Environ: f.environ, Log: &f.log, Secrets: f.secrets, RunID: "r1", TaskID: "usage", Started: f.clock.now()}
}

func (f *fixture) deps() deps {
	return deps{now: f.clock.now, sleep: f.clock.sleep, client: &http.Client{CheckRedirect: noRedirects}}
}

// params decodes with as the registry does (defaults, then Check), with
// the fake's URL as base_url and "cache" as the cache.
func (f *fixture) params(with map[string]any) *Params {
	f.t.Helper()
	r := tasktype.NewRegistry()
	Register(r)
	typ, _ := r.Lookup("llmusage")
	full := map[string]any{"cache": "cache", "base_url": f.fake.URL()}
	for k, v := range with {
		full[k] = v
	}
	p, err := typ.Decode(full, f.dir)
	if err != nil {
		f.t.Fatalf("params %v: %v", with, err)
	}
	return p.(*Params)
}

func (f *fixture) run(with map[string]any) (tasktype.Outputs, error) {
	f.t.Helper()
	f.fake.ResetRequests()
	return run(context.Background(), f.env(), f.params(with), f.deps())
}

func (f *fixture) mustRun(with map[string]any) tasktype.Outputs {
	f.t.Helper()
	out, err := f.run(with)
	if err != nil {
		f.t.Fatalf("run %v: %v\nlog:\n%s", with, err, f.log.String())
	}
	return out
}

// day returns the fixture's today moved by n days, at midnight.
func day(n int) time.Time { return today.Truncate(24*time.Hour).AddDate(0, 0, n) }

func dayName(n int) string { return day(n).Format(dayLayout) }

// total sums the USD that tokencost reads from files, exactly.
func total(t *testing.T, files []any) string {
	t.Helper()
	opt := tokens.Options{Location: time.UTC, Places: 6, Rate: decimal.Dec{Units: 1}}
	prices, err := tokens.ParsePrices("default", tokens.DefaultPrices())
	if err != nil {
		t.Fatal(err)
	}
	opt.Prices = prices
	counter := tokens.NewCounter(opt)
	for _, f := range files {
		if _, _, err := tokens.Read(context.Background(), f.(string), counter.Add); err != nil {
			t.Fatal(err)
		}
	}
	days, err := counter.Days()
	if err != nil {
		t.Fatal(err)
	}
	var sum = days[0].Cost
	for _, d := range days[1:] {
		if sum, err = sum.Add(d.Cost); err != nil {
			t.Fatal(err)
		}
	}
	return sum.String()
}

func TestAFirstRunFetchesThirtyDaysInOneRequestAndARerunOnlyTheRevisionWindow(t *testing.T) {
	f := newFixture(t)
	for n := -40; n <= 0; n++ {
		f.fake.SetCost("openai", dayName(n), "1.25")
	}
	out := f.mustRun(map[string]any{"provider": "openai"})
	reqs := f.fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests on a first run, want 1: %+v", len(reqs), reqs)
	}
	r := reqs[0]
	if r.Path != "/v1/organization/costs" || r.Header.Get("Authorization") != "Bearer "+llmfake.OpenAIKey ||
		r.Query.Get("start_time") != strconv.FormatInt(day(-30).Unix(), 10) || r.Query.Get("end_time") != "" ||
		r.Query.Get("bucket_width") != "1d" || r.Query.Get("limit") != "31" || r.Header.Get("OpenAI-Organization") != "" {
		t.Fatalf("request %s %v %v", r.Path, r.Query, r.Header)
	}
	costs := out["costs"].([]any)
	if len(costs) != 31 || out["requests"] != 1 || len(out["fetched"].([]any)) != 31 {
		t.Fatalf("outputs %v", out)
	}
	if got := total(t, costs); got != "38.75" { // 31 days × 1.25
		t.Fatalf("total %s", got)
	}

	// The same day again: the days the provider may still revise, and
	// today, in one request.
	out = f.mustRun(map[string]any{"provider": "openai"})
	reqs = f.fake.Requests()
	if len(reqs) != 1 || reqs[0].Query.Get("start_time") != strconv.FormatInt(day(-2).Unix(), 10) {
		t.Fatalf("rerun: %+v", reqs)
	}
	if got := out["fetched"].([]any); len(got) != 3 || got[0] != dayName(-2) {
		t.Fatalf("rerun fetched %v", got)
	}
}

func TestARevisedBucketForYesterdayIsPickedUpAndChangesTheTotalByExactlyThat(t *testing.T) {
	for _, provider := range []string{"openai", "anthropic"} {
		t.Run(provider, func(t *testing.T) {
			f := newFixture(t)
			for n := -10; n <= 0; n++ {
				f.fake.SetCost(provider, dayName(n), "2.5")
			}
			with := map[string]any{"provider": provider, "since": dayName(-10)}
			before := total(t, f.mustRun(with)["costs"].([]any))
			f.fake.SetCost(provider, dayName(-1), "2.5123") // the provider revises yesterday
			f.clock.set(today.Add(3 * time.Hour))
			out := f.mustRun(map[string]any{"provider": provider})
			if n := len(f.fake.Requests()); n != 1 {
				t.Fatalf("%d requests on the rerun, want 1", n)
			}
			after := total(t, out["costs"].([]any))
			if before != "27.5" || after != "27.5123" {
				t.Fatalf("total %s then %s, want 27.5 then 27.5123", before, after)
			}
		})
	}
}

func TestDaysFetchedLongEnoughAfterTheyEndedAreNeverFetchedAgain(t *testing.T) {
	f := newFixture(t)
	f.mustRun(map[string]any{"provider": "openai"})
	// Five days later: the days before today-3 were fetched 2 days or more
	// after they ended; today-2… were not, and the five new days never.
	f.clock.set(today.AddDate(0, 0, 5))
	out := f.mustRun(map[string]any{"provider": "openai"})
	reqs := f.fake.Requests()
	if len(reqs) != 1 || reqs[0].Query.Get("start_time") != strconv.FormatInt(day(-2).Unix(), 10) {
		t.Fatalf("requests %+v", reqs)
	}
	if got := out["fetched"].([]any); len(got) != 8 || got[0] != dayName(-2) || got[7] != dayName(5) {
		t.Fatalf("fetched %v", got)
	}
	// A since that reaches back into final days fetches only the others.
	f.clock.set(today.AddDate(0, 0, 9))
	out = f.mustRun(map[string]any{"provider": "openai", "since": dayName(-30)})
	if got := out["fetched"].([]any); got[0] != dayName(3) {
		t.Fatalf("with since: fetched %v", got)
	}
}

func TestPaginationAcrossSeveralPagesKeepsEveryDayOnce(t *testing.T) {
	f := newFixture(t)
	for n := -89; n <= -1; n++ {
		f.fake.SetCost("anthropic", dayName(n), fmt.Sprintf("0.%02d", (n+100)%100))
	}
	out := f.mustRun(map[string]any{"provider": "anthropic", "since": dayName(-89), "until": dayName(-1)})
	reqs := f.fake.Requests()
	if len(reqs) != 3 { // 89 days, 31 a page
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, r := range reqs {
		if r.Path != "/v1/organizations/cost_report" || r.Header.Get("x-api-key") != llmfake.AnthropicKey ||
			r.Header.Get("anthropic-version") != "2023-06-01" || r.Query.Get("limit") != "31" ||
			r.Query.Get("starting_at") != day(-89).Format(time.RFC3339) || r.Query.Get("ending_at") != day(0).Format(time.RFC3339) ||
			(i == 0) != (r.Query.Get("page") == "") {
			t.Fatalf("request %d: %s %v %v", i, r.Path, r.Query, r.Header)
		}
	}
	costs := out["costs"].([]any)
	if len(costs) != 89 {
		t.Fatalf("%d files", len(costs))
	}
	var want int64
	for n := -89; n <= -1; n++ {
		want += int64((n + 100) % 100)
	}
	if got := total(t, costs); got != strconv.FormatFloat(float64(want)/100, 'f', -1, 64) {
		t.Fatalf("total %s, want %d cents", got, want)
	}
}

func TestHourlyUsageIsKeptPerDayAndGroupedByModel(t *testing.T) {
	for _, provider := range []string{"openai", "anthropic"} {
		t.Run(provider, func(t *testing.T) {
			f := newFixture(t)
			for h := 0; h < 48; h++ {
				f.fake.AddUsage(provider, llmfake.Usage{Hour: day(-2).Add(time.Duration(h) * time.Hour), Model: "gpt-4o-mini", Requests: 1, Input: 1000, Output: 100})
			}
			out := f.mustRun(map[string]any{"provider": provider, "reports": []any{"usage"}, "bucket_width": "1h", "since": dayName(-2), "until": dayName(-1)})
			reqs := f.fake.Requests()
			if len(reqs) != 1 || reqs[0].Query.Get("bucket_width") != "1h" || reqs[0].Query.Get("limit") != "48" {
				t.Fatalf("requests %+v", reqs)
			}
			if g := reqs[0].Query.Get("group_by") + reqs[0].Query.Get("group_by[]"); g != "model" {
				t.Fatalf("group_by %q", g)
			}
			files := out["usage"].([]any)
			if len(files) != 2 || len(out["costs"].([]any)) != 0 {
				t.Fatalf("outputs %v", out)
			}
			for _, file := range files {
				var d dayFile
				data, _ := os.ReadFile(file.(string))
				if err := json.Unmarshal(data, &d); err != nil || len(d.Data) != 24 || d.Runner.BucketWidth != "1h" || !d.Runner.Complete {
					t.Fatalf("%s: %v, %d buckets, %+v", file, err, len(d.Data), d.Runner)
				}
			}
			// Seoul's days cut the UTC hours differently: tokencost sees hours.
			var calls int64
			seoul, _ := time.LoadLocation("Asia/Seoul")
			days := map[string]int64{}
			for _, file := range files {
				if _, _, err := tokens.Read(context.Background(), file.(string), func(r tokens.Record) error {
					calls += r.Calls
					days[r.Time.In(seoul).Format(dayLayout)] += r.Input
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			wantCalls := int64(48)
			if provider == "anthropic" {
				wantCalls = 0 // Anthropic's usage report does not count requests
			}
			if calls != wantCalls || len(days) != 3 || days[dayName(-2)] != 15*1000 {
				t.Fatalf("calls %d, Seoul days %v", calls, days)
			}
		})
	}
}

func TestTheOrganizationHeaderIsSentWhenOpenAIOrgIDIsSet(t *testing.T) {
	f := newFixture(t, llmfake.WithOrganization("org-factory"))
	f.environ = append(f.environ, "OPENAI_ORG_ID=org-factory")
	f.mustRun(map[string]any{"provider": "openai"})
	if got := f.fake.Requests()[0].Header.Get("OpenAI-Organization"); got != "org-factory" {
		t.Fatalf("OpenAI-Organization %q", got)
	}
	f.environ = append(f.environ, "OPENAI_ORG_ID=org-other")
	_, err := f.run(map[string]any{"provider": "openai"})
	if err == nil || !strings.Contains(err.Error(), `OPENAI_ORG_ID is "org-other"`) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("wrong organization: %v", err)
	}
}

// failure runs with the given environment changes and returns the error,
// checking that no key appears in it or in the log.
func (f *fixture) failure(with map[string]any) error {
	f.t.Helper()
	_, err := f.run(with)
	if err == nil {
		f.t.Fatalf("run %v succeeded", with)
	}
	for _, key := range []string{llmfake.OpenAIKey, llmfake.OpenAIProjectKey, llmfake.AnthropicKey, llmfake.AnthropicAPIKey, "FAKE"} {
		if strings.Contains(err.Error(), key) || strings.Contains(f.log.String(), key) {
			f.t.Fatalf("a key shows: %v\nlog:\n%s", err, f.log.String())
		}
	}
	return err
}

func TestRefusedKeysSayWhatKeyIsNeededAndAreMasked(t *testing.T) {
	for _, c := range []struct {
		provider, env, key string
		want               []string
	}{
		{"openai", "OPENAI_ADMIN_KEY", "sk-wrongKEYwrongKEY0123", []string{"401 Unauthorized", "admin key (sk-admin-…)", "OPENAI_ORG_ID is not set", "OPENAI_ADMIN_KEY"}},
		{"openai", "OPENAI_ADMIN_KEY", llmfake.OpenAIProjectKey, []string{"403 Forbidden", "api.usage.read", "OPENAI_ADMIN_KEY"}},
		{"anthropic", "ANTHROPIC_ADMIN_KEY", "sk-ant-wrongKEY0123456", []string{"401 Unauthorized", "Admin API key (sk-ant-admin…)", "ANTHROPIC_ADMIN_KEY"}},
		{"anthropic", "ANTHROPIC_ADMIN_KEY", llmfake.AnthropicAPIKey, []string{"403 Forbidden", "not a workspace's API key", "ANTHROPIC_ADMIN_KEY"}},
	} {
		t.Run(c.provider+" "+c.key[:8], func(t *testing.T) {
			f := newFixture(t)
			f.environ = []string{c.env + "=" + c.key}
			err := f.failure(map[string]any{"provider": c.provider})
			if strings.Contains(err.Error(), c.key[6:]) {
				t.Fatalf("the key shows: %v", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q: %v", w, err)
				}
			}
			if n := len(f.fake.Requests()); n != 1 {
				t.Errorf("%d requests: a refused key is not tried again", n)
			}
			if errclass.Of(err) == errclass.Transient {
				t.Errorf("a refused key counted as transient")
			}
		})
	}
}

func TestAMissingKeyFailsBeforeAnyRequest(t *testing.T) {
	f := newFixture(t)
	f.environ = nil
	err := f.failure(map[string]any{"provider": "anthropic"})
	if !strings.Contains(err.Error(), "ANTHROPIC_ADMIN_KEY is not set") || len(f.fake.Requests()) != 0 {
		t.Fatalf("%v; %d requests", err, len(f.fake.Requests()))
	}
	_, err = plan(context.Background(), f.env(), f.params(map[string]any{"provider": "openai"}), f.deps())
	if err == nil || !strings.Contains(err.Error(), "OPENAI_ADMIN_KEY is not set") {
		t.Fatalf("plan: %v", err)
	}
}

func TestRateLimitsHonourRetryAfterThenBackOff(t *testing.T) {
	f := newFixture(t)
	limited := llmfake.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"7"}}, Body: `{"error":{"message":"Rate limit reached"}}`}
	bare := llmfake.Fault{Status: http.StatusTooManyRequests, Body: `{"error":{"message":"Rate limit reached"}}`}
	f.fake.Fail("/v1/organization/costs", limited, bare, bare)
	out := f.mustRun(map[string]any{"provider": "openai", "delay": "2s"})
	if n := len(f.fake.Requests()); n != 4 || out["requests"] != 4 {
		t.Fatalf("%d requests, outputs %v", n, out)
	}
	want := []time.Duration{7 * time.Second, 2 * time.Second, 4 * time.Second}
	if fmt.Sprint(f.clock.waits) != fmt.Sprint(want) {
		t.Fatalf("waits %v, want %v", f.clock.waits, want)
	}
	if !strings.Contains(f.log.String(), "429 Too Many Requests: rate limited") {
		t.Fatalf("log:\n%s", f.log.String())
	}
}

func TestARetryAfterLongerThanMaxDelayFailsAtOnceSayingWhen(t *testing.T) {
	f := newFixture(t)
	f.fake.Fail("/v1/organizations/cost_report", llmfake.Fault{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"3600"}}})
	err := f.failure(map[string]any{"provider": "anthropic"})
	if !strings.Contains(err.Error(), "asks to wait 1h0m0s, longer than max_delay 1m0s: run again after 2026-11-20T11:00:00Z") ||
		errclass.Of(err) != errclass.Transient || len(f.clock.waits) != 0 {
		t.Fatalf("%v (class %s, waits %v)", err, errclass.Of(err), f.clock.waits)
	}
}

func TestServerErrorsAreTriedAgainUpToAttempts(t *testing.T) {
	f := newFixture(t)
	f.fake.Fail("/v1/organization/costs", llmfake.Fault{Status: 500}, llmfake.Fault{Status: 502, Body: "<html>bad gateway</html>"})
	f.mustRun(map[string]any{"provider": "openai"})
	if len(f.fake.Requests()) != 3 || fmt.Sprint(f.clock.waits) != "[1s 2s]" {
		t.Fatalf("%d requests, waits %v", len(f.fake.Requests()), f.clock.waits)
	}

	g := newFixture(t)
	g.fake.Fail("/v1/organization/costs", llmfake.Fault{Status: 503}, llmfake.Fault{Status: 503}, llmfake.Fault{Status: 503})
	err := g.failure(map[string]any{"provider": "openai", "attempts": 3})
	if !strings.Contains(err.Error(), "503 Service Unavailable (the provider says: ") || !strings.HasSuffix(err.Error(), "(after 3 attempts)") ||
		errclass.Of(err) != errclass.Transient {
		t.Fatalf("%v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(g.dir, "cache")); len(entries) != 0 {
		t.Fatalf("a failed fetch wrote %v", entries)
	}
}

func TestASlowServerTimesOutAndIsTriedAgain(t *testing.T) {
	f := newFixture(t)
	f.fake.Fail("/v1/organization/costs", llmfake.Fault{Status: 200, Delay: time.Hour}, llmfake.Fault{Status: 200, Delay: time.Hour})
	err := f.failure(map[string]any{"provider": "openai", "timeout": "50ms", "attempts": 2})
	if !strings.Contains(err.Error(), "no answer within 50ms (after 2 attempts)") || errclass.Of(err) != errclass.Transient {
		t.Fatalf("%v", err)
	}
	f.fake.Fail("/v1/organization/costs", llmfake.Fault{Status: 200, Delay: time.Hour})
	f.mustRun(map[string]any{"provider": "openai", "timeout": "50ms", "attempts": 2})
}

func TestAPageThatDoesNotParseNamesTheRequestAndQuotesItsStart(t *testing.T) {
	for _, c := range []struct{ body, want string }{
		{"<html><body>502 from the proxy</body></html>", `invalid character '<'`},
		{`{"object":"page","data":[{"start_time":"yesterday"`, "unexpected end of JSON input"},
		{`{"object":"page","dat":[]}`, `no "data" list of buckets`},
		{`{"data":[{"start_time":` + strconv.FormatInt(day(-1).Unix(), 10) + `,"results":[{"amount":{"value":"lots","currency":"usd"}}]}]}`, "not as documented"},
	} {
		f := newFixture(t)
		f.fake.Fail("/v1/organization/costs", llmfake.Fault{Status: 200, Body: c.body})
		err := f.failure(map[string]any{"provider": "openai"})
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "/v1/organization/costs") {
			t.Errorf("%s: %v", c.body, err)
		}
		if !strings.Contains(err.Error(), "not as documented") && !strings.Contains(err.Error(), "it starts with "+strconv.Quote(c.body[:20])[:15]) {
			t.Errorf("the start of the answer is not quoted: %v", err)
		}
		if n := len(f.fake.Requests()); n != 1 {
			t.Errorf("%d requests: a malformed page is not tried again", n)
		}
	}
}

func TestAMalformedLaterPageWritesNothingOfItsRange(t *testing.T) {
	g := newFixture(t)
	for n := -60; n <= -1; n++ {
		g.fake.SetCost("anthropic", dayName(n), "1")
	}
	// The first page is served; the second is garbage.
	g.fake.Fail("/v1/organizations/cost_report", llmfake.Fault{Status: 0}, llmfake.Fault{Status: 200, Body: "garbage"})
	err := g.failure(map[string]any{"provider": "anthropic", "since": dayName(-60), "until": dayName(-1)})
	if !strings.Contains(err.Error(), `starts with "garbage"`) {
		t.Fatalf("%v", err)
	}
	if entries, _ := os.ReadDir(filepath.Join(g.dir, "cache", "anthropic", "costs")); len(entries) != 0 {
		t.Fatalf("wrote %d files of a range whose second page failed", len(entries))
	}
}

func TestADateRangeInTheFutureIsAnErrorBeforeAnyRequest(t *testing.T) {
	f := newFixture(t)
	for _, with := range []map[string]any{
		{"provider": "openai", "since": dayName(1)},
		{"provider": "openai", "until": dayName(3)},
	} {
		err := f.failure(with)
		if !strings.Contains(err.Error(), "is in the future: today is 2026-11-20 in UTC") || len(f.fake.Requests()) != 0 {
			t.Fatalf("%v: %v", with, err)
		}
	}
}

func TestADamagedCacheFileIsFetchedAgain(t *testing.T) {
	f := newFixture(t)
	f.fake.SetCost("openai", dayName(-20), "3")
	f.mustRun(map[string]any{"provider": "openai"})
	path := filepath.Join(f.dir, "cache", "openai", "costs", dayName(-20)+".json")
	if err := os.WriteFile(path, []byte(`{"object":"page","runner":{"provi`), 0o644); err != nil {
		t.Fatal(err)
	}
	out := f.mustRun(map[string]any{"provider": "openai", "since": dayName(-25)})
	if got := out["fetched"].([]any); len(got) != 1+3 || got[0] != dayName(-20) {
		t.Fatalf("fetched %v", got)
	}
	if got := total(t, []any{path}); got != "3" {
		t.Fatalf("total %s", got)
	}
}

func TestARedirectIsNotFollowed(t *testing.T) {
	var got []string
	var mu sync.Mutex
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("x-api-key"))
		mu.Unlock()
	}))
	defer other.Close()
	redirect := httptest.NewServer(http.RedirectHandler(other.URL+"/steal", http.StatusTemporaryRedirect))
	defer redirect.Close()
	f := newFixture(t)
	p := f.params(map[string]any{"provider": "anthropic"})
	u := *p.base
	u.Host = strings.TrimPrefix(redirect.URL, "http://")
	p.base = &u
	_, err := run(context.Background(), f.env(), p, f.deps())
	if err == nil || !strings.Contains(err.Error(), "redirected") || len(got) != 0 {
		t.Fatalf("%v; the other server got %d requests", err, len(got))
	}
	if errors.Is(err, context.DeadlineExceeded) || len(f.clock.waits) != 0 {
		t.Fatalf("a redirect was tried again: %v", f.clock.waits)
	}
}

func TestPlanSaysWhatWouldBeFetchedFromTheCacheAlone(t *testing.T) {
	f := newFixture(t)
	pl, err := plan(context.Background(), f.env(), f.params(map[string]any{"provider": "openai", "reports": []any{"costs", "usage"}}), f.deps())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pl.Summary, "would fetch openai costs for 31 day(s) from 2026-10-21 to 2026-11-20") ||
		!strings.Contains(pl.Summary, "openai usage for 31 day(s)") || len(f.fake.Requests()) != 0 {
		t.Fatalf("plan %q; %d requests", pl.Summary, len(f.fake.Requests()))
	}
	if strings.Contains(pl.Summary, llmfake.OpenAIKey) || f.secrets.String(llmfake.OpenAIKey) != secret.Mask {
		t.Fatalf("the key is not registered with the masker")
	}
}

func TestBadParamsAreRejected(t *testing.T) {
	r := tasktype.NewRegistry()
	Register(r)
	typ, _ := r.Lookup("llmusage")
	for _, c := range []struct {
		with map[string]any
		want string
	}{
		{map[string]any{"provider": "openai", "reports": []any{"bills"}}, `report "bills": give costs, usage or both`},
		{map[string]any{"provider": "openai", "reports": []any{"costs", "costs"}}, "listed twice"},
		{map[string]any{"provider": "openai", "since": "2026-13-01"}, "give a day as YYYY-MM-DD"},
		{map[string]any{"provider": "openai", "since": "2026-11-10", "until": "2026-11-01"}, "is after until"},
		{map[string]any{"provider": "openai", "base_url": "ftp://x"}, "give an http or https URL"},
		{map[string]any{"provider": "openai", "base_url": "https://user:pw@proxy/?a=b"}, "without a query"},
		{map[string]any{"provider": "openai", "key_env": "MY KEY"}, "name of an environment variable"},
		{map[string]any{"provider": "openai", "attempts": 0}, "at least 1"},
	} {
		c.with["cache"] = "c"
		_, err := typ.Decode(c.with, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(fmt.Sprint(err), ":pw@") {
			t.Errorf("%v: %v, want %q", c.with, err, c.want)
		}
	}
}
