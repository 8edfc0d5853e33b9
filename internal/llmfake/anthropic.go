package llmfake

import (
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Anthropic's answers, field for field as documented.
type (
	anthropicPage struct {
		Data     []anthropicBucket `json:"data"`
		HasMore  bool              `json:"has_more"`
		NextPage *string           `json:"next_page"`
	}
	anthropicBucket struct {
		StartingAt string `json:"starting_at"`
		EndingAt   string `json:"ending_at"`
		Results    []any  `json:"results"`
	}
	anthropicUsage struct {
		UncachedInputTokens  int64          `json:"uncached_input_tokens"`
		CacheCreation        cacheCreation  `json:"cache_creation"`
		CacheReadInputTokens int64          `json:"cache_read_input_tokens"`
		OutputTokens         int64          `json:"output_tokens"`
		ServerToolUse        map[string]int `json:"server_tool_use"`
		APIKeyID             *string        `json:"api_key_id"`
		WorkspaceID          *string        `json:"workspace_id"`
		Model                *string        `json:"model"`
		ServiceTier          *string        `json:"service_tier"`
		ContextWindow        *string        `json:"context_window"`
	}
	cacheCreation struct {
		Ephemeral1h int64 `json:"ephemeral_1h_input_tokens"`
		Ephemeral5m int64 `json:"ephemeral_5m_input_tokens"`
	}
	anthropicCost struct {
		Currency      string  `json:"currency"` // "USD"
		Amount        string  `json:"amount"`   // cents, a decimal string
		WorkspaceID   *string `json:"workspace_id"`
		Description   *string `json:"description"`
		CostType      *string `json:"cost_type"`
		ContextWindow *string `json:"context_window"`
		Model         *string `json:"model"`
		ServiceTier   *string `json:"service_tier"`
		TokenType     *string `json:"token_type"`
	}
)

// anthropic serves the Anthropic endpoints:
//
//   - GET /v1/organizations/usage_report/messages: bucket_width 1d or 1h
//     (the real API's 1m is 400 here); group_by[] model gives a result per
//     model, the other documented fields are accepted and not grouped on.
//     Cache writes are reported as 5-minute ones.
//   - GET /v1/organizations/cost_report: daily buckets; group_by[]
//     workspace_id and description are accepted, but the fake keeps one
//     cost per day, so a day has at most one result, its fields null.
//
// starting_at is snapped down to its bucket; with ending_at, only buckets
// that end at or before it are given, and none after the bucket that holds
// now. A starting_at after now's bucket is 400: the fake does not know
// what Anthropic answers there, so it refuses clearly.
func (s *Server) anthropic(req *http.Request) (any, *apiError) {
	if req.Header.Get("anthropic-version") == "" {
		return nil, badRequest("", "anthropic-version: header is required")
	}
	switch key := req.Header.Get("x-api-key"); key {
	case AnthropicKey:
	case "":
		return nil, &apiError{status: http.StatusUnauthorized, kind: "authentication_error", msg: "x-api-key header is required"}
	case AnthropicAPIKey:
		return nil, &apiError{status: http.StatusForbidden, kind: "permission_error",
			msg: "This endpoint requires an admin API key (sk-ant-admin...); a standard API key cannot read organization reports."}
	default:
		return nil, &apiError{status: http.StatusUnauthorized, kind: "authentication_error", msg: "invalid x-api-key"}
	}
	path := req.URL.Path
	if path != "/v1/organizations/usage_report/messages" && path != "/v1/organizations/cost_report" {
		return nil, &apiError{status: http.StatusNotFound, kind: "not_found_error", msg: "Not found"}
	}
	if req.Method != http.MethodGet {
		return nil, &apiError{status: http.StatusMethodNotAllowed, kind: "invalid_request_error",
			msg: fmt.Sprintf("Method %s is not allowed for %s: use GET", req.Method, path)}
	}
	q := req.URL.Query()
	if path == "/v1/organizations/cost_report" {
		return s.anthropicCosts(path, q)
	}
	return s.anthropicMessages(path, q)
}

func (s *Server) anthropicMessages(path string, q url.Values) (any, *apiError) {
	w, e := s.anthropicWindow(q, []string{"1d", "1h"}, usageLimits)
	if e != nil {
		return nil, e
	}
	groups, e := groupBy(q, "api_key_id", "workspace_id", "model", "service_tier", "context_window")
	if e != nil {
		return nil, e
	}
	return s.anthropicPage(path, q, w, func(start time.Time) []any {
		results := []any{}
		for _, u := range s.sum(Anthropic, start, w.width, groups["model"]) {
			r := anthropicUsage{UncachedInputTokens: u.Input, CacheCreation: cacheCreation{Ephemeral5m: u.CacheWrite},
				CacheReadInputTokens: u.CacheRead, OutputTokens: u.Output, ServerToolUse: map[string]int{"web_search_requests": 0}}
			if u.Model != "" {
				r.Model = &u.Model
			}
			results = append(results, r)
		}
		return results
	})
}

func (s *Server) anthropicCosts(path string, q url.Values) (any, *apiError) {
	w, e := s.anthropicWindow(q, []string{"1d"}, func(time.Duration) (int, int) { return 7, 31 })
	if e != nil {
		return nil, e
	}
	if _, e := groupBy(q, "workspace_id", "description"); e != nil {
		return nil, e
	}
	return s.anthropicPage(path, q, w, func(start time.Time) []any {
		results := []any{}
		if usd, ok := s.cost(Anthropic, start); ok {
			results = append(results, anthropicCost{Currency: "USD", Amount: cents(usd)})
		}
		return results
	})
}

// anthropicWindow reads starting_at, ending_at, bucket_width and limit.
func (s *Server) anthropicWindow(q url.Values, widths []string, limits func(time.Duration) (int, int)) (window, *apiError) {
	var w window
	start, e := rfc3339Param(q, "starting_at", true)
	if e != nil {
		return w, e
	}
	end, e := rfc3339Param(q, "ending_at", false)
	if e != nil {
		return w, e
	}
	if w.width, e = width(q, widths...); e != nil {
		return w, e
	}
	def, most := limits(w.width)
	if w.limit, e = limit(q, def, most); e != nil {
		return w, e
	}
	w.first = start.Truncate(w.width)
	now := s.now().UTC().Truncate(w.width)
	if w.first.After(now) {
		return w, badRequest("starting_at", "starting_at %s is in the future (now is %s)", start.Format(time.RFC3339), s.now().UTC().Format(time.RFC3339))
	}
	w.end = now.Add(w.width)
	if !end.IsZero() {
		if !end.After(start) {
			return w, badRequest("ending_at", "ending_at %s must be after starting_at %s", end.Format(time.RFC3339), start.Format(time.RFC3339))
		}
		// A bucket that starts at or before end-width ends at or before end.
		w.end = minTime(w.end, end.Add(-w.width).Add(time.Nanosecond))
	}
	return w, nil
}

// rfc3339Param reads an RFC 3339 time; the zero time if absent and not
// required.
func rfc3339Param(q url.Values, name string, required bool) (time.Time, *apiError) {
	text := q.Get(name)
	if text == "" {
		if required {
			return time.Time{}, badRequest(name, "%s: field required (an RFC 3339 time such as 2025-08-01T00:00:00Z)", name)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, text)
	if err != nil {
		return time.Time{}, badRequest(name, "%s: %q is not an RFC 3339 time such as 2025-08-01T00:00:00Z", name, text)
	}
	return t.UTC(), nil
}

// anthropicPage pages w: results gives the results of the bucket at a
// start.
func (s *Server) anthropicPage(path string, q url.Values, w window, results func(time.Time) []any) (any, *apiError) {
	starts, next, e := s.page(path, w, q.Get("page"))
	if e != nil {
		return nil, e
	}
	p := anthropicPage{Data: []anthropicBucket{}, HasMore: next != ""}
	if next != "" {
		p.NextPage = &next
	}
	for _, t := range starts {
		p.Data = append(p.Data, anthropicBucket{StartingAt: t.Format(time.RFC3339), EndingAt: t.Add(w.width).Format(time.RFC3339),
			Results: results(t)})
	}
	return p, nil
}
