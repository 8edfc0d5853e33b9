package llmfake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// now is the fake's clock in these tests: the afternoon of 3 August 2025.
var now = time.Date(2025, 8, 3, 15, 30, 0, 0, time.UTC)

func day(d int) time.Time { return time.Date(2025, 8, d, 0, 0, 0, 0, time.UTC) }

func newServer(t *testing.T, opts ...Option) *Server {
	return New(t, append([]Option{WithClock(func() time.Time { return now })}, opts...)...)
}

var (
	openaiAuth    = map[string]string{"Authorization": "Bearer " + OpenAIKey}
	anthropicAuth = map[string]string{"x-api-key": AnthropicKey, "anthropic-version": AnthropicVersion}
)

// get asks the fake and returns the status, headers and body.
func get(t *testing.T, s *Server, path string, q url.Values, header map[string]string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := do(context.Background(), http.MethodGet, s.URL()+path+"?"+q.Encode(), header)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, body
}

func do(ctx context.Context, method, u string, header map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return http.DefaultClient.Do(req)
}

func compact(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	return out.String()
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestAnswersHaveTheDocumentedShapes(t *testing.T) {
	s := newServer(t)
	s.SetCost(OpenAI, "2025-08-01", "0.1")
	s.SetCost(Anthropic, "2025-08-01", "12.345")
	s.AddUsage(OpenAI, Usage{Hour: day(1).Add(9*time.Hour + 20*time.Minute), Model: "gpt-4o", Requests: 3, Input: 100, Output: 20, CacheRead: 40, CacheWrite: 99})
	s.AddUsage(Anthropic, Usage{Hour: day(1).Add(9 * time.Hour), Model: "claude-sonnet-4", Requests: 3, Input: 100, Output: 20, CacheRead: 40, CacheWrite: 7})
	d1, d2, d3, d4 := day(1), day(2), day(3), day(4)
	cases := []struct {
		name, path string
		q          url.Values
		auth       map[string]string
		want       string
	}{{
		name: "OpenAI costs: amount written as given, empty days present, none after today",
		path: "/v1/organization/costs", q: url.Values{"start_time": {unix(d1.Add(5 * time.Hour))}}, auth: openaiAuth,
		want: `{"object":"page","data":[` +
			`{"object":"bucket","start_time":` + unix(d1) + `,"end_time":` + unix(d2) + `,"results":[{"object":"organization.costs.result","amount":{"value":0.1,"currency":"usd"},"line_item":null,"project_id":null}]},` +
			`{"object":"bucket","start_time":` + unix(d2) + `,"end_time":` + unix(d3) + `,"results":[]},` +
			`{"object":"bucket","start_time":` + unix(d3) + `,"end_time":` + unix(d4) + `,"results":[]}],"has_more":false,"next_page":null}`,
	}, {
		name: "OpenAI completions by model: input counts the cached tokens, no cache writes",
		path: "/v1/organization/usage/completions", q: url.Values{"start_time": {unix(d1)}, "end_time": {unix(d2)}, "group_by": {"model"}}, auth: openaiAuth,
		want: `{"object":"page","data":[{"object":"bucket","start_time":` + unix(d1) + `,"end_time":` + unix(d2) + `,"results":[` +
			`{"object":"organization.usage.completions.result","input_tokens":140,"output_tokens":20,"input_cached_tokens":40,"input_audio_tokens":0,"output_audio_tokens":0,"num_model_requests":3,"project_id":null,"user_id":null,"api_key_id":null,"model":"gpt-4o","batch":null}]}],"has_more":false,"next_page":null}`,
	}, {
		name: "Anthropic cost report: cents as a decimal string, exactly",
		path: "/v1/organizations/cost_report", q: url.Values{"starting_at": {"2025-08-01T00:00:00Z"}, "ending_at": {"2025-08-03T00:00:00Z"}}, auth: anthropicAuth,
		want: `{"data":[` +
			`{"starting_at":"2025-08-01T00:00:00Z","ending_at":"2025-08-02T00:00:00Z","results":[{"currency":"USD","amount":"1234.5","workspace_id":null,"description":null,"cost_type":null,"context_window":null,"model":null,"service_tier":null,"token_type":null}]},` +
			`{"starting_at":"2025-08-02T00:00:00Z","ending_at":"2025-08-03T00:00:00Z","results":[]}],"has_more":false,"next_page":null}`,
	}, {
		name: "Anthropic messages by model: uncached input, cache writes as 5-minute ones",
		path: "/v1/organizations/usage_report/messages", q: url.Values{"starting_at": {"2025-08-01T07:10:00Z"}, "ending_at": {"2025-08-02T00:00:00Z"}, "group_by[]": {"model"}}, auth: anthropicAuth,
		want: `{"data":[{"starting_at":"2025-08-01T00:00:00Z","ending_at":"2025-08-02T00:00:00Z","results":[` +
			`{"uncached_input_tokens":100,"cache_creation":{"ephemeral_1h_input_tokens":0,"ephemeral_5m_input_tokens":7},"cache_read_input_tokens":40,"output_tokens":20,"server_tool_use":{"web_search_requests":0},"api_key_id":null,"workspace_id":null,"model":"claude-sonnet-4","service_tier":null,"context_window":null}]}],"has_more":false,"next_page":null}`,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := get(t, s, c.path, c.q, c.auth)
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			if got := compact(t, body); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// pageOf is what pagination needs of any of the four answers.
type pageOf struct {
	Data []struct {
		StartTime  int64  `json:"start_time"`
		StartingAt string `json:"starting_at"`
	} `json:"data"`
	HasMore  bool    `json:"has_more"`
	NextPage *string `json:"next_page"`
}

func (p pageOf) starts() []time.Time {
	var out []time.Time
	for _, b := range p.Data {
		if b.StartingAt != "" {
			t, _ := time.Parse(time.RFC3339, b.StartingAt)
			out = append(out, t)
		} else {
			out = append(out, time.Unix(b.StartTime, 0).UTC())
		}
	}
	return out
}

func TestPaginationGivesEveryBucketOnce(t *testing.T) {
	from := day(1).Add(-4 * 24 * time.Hour) // 28 July: 7 days to today, 3 pages of 3
	cases := []struct {
		name, path string
		q          url.Values
		auth       map[string]string
		first      time.Time
		width      time.Duration
		buckets    int
	}{
		{"OpenAI costs, daily", "/v1/organization/costs", url.Values{"start_time": {unix(from)}}, openaiAuth, from, 24 * time.Hour, 7},
		{"OpenAI completions, hourly up to now's hour", "/v1/organization/usage/completions",
			url.Values{"start_time": {unix(day(3).Add(8 * time.Hour))}, "bucket_width": {"1h"}}, openaiAuth, day(3).Add(8 * time.Hour), time.Hour, 8},
		{"Anthropic cost report, daily", "/v1/organizations/cost_report", url.Values{"starting_at": {from.Format(time.RFC3339)}}, anthropicAuth, from, 24 * time.Hour, 7},
		{"Anthropic messages, hourly", "/v1/organizations/usage_report/messages",
			url.Values{"starting_at": {"2025-08-02T17:45:00Z"}, "ending_at": {"2025-08-03T00:00:00Z"}, "bucket_width": {"1h"}}, anthropicAuth, day(2).Add(17 * time.Hour), time.Hour, 7},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t)
			var starts []time.Time
			var more []bool
			cursor := ""
			for range 10 {
				q := merge(c.q, url.Values{"limit": {"3"}})
				if cursor != "" {
					q.Set("page", cursor)
				}
				status, _, body := get(t, s, c.path, q, c.auth)
				if status != http.StatusOK {
					t.Fatalf("status %d: %s", status, body)
				}
				var p pageOf
				if err := json.Unmarshal(body, &p); err != nil {
					t.Fatal(err)
				}
				starts = append(starts, p.starts()...)
				more = append(more, p.HasMore)
				if p.HasMore != (p.NextPage != nil) {
					t.Fatalf("has_more %v with next_page %v", p.HasMore, p.NextPage)
				}
				if p.NextPage == nil {
					break
				}
				cursor = *p.NextPage
			}
			if !slices.Equal(more, []bool{true, true, false}) {
				t.Errorf("has_more of the pages: %v, want 3 pages", more)
			}
			if len(starts) != c.buckets {
				t.Fatalf("%d buckets, want %d: %v", len(starts), c.buckets, starts)
			}
			for i, st := range starts {
				if want := c.first.Add(time.Duration(i) * c.width); !st.Equal(want) {
					t.Errorf("bucket %d starts %s, want %s", i, st, want)
				}
			}

			status, _, body := get(t, s, c.path, merge(c.q, url.Values{"page": {"page_bm90IGdpdmVu"}}), c.auth)
			if status != http.StatusBadRequest || !strings.Contains(string(body), "next_page") {
				t.Errorf("a cursor the fake did not give: %d %s, want 400 naming next_page", status, body)
			}
		})
	}
}

func TestACursorIsOnlyForItsEndpoint(t *testing.T) {
	s := newServer(t)
	q := url.Values{"start_time": {unix(day(1))}, "limit": {"1"}}
	_, _, body := get(t, s, "/v1/organization/costs", q, openaiAuth)
	var p pageOf
	if err := json.Unmarshal(body, &p); err != nil || p.NextPage == nil {
		t.Fatalf("no next page: %v %s", err, body)
	}
	q.Set("page", *p.NextPage)
	if status, _, body := get(t, s, "/v1/organization/usage/completions", q, openaiAuth); status != http.StatusBadRequest {
		t.Errorf("costs' cursor on completions: %d %s, want 400", status, body)
	}
	if status, _, body := get(t, s, "/v1/organization/costs", q, openaiAuth); status != http.StatusOK {
		t.Errorf("costs' cursor on costs: %d %s, want 200", status, body)
	}
}

// merge is the queries together, a later one's values replacing.
func merge(qs ...url.Values) url.Values {
	out := url.Values{}
	for _, q := range qs {
		for k, v := range q {
			out[k] = v
		}
	}
	return out
}

// counts is a result's usage, whichever provider gave it.
type counts struct {
	Model                                string
	Requests                             int64 // OpenAI only
	Input, Output, CacheRead, CacheWrite int64 // Input uncached
}

// usageResults reads the buckets of a usage page as counts.
func usageResults(t *testing.T, provider string, body []byte) [][]counts {
	t.Helper()
	var p struct {
		Data []struct {
			Results []struct {
				Model *string `json:"model"`
				// OpenAI
				InputTokens       int64 `json:"input_tokens"`
				InputCachedTokens int64 `json:"input_cached_tokens"`
				NumModelRequests  int64 `json:"num_model_requests"`
				// Anthropic
				UncachedInputTokens  int64 `json:"uncached_input_tokens"`
				CacheReadInputTokens int64 `json:"cache_read_input_tokens"`
				CacheCreation        struct {
					Ephemeral5m int64 `json:"ephemeral_5m_input_tokens"`
				} `json:"cache_creation"`
				// both
				OutputTokens int64 `json:"output_tokens"`
			} `json:"results"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out [][]counts
	for _, b := range p.Data {
		bucket := []counts{}
		for _, r := range b.Results {
			c := counts{Output: r.OutputTokens}
			if r.Model != nil {
				c.Model = *r.Model
			}
			if provider == OpenAI {
				c.Requests, c.Input, c.CacheRead = r.NumModelRequests, r.InputTokens-r.InputCachedTokens, r.InputCachedTokens
			} else {
				c.Input, c.CacheRead, c.CacheWrite = r.UncachedInputTokens, r.CacheReadInputTokens, r.CacheCreation.Ephemeral5m
			}
			bucket = append(bucket, c)
		}
		out = append(out, bucket)
	}
	return out
}

func TestDailyBucketsSumTheHours(t *testing.T) {
	for _, provider := range []string{OpenAI, Anthropic} {
		t.Run(provider, func(t *testing.T) {
			s := newServer(t)
			s.AddUsage(provider, Usage{Hour: day(1).Add(23 * time.Hour), Model: "a", Requests: 9, Input: 9, Output: 9, CacheRead: 9, CacheWrite: 9}) // the day before
			s.AddUsage(provider, Usage{Hour: day(2).Add(time.Hour + 59*time.Minute), Model: "a", Requests: 1, Input: 100, Output: 10, CacheRead: 5, CacheWrite: 7})
			s.AddUsage(provider, Usage{Hour: day(2).Add(13 * time.Hour), Model: "a", Requests: 2, Input: 200, Output: 20})
			s.AddUsage(provider, Usage{Hour: day(2).Add(13 * time.Hour), Model: "b", Requests: 1, Input: 50, Output: 5, CacheRead: 50, CacheWrite: 3})
			s.AddUsage(provider, Usage{Hour: day(2).Add(13*time.Hour + 5*time.Minute), Model: "b", Requests: 1, Input: 1})                      // a revision of 13:00
			s.AddUsage(provider, Usage{Hour: day(3).Add(time.Hour), Model: "a", Requests: 9, Input: 9, Output: 9, CacheRead: 9, CacheWrite: 9}) // the day after

			path, q := "/v1/organization/usage/completions", func(start, end time.Time, width string, byModel bool) url.Values {
				v := url.Values{"start_time": {unix(start)}, "end_time": {unix(end)}, "bucket_width": {width}, "limit": {"31"}}
				if byModel {
					v.Set("group_by", "model")
				}
				return v
			}
			auth := openaiAuth
			if provider == Anthropic {
				path, q = "/v1/organizations/usage_report/messages", func(start, end time.Time, width string, byModel bool) url.Values {
					v := url.Values{"starting_at": {start.Format(time.RFC3339)}, "ending_at": {end.Format(time.RFC3339)}, "bucket_width": {width}, "limit": {"31"}}
					if byModel {
						v.Set("group_by[]", "model")
					}
					return v
				}
				auth = anthropicAuth
			}
			fetch := func(start, end time.Time, width string, byModel bool) [][]counts {
				status, _, body := get(t, s, path, q(start, end, width, byModel), auth)
				if status != http.StatusOK {
					t.Fatalf("status %d: %s", status, body)
				}
				return usageResults(t, provider, body)
			}
			noRequests := func(c counts) counts {
				if provider == Anthropic {
					c.Requests = 0 // not in Anthropic's shape
				}
				if provider == OpenAI {
					c.CacheWrite = 0 // not in OpenAI's shape
				}
				return c
			}

			daily := fetch(day(2), day(3), "1d", true)
			want := [][]counts{{noRequests(counts{"a", 3, 300, 30, 5, 7}), noRequests(counts{"b", 2, 51, 5, 50, 3})}}
			if fmt.Sprint(daily) != fmt.Sprint(want) {
				t.Errorf("daily by model: %v, want %v", daily, want)
			}
			total := fetch(day(2), day(3), "1d", false)
			want = [][]counts{{noRequests(counts{"", 5, 351, 35, 55, 10})}}
			if fmt.Sprint(total) != fmt.Sprint(want) {
				t.Errorf("daily, not grouped: %v, want %v (model null)", total, want)
			}

			hourly := fetch(day(2), day(3), "1h", true)
			if len(hourly) != 24 {
				t.Fatalf("%d hourly buckets, want 24", len(hourly))
			}
			var sum []counts
			for h, b := range hourly {
				if (h == 1 || h == 13) != (len(b) > 0) {
					t.Errorf("hour %d: %v", h, b)
				}
				sum = append(sum, b...)
			}
			want = [][]counts{{noRequests(counts{"a", 1, 100, 10, 5, 7}), noRequests(counts{"a", 2, 200, 20, 0, 0}), noRequests(counts{"b", 2, 51, 5, 50, 3})}}
			if fmt.Sprint([][]counts{sum}) != fmt.Sprint(want) {
				t.Errorf("the hours: %v, want %v", sum, want)
			}
		})
	}
}

func TestCostsAreExactAndRevised(t *testing.T) {
	for _, c := range []struct{ usd, cents string }{
		{"12.345", "1234.5"}, {"0.1", "10"}, {"0.001", "0.1"}, {"5", "500"}, {"0", "0"}, {"0.00", "0"},
		{"-1.5", "-150"}, {"1234567.891234", "123456789.1234"}, {"007.10", "710"},
	} {
		if got := cents(c.usd); got != c.cents {
			t.Errorf("cents(%q) = %q, want %q", c.usd, got, c.cents)
		}
	}

	s := newServer(t)
	s.SetCost(OpenAI, "2025-08-02", "0.1")
	s.SetCost(OpenAI, "2025-08-02", "3.14159265358979323846") // a revision, beyond float64
	s.SetCost(Anthropic, "2025-08-02", "0.1")
	s.SetCost(Anthropic, "2025-08-02", "0.015")
	_, _, body := get(t, s, "/v1/organization/costs", url.Values{"start_time": {unix(day(2))}, "end_time": {unix(day(3))}}, openaiAuth)
	if !strings.Contains(string(body), `"amount":{"value":3.14159265358979323846,"currency":"usd"}`) {
		t.Errorf("OpenAI revised cost: %s", body)
	}
	_, _, body = get(t, s, "/v1/organizations/cost_report", url.Values{"starting_at": {"2025-08-02T00:00:00Z"}, "ending_at": {"2025-08-03T00:00:00Z"}}, anthropicAuth)
	if !strings.Contains(string(body), `"amount":"1.5"`) || strings.Count(string(body), `"amount"`) != 1 {
		t.Errorf("Anthropic revised cost: %s", body)
	}
}

func TestAuthErrorsAreTheProviders(t *testing.T) {
	const costs, report = "/v1/organization/costs", "/v1/organizations/cost_report"
	oq, aq := url.Values{"start_time": {unix(day(1))}}, url.Values{"starting_at": {"2025-08-01T00:00:00Z"}}
	cases := []struct {
		name   string
		opts   []Option
		path   string
		q      url.Values
		header map[string]string
		status int
		want   string // the whole body
	}{
		{"OpenAI echoes an unknown key as sent", nil, costs, oq, map[string]string{"Authorization": "Bearer sk-admin-WRONG"}, 401,
			`{"error":{"code":"invalid_api_key","message":"Incorrect API key provided: sk-admin-WRONG. You can find your API key at https://platform.openai.com/account/api-keys.","param":null,"type":"invalid_request_error"}}`},
		{"OpenAI wants a key", nil, costs, oq, nil, 401, ""},
		{"OpenAI refuses a project key for missing scope", nil, costs, oq, map[string]string{"Authorization": "Bearer " + OpenAIProjectKey}, 403, ""},
		{"OpenAI refuses another organization", []Option{WithOrganization("org-right")}, costs, oq,
			map[string]string{"Authorization": "Bearer " + OpenAIKey, "OpenAI-Organization": "org-wrong"}, 401,
			`{"error":{"code":"invalid_organization","message":"No such organization: org-wrong.","param":null,"type":"invalid_request_error"}}`},
		{"OpenAI takes its organization", []Option{WithOrganization("org-right")}, costs, oq,
			map[string]string{"Authorization": "Bearer " + OpenAIKey, "OpenAI-Organization": "org-right"}, 200, ""},
		{"OpenAI takes no organization header", []Option{WithOrganization("org-right")}, costs, oq, openaiAuth, 200, ""},
		{"Anthropic wants the version header", nil, report, aq, map[string]string{"x-api-key": AnthropicKey}, 400,
			`{"error":{"message":"anthropic-version: header is required","type":"invalid_request_error"},"type":"error"}`},
		{"Anthropic refuses an unknown key", nil, report, aq, map[string]string{"x-api-key": "sk-ant-admin01-WRONG", "anthropic-version": AnthropicVersion}, 401,
			`{"error":{"message":"invalid x-api-key","type":"authentication_error"},"type":"error"}`},
		{"Anthropic wants an admin key", nil, report, aq, map[string]string{"x-api-key": AnthropicAPIKey, "anthropic-version": AnthropicVersion}, 403, ""},
		{"an OpenAI key is no Anthropic key", nil, report, aq, map[string]string{"x-api-key": OpenAIKey, "anthropic-version": AnthropicVersion}, 401, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t, c.opts...)
			status, _, body := get(t, s, c.path, c.q, c.header)
			if status != c.status {
				t.Fatalf("status %d, want %d: %s", status, c.status, body)
			}
			if c.want != "" && compact(t, body) != c.want {
				t.Errorf("body\n%s\nwant\n%s", body, c.want)
			}
			var e struct {
				Type  string `json:"type"`
				Error struct {
					Type, Message string
				} `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil || (status != 200) != (e.Error.Message != "") {
				t.Errorf("not an error in the provider's shape: %v %s", err, body)
			}
			if status == http.StatusForbidden && !strings.Contains(e.Error.Message, "api.usage.read") && e.Error.Type != "permission_error" {
				t.Errorf("403 without the scope or a permission_error: %s", body)
			}
		})
	}
}

