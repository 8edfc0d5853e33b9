package llmusage

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The reports a provider gives.
const (
	reportCosts = "costs" // what was billed, in USD
	reportUsage = "usage" // tokens per model
)

// anthropicVersion is the API version runner speaks to Anthropic.
const anthropicVersion = "2023-06-01"

// provider is what differs between the two admin APIs.
type provider struct {
	name    string
	baseURL string // the default of base_url
	keyEnv  string // the default of key_env
	reports map[string]endpoint
	// startField names a bucket's start: Unix seconds (OpenAI) or RFC 3339 (Anthropic).
	startField string
	// setRange puts the query's time range: from, and to unless zero.
	setRange func(q url.Values, from, to time.Time)
	// auth sets the headers that carry the key (and, for OpenAI, the
	// organization from the task's environment).
	auth func(h http.Header, key string, getenv func(string) string)
	// refused says what to do after a 401 or 403.
	refused func(status int, keyEnv string, getenv func(string) string) string
}

// endpoint is one report of a provider.
type endpoint struct {
	path string
	// widths maps the bucket widths runner asks for to the most buckets a
	// page may hold at that width.
	widths map[string]int
	// query adds what the report needs besides the range, width, limit and
	// page: grouping by model, so that tokencost can price usage.
	query func(q url.Values)
}

var providers = map[string]*provider{
	"openai": {
		name:    "openai",
		baseURL: "https://api.openai.com",
		keyEnv:  "OPENAI_ADMIN_KEY",
		reports: map[string]endpoint{
			reportCosts: {path: "/v1/organization/costs", widths: map[string]int{"1d": 180}, query: func(url.Values) {}},
			reportUsage: {path: "/v1/organization/usage/completions", widths: map[string]int{"1d": 31, "1h": 168},
				query: func(q url.Values) { q.Set("group_by", "model") }},
		},
		startField: "start_time",
		setRange: func(q url.Values, from, to time.Time) {
			q.Set("start_time", strconv.FormatInt(from.Unix(), 10))
			if !to.IsZero() {
				q.Set("end_time", strconv.FormatInt(to.Unix(), 10))
			}
		},
		auth: func(h http.Header, key string, getenv func(string) string) {
			h.Set("Authorization", "Bearer "+key)
			if org := getenv("OPENAI_ORG_ID"); org != "" {
				h.Set("OpenAI-Organization", org)
			}
		},
		refused: func(status int, keyEnv string, getenv func(string) string) string {
			org := "OPENAI_ORG_ID is not set: if the key belongs to more than one organization, set it to the organization's id (org-…)"
			if id := getenv("OPENAI_ORG_ID"); id != "" {
				org = fmt.Sprintf("OPENAI_ORG_ID is %q: check that the key belongs to that organization, or unset it", id)
			}
			if status == http.StatusForbidden {
				return fmt.Sprintf("the key in %s may not read usage and costs: it takes an admin key of the organization "+
					"(sk-admin-…) with read access to usage (scope api.usage.read); %s", keyEnv, org)
			}
			return fmt.Sprintf("the key in %s was refused: the costs and usage APIs take an admin key (sk-admin-…), which an "+
				"organization owner makes under Settings → Organization → Admin keys on platform.openai.com; a project or user "+
				"key (sk-proj-…, sk-…) is refused; %s", keyEnv, org)
		},
	},
	"anthropic": {
		name:    "anthropic",
		baseURL: "https://api.anthropic.com",
		keyEnv:  "ANTHROPIC_ADMIN_KEY",
		reports: map[string]endpoint{
			reportCosts: {path: "/v1/organizations/cost_report", widths: map[string]int{"1d": 31}, query: func(url.Values) {}},
			reportUsage: {path: "/v1/organizations/usage_report/messages", widths: map[string]int{"1d": 31, "1h": 168},
				query: func(q url.Values) { q.Set("group_by[]", "model") }},
		},
		startField: "starting_at",
		setRange: func(q url.Values, from, to time.Time) {
			q.Set("starting_at", from.UTC().Format(time.RFC3339))
			if !to.IsZero() {
				q.Set("ending_at", to.UTC().Format(time.RFC3339))
			}
		},
		auth: func(h http.Header, key string, _ func(string) string) {
			h.Set("x-api-key", key)
			h.Set("anthropic-version", anthropicVersion)
		},
		refused: func(status int, keyEnv string, _ func(string) string) string {
			if status == http.StatusForbidden {
				return fmt.Sprintf("the key in %s may not read the usage and cost reports: they take an Admin API key "+
					"(sk-ant-admin…) of the organization, not a workspace's API key (sk-ant-api…)", keyEnv)
			}
			return fmt.Sprintf("the key in %s was refused: the usage and cost reports take an Admin API key (sk-ant-admin…), "+
				"which an organization admin makes in the Claude Console under Settings → Admin keys; a standard API key "+
				"(sk-ant-api…) is refused", keyEnv)
		},
	},
}

// bucketStart reads when a bucket starts, from field: Unix seconds or RFC 3339.
func bucketStart(raw json.RawMessage, field string) (time.Time, error) {
	var b map[string]json.RawMessage
	if err := json.Unmarshal(raw, &b); err != nil {
		return time.Time{}, errors.New("a bucket that is not a JSON object")
	}
	v, ok := b[field]
	if !ok || string(v) == "null" {
		return time.Time{}, fmt.Errorf("a bucket without %s", field)
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("a bucket whose %s %q is not an RFC 3339 time", field, s)
		}
		return t.UTC(), nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64)
	if err != nil || n < 0 || n > 1<<40 {
		return time.Time{}, fmt.Errorf("a bucket whose %s %.40s is neither Unix seconds nor an RFC 3339 time", field, v)
	}
	return time.Unix(n, 0).UTC(), nil
}
