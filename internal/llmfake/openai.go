package llmfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// OpenAI's answers, field for field as documented.
type (
	openaiPage struct {
		Object   string         `json:"object"` // "page"
		Data     []openaiBucket `json:"data"`
		HasMore  bool           `json:"has_more"`
		NextPage *string        `json:"next_page"`
	}
	openaiBucket struct {
		Object    string `json:"object"` // "bucket"
		StartTime int64  `json:"start_time"`
		EndTime   int64  `json:"end_time"`
		Results   []any  `json:"results"`
	}
	openaiCost struct {
		Object    string       `json:"object"` // "organization.costs.result"
		Amount    openaiAmount `json:"amount"`
		LineItem  *string      `json:"line_item"`
		ProjectID *string      `json:"project_id"`
	}
	openaiAmount struct {
		Value    json.Number `json:"value"` // written exactly as given to SetCost
		Currency string      `json:"currency"`
	}
	openaiUsage struct {
		Object            string  `json:"object"` // "organization.usage.completions.result"
		InputTokens       int64   `json:"input_tokens"`
		OutputTokens      int64   `json:"output_tokens"`
		InputCachedTokens int64   `json:"input_cached_tokens"`
		InputAudioTokens  int64   `json:"input_audio_tokens"`
		OutputAudioTokens int64   `json:"output_audio_tokens"`
		NumModelRequests  int64   `json:"num_model_requests"`
		ProjectID         *string `json:"project_id"`
		UserID            *string `json:"user_id"`
		APIKeyID          *string `json:"api_key_id"`
		Model             *string `json:"model"`
		Batch             *bool   `json:"batch"`
	}
)