func TestBadParametersAre400(t *testing.T) {
	s := newServer(t)
	const completions, messages = "/v1/organization/usage/completions", "/v1/organizations/usage_report/messages"
	o := func(kv ...string) url.Values {
		q := url.Values{"start_time": {unix(day(1))}}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	a := func(kv ...string) url.Values {
		q := url.Values{"starting_at": {"2025-08-01T00:00:00Z"}}
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		return q
	}
	cases := []struct {
		name, path string
		q          url.Values
		want       string // in the message
	}{
		{"OpenAI without start_time", completions, url.Values{}, "start_time"},
		{"OpenAI start_time not Unix seconds", completions, o("start_time", "2025-08-01"), "start_time"},
		{"OpenAI end before start", completions, o("end_time", unix(day(1))), "end_time"},
		{"OpenAI minute buckets", completions, o("bucket_width", "1m"), "bucket_width"},
		{"OpenAI hourly costs", "/v1/organization/costs", o("bucket_width", "1h"), "bucket_width"},
		{"OpenAI costs limit above 180", "/v1/organization/costs", o("limit", "181"), "180"},
		{"OpenAI daily usage limit above 31", completions, o("limit", "32"), "31"},
		{"OpenAI hourly usage limit above 168", completions, o("bucket_width", "1h", "limit", "169"), "168"},
		{"OpenAI limit 0", completions, o("limit", "0"), "limit"},
		{"OpenAI unknown group_by", completions, o("group_by", "colour"), "colour"},
		{"OpenAI costs by model", "/v1/organization/costs", o("group_by[]", "model"), "group_by"},
		{"Anthropic without starting_at", messages, url.Values{}, "starting_at"},
		{"Anthropic starting_at in Unix seconds", messages, a("starting_at", unix(day(1))), "RFC 3339"},
		{"Anthropic minute buckets", messages, a("bucket_width", "1m"), "bucket_width"},
		{"Anthropic hourly costs", "/v1/organizations/cost_report", a("bucket_width", "1h"), "bucket_width"},
		{"Anthropic cost limit above 31", "/v1/organizations/cost_report", a("limit", "32"), "31"},
		{"Anthropic unknown group_by", messages, a("group_by[]", "colour"), "colour"},
		{"Anthropic starting_at after now", messages, a("starting_at", "2025-08-04T00:00:00Z"), "future"},
		{"Anthropic ending_at before starting_at", messages, a("ending_at", "2025-07-01T00:00:00Z"), "ending_at"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			auth := openaiAuth
			if strings.HasPrefix(c.path, "/v1/organizations/") {
				auth = anthropicAuth
			}
			status, _, body := get(t, s, c.path, c.q, auth)
			var e struct {
				Error struct{ Type, Message string } `json:"error"`
			}
			_ = json.Unmarshal(body, &e)
			if status != http.StatusBadRequest || e.Error.Type != "invalid_request_error" || !strings.Contains(e.Error.Message, c.want) {
				t.Errorf("%d %s; want 400 invalid_request_error naming %q", status, body, c.want)
			}
		})
	}

	t.Run("OpenAI start after now is an empty page", func(t *testing.T) {
		status, _, body := get(t, s, completions, o("start_time", unix(day(4))), openaiAuth)
		if want := `{"object":"page","data":[],"has_more":false,"next_page":null}`; status != 200 || compact(t, body) != want {
			t.Errorf("%d %s, want %s", status, body, want)
		}
	})
	t.Run("other methods and paths", func(t *testing.T) {
		for _, c := range []struct {
			method, path string
			auth         map[string]string
			status       int
		}{
			{http.MethodPost, "/v1/organization/costs", openaiAuth, 405},
			{http.MethodDelete, "/v1/organizations/cost_report", anthropicAuth, 405},
			{http.MethodGet, "/v1/organization/usage/embeddings", openaiAuth, 404},
			{http.MethodGet, "/v1/organizations/usage_report/claude_code", anthropicAuth, 404},
			{http.MethodGet, "/v2/anything", nil, 404},
		} {
			resp, err := do(context.Background(), c.method, s.URL()+c.path, c.auth)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !json.Valid(body) {
				t.Errorf("%s %s: %d %s, want %d with a JSON error", c.method, c.path, resp.StatusCode, body, c.status)
			}
		}
	})
}

func TestFaultsComeInOrderThenService(t *testing.T) {
	s := newServer(t)
	const costs = "/v1/organization/costs"
	s.Fail(costs,
		Fault{Status: 429, Header: http.Header{"Retry-After": {"7"}}, Body: `{"error":{"message":"slow down"}}`},
		Fault{Status: 500},
	)
	s.Fail(costs, Fault{Status: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: "<html>proxy"})
	s.Fail("/v1/organizations/cost_report", Fault{Status: 529})
	q := url.Values{"start_time": {unix(day(3))}}

	status, h, body := get(t, s, costs, q, openaiAuth)
	if status != 429 || h.Get("Retry-After") != "7" || string(body) != `{"error":{"message":"slow down"}}` {
		t.Errorf("first: %d %v %s", status, h, body)
	}
	status, _, body = get(t, s, costs, q, map[string]string{"Authorization": "Bearer whatever"}) // faults come before the key is checked
	if status != 500 || !strings.Contains(string(body), `"type":"server_error"`) {
		t.Errorf("second: %d %s, want OpenAI's 500", status, body)
	}
	status, h, body = get(t, s, costs, q, openaiAuth)
	if status != 200 || h.Get("Content-Type") != "text/html" || string(body) != "<html>proxy" {
		t.Errorf("third: %d %v %s", status, h, body)
	}
	if status, _, body = get(t, s, costs, q, openaiAuth); status != 200 || !json.Valid(body) {
		t.Errorf("after the faults: %d %s", status, body)
	}
	status, _, body = get(t, s, "/v1/organizations/cost_report", url.Values{"starting_at": {"2025-08-03T00:00:00Z"}}, anthropicAuth)
	if status != 529 || compact(t, body) != `{"error":{"message":"Overloaded","type":"overloaded_error"},"type":"error"}` {
		t.Errorf("Anthropic's fault: %d %s", status, body)
	}
	var got []int
	for _, r := range s.Requests() {
		got = append(got, r.Status)
	}
	if want := []int{429, 500, 200, 200, 529}; !slices.Equal(got, want) {
		t.Errorf("statuses recorded %v, want %v", got, want)
	}
}