// openai serves the OpenAI endpoints:
//
//   - GET /v1/organization/costs: daily buckets only; group_by line_item
//     and project_id are accepted, but the fake keeps one cost per day, so
//     a day has at most one result, with both fields null.
//   - GET /v1/organization/usage/completions: bucket_width 1d or 1h (the
//     real API's 1m is 400 here); group_by model gives a result per model,
//     the other documented fields are accepted and not grouped on.
//
// start_time is snapped down to its bucket, and end_time (exclusive) cut
// to the bucket that holds now: a start after now's bucket gives a page
// with no buckets. Buckets are whole: usage is kept per hour.
func (s *Server) openai(req *http.Request) (any, *apiError) {
	key, bearer := cutBearer(req.Header.Get("Authorization"))
	switch {
	case !bearer || key == "":
		return nil, &apiError{status: http.StatusUnauthorized, kind: "invalid_request_error",
			msg: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from https://platform.openai.com/account/api-keys."}
	case key == OpenAIProjectKey:
		return nil, &apiError{status: http.StatusForbidden, kind: "invalid_request_error",
			msg: "You have insufficient permissions for this operation. Missing scopes: api.usage.read. Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes."}
	case key != OpenAIKey:
		return nil, &apiError{status: http.StatusUnauthorized, kind: "invalid_request_error", code: "invalid_api_key",
			msg: fmt.Sprintf("Incorrect API key provided: %s. You can find your API key at https://platform.openai.com/account/api-keys.", key)}
	}
	if org := req.Header.Get("OpenAI-Organization"); org != "" && s.org != "" && org != s.org {
		return nil, &apiError{status: http.StatusUnauthorized, kind: "invalid_request_error", code: "invalid_organization",
			msg: fmt.Sprintf("No such organization: %s.", org)}
	}
	path := req.URL.Path
	if path != "/v1/organization/costs" && path != "/v1/organization/usage/completions" {
		return nil, &apiError{status: http.StatusNotFound, kind: "invalid_request_error", msg: fmt.Sprintf("Invalid URL (%s %s)", req.Method, path)}
	}
	if req.Method != http.MethodGet {
		return nil, &apiError{status: http.StatusMethodNotAllowed, kind: "invalid_request_error",
			msg: fmt.Sprintf("Method %s is not allowed for %s: use GET", req.Method, path)}
	}
	q := req.URL.Query()
	if path == "/v1/organization/costs" {
		return s.openaiCosts(path, q)
	}
	return s.openaiCompletions(path, q)
}

// cutBearer takes the key out of an Authorization header; the scheme's
// name is case-insensitive.
func cutBearer(auth string) (string, bool) {
	if len(auth) < 7 || !strings.EqualFold(auth[:7], "Bearer ") {
		return "", false
	}
	return auth[7:], true
}

func (s *Server) openaiCosts(path string, q url.Values) (any, *apiError) {
	w, e := s.openaiWindow(q, []string{"1d"}, func(time.Duration) (int, int) { return 7, 180 })
	if e != nil {
		return nil, e
	}
	if _, e := groupBy(q, "line_item", "project_id"); e != nil {
		return nil, e
	}
	return s.openaiPage(path, q, w, func(start time.Time) []any {
		results := []any{}
		if usd, ok := s.cost(OpenAI, start); ok {
			results = append(results, openaiCost{Object: "organization.costs.result",
				Amount: openaiAmount{Value: json.Number(usd), Currency: "usd"}})
		}
		return results
	})
}

func (s *Server) openaiCompletions(path string, q url.Values) (any, *apiError) {
	w, e := s.openaiWindow(q, []string{"1d", "1h"}, usageLimits)
	if e != nil {
		return nil, e
	}
	groups, e := groupBy(q, "project_id", "user_id", "api_key_id", "model", "batch", "service_tier")
	if e != nil {
		return nil, e
	}
	return s.openaiPage(path, q, w, func(start time.Time) []any {
		results := []any{}
		for _, u := range s.sum(OpenAI, start, w.width, groups["model"]) {
			r := openaiUsage{Object: "organization.usage.completions.result", InputTokens: u.Input + u.CacheRead,
				OutputTokens: u.Output, InputCachedTokens: u.CacheRead, NumModelRequests: u.Requests}
			if u.Model != "" {
				r.Model = &u.Model
			}
			results = append(results, r)
		}
		return results
	})
}

// usageLimits is the default and largest limit of the usage endpoints.
func usageLimits(width time.Duration) (def, most int) {
	if width == time.Hour {
		return 24, 168
	}
	return 7, 31
}

// openaiWindow reads start_time, end_time, bucket_width and limit.
func (s *Server) openaiWindow(q url.Values, widths []string, limits func(time.Duration) (int, int)) (window, *apiError) {
	var w window
	start, e := unixParam(q, "start_time", true)
	if e != nil {
		return w, e
	}
	end, e := unixParam(q, "end_time", false)
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
	w.end = s.now().UTC().Truncate(w.width).Add(w.width)
	if !end.IsZero() {
		if !end.After(start) {
			return w, badRequest("end_time", "end_time %d must be after start_time %d", end.Unix(), start.Unix())
		}
		w.end = minTime(w.end, end)
	}
	return w, nil
}

// unixParam reads Unix seconds; the zero time if absent and not required.
func unixParam(q url.Values, name string, required bool) (time.Time, *apiError) {
	text := q.Get(name)
	if text == "" {
		if required {
			return time.Time{}, badRequest(name, "Missing required parameter: '%s' (Unix seconds).", name)
		}
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, badRequest(name, "Invalid value for '%s': %q is not Unix seconds.", name, text)
	}
	return time.Unix(n, 0).UTC(), nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// openaiPage pages w: results gives the results of the bucket at a start.
func (s *Server) openaiPage(path string, q url.Values, w window, results func(time.Time) []any) (any, *apiError) {
	starts, next, e := s.page(path, w, q.Get("page"))
	if e != nil {
		return nil, e
	}
	p := openaiPage{Object: "page", Data: []openaiBucket{}, HasMore: next != ""}
	if next != "" {
		p.NextPage = &next
	}
	for _, t := range starts {
		p.Data = append(p.Data, openaiBucket{Object: "bucket", StartTime: t.Unix(), EndTime: t.Add(w.width).Unix(), Results: results(t)})
	}
	return p, nil
}