// TestDelaysLastUntilTheClientGoesAway waits for a delayed request to
// arrive, cancels its client, and waits for the server to be through with
// it: an hour's delay ends with the client, unanswered.
func TestDelaysLastUntilTheClientGoesAway(t *testing.T) {
	for _, c := range []struct {
		name string
		set  func(*Server)
	}{
		{"SetDelay", func(s *Server) { s.SetDelay(time.Hour) }},
		{"a Fault's Delay", func(s *Server) { s.Fail("/v1/organization/costs", Fault{Status: 500, Delay: time.Hour}) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t)
			c.set(s)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			errc := make(chan error, 1)
			go func() {
				resp, err := do(ctx, http.MethodGet, s.URL()+"/v1/organization/costs?start_time="+unix(day(3)), openaiAuth)
				if err == nil {
					resp.Body.Close()
					err = fmt.Errorf("answered %s", resp.Status)
				}
				errc <- err
			}()
			s.Await(func(rs []Request) bool { return len(rs) == 1 })
			select {
			case err := <-errc:
				t.Fatalf("the client did not wait: %v", err)
			default:
			}
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("client: %v, want context.Canceled", err)
			}
			s.Await(func(rs []Request) bool { return rs[0].Done })
			if r := s.Requests()[0]; r.Status != 0 {
				t.Errorf("status %d recorded for a request whose client went away, want 0", r.Status)
			}

			s.SetDelay(0)
			if status, _, body := get(t, s, "/v1/organization/costs", url.Values{"start_time": {unix(day(3))}}, openaiAuth); status != 200 {
				t.Errorf("without the delay: %d %s", status, body)
			}
		})
	}
}

func TestRequestsRecordQueryHeadersAndStatus(t *testing.T) {
	s := newServer(t)
	q := url.Values{"starting_at": {"2025-08-01T00:00:00Z"}, "group_by[]": {"model", "workspace_id"}, "limit": {"2"}}
	get(t, s, "/v1/organizations/usage_report/messages", q, anthropicAuth)
	get(t, s, "/v1/organization/costs", url.Values{}, map[string]string{"Authorization": "Bearer sk-x", "OpenAI-Organization": "org-1"})
	rs := s.Requests()
	if len(rs) != 2 {
		t.Fatalf("%d requests, want 2", len(rs))
	}
	r := rs[0]
	if r.Method != "GET" || r.Path != "/v1/organizations/usage_report/messages" || !slices.Equal(r.Query["group_by[]"], []string{"model", "workspace_id"}) ||
		r.Query.Get("limit") != "2" || r.Header.Get("x-api-key") != AnthropicKey || r.Header.Get("anthropic-version") != AnthropicVersion ||
		r.Status != 200 || !r.Done {
		t.Errorf("first request: %+v", r)
	}
	if r := rs[1]; r.Status != 401 || r.Header.Get("OpenAI-Organization") != "org-1" || len(r.Query) != 0 {
		t.Errorf("second request: %+v", r)
	}
	rs[0].Query.Set("limit", "99") // a copy
	if s.Requests()[0].Query.Get("limit") != "2" {
		t.Error("Requests gives the fake's own maps, not copies")
	}
	s.ResetRequests()
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests after ResetRequests", n)
	}
}
