// Package llmusage is the built-in task type `llmusage`: fetch LLM costs and token usage from the OpenAI or Anthropic admin API, day by day, into a cache that tokencost reads.
// Registered with the others in package tasks.
//
// Each UTC day is kept as one file, a page of the provider's own buckets
// (so that tokencost reads it as it reads a hand-saved export), with what
// runner needs to know in a "runner" object beside them: when the day was
// fetched. A day is fetched again until one fetch came at least
// revision_days after the day ended; after that it is final and never
// fetched again.
package llmusage

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
)

// Params are the params of the llmusage task.
type Params struct {
	// Provider whose admin API to read: openai or anthropic.
	Provider string `yaml:"provider" json:"provider" required:"true" enum:"openai,anthropic"`
	// Reports to fetch: costs (what was billed, in USD: the ledger's source) and usage (tokens per model, for per-model tables); costs when empty.
	Reports params.Strings `yaml:"reports" json:"reports"`
	// Cache folder: each day is kept as CACHE/PROVIDER/REPORT/YYYY-MM-DD.json, a page tokencost reads.
	Cache params.Path `yaml:"cache" json:"cache" required:"true"`
	// First day to fetch (YYYY-MM-DD, a UTC day); empty: the day after the newest final day in the cache, or 30 days before until when it holds none.
	Since string `yaml:"since" json:"since"`
	// Last day to fetch (YYYY-MM-DD, a UTC day); empty: today, whose partial day is fetched again on every run.
	Until string `yaml:"until" json:"until"`
	// Days after a day ends during which the provider may still revise it: a day is fetched again until one fetch came that long after its end.
	RevisionDays int `yaml:"revision_days" json:"revision_days" default:"2"`
	// Bucket width of the usage report: 1d, or 1h so that tokencost counts the days of another time zone exactly (costs come in UTC days only).
	BucketWidth string `yaml:"bucket_width" json:"bucket_width" default:"1d" enum:"1d,1h"`
	// Environment variable holding the admin key; empty: OPENAI_ADMIN_KEY or ANTHROPIC_ADMIN_KEY. The key is masked everywhere.
	KeyEnv string `yaml:"key_env" json:"key_env"`
	// API base URL, for a proxy or a test server; empty: https://api.openai.com or https://api.anthropic.com.
	BaseURL string `yaml:"base_url" json:"base_url"`
	// Time allowed for one request, from connecting to reading the whole answer.
	Timeout time.Duration `yaml:"timeout" json:"timeout" default:"60s"`
	// Tries per request in all: network errors, timeouts, 429 and 5xx answers are tried again; any other answer fails at once.
	Attempts int `yaml:"attempts" json:"attempts" default:"5"`
	// Wait before the second try, doubled before each next one (a 429's Retry-After is honoured instead).
	Delay time.Duration `yaml:"delay" json:"delay" default:"1s"`
	// Longest wait between tries; a Retry-After longer than this fails the task at once, saying when to run again.
	MaxDelay time.Duration `yaml:"max_delay" json:"max_delay" default:"60s"`

	// Read by Check.
	since, until time.Time // UTC midnights; zero when not given
	reports      []string
	api          *provider
	base         *url.URL
	keyEnv       string
}

// maxLookback is how far back a first fetch goes when since is not given.
const maxLookback = 30

// Register adds the llmusage task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "llmusage",
		Summary:   "Fetch LLM costs and token usage from the OpenAI or Anthropic admin API into a day-by-day cache tokencost reads.",
		Doc: "Reads the provider's admin API — OpenAI's `/v1/organization/costs` and `/v1/organization/usage/completions`, " +
			"Anthropic's `/v1/organizations/cost_report` and `/v1/organizations/usage_report/messages` — page by page, " +
			"and keeps each UTC day as a file in `cache` that `tokencost` reads as it reads a saved export. It fetches " +
			"only what is not final: the days since the last run, and again the days the provider may still revise " +
			"(`revision_days` after a day ends); a day fetched that long after its end is never fetched again, so a " +
			"daily run makes one request per report. The admin key comes from `key_env` (OPENAI_ADMIN_KEY, " +
			"ANTHROPIC_ADMIN_KEY) and is masked everywhere; OpenAI's OPENAI_ORG_ID, when set, is sent as the " +
			"organization. 401 and 403 answers say what kind of key is needed; 429 answers wait for Retry-After, " +
			"then back off; network errors, timeouts and 5xx answers are tried again; a page that is not JSON is " +
			"an error naming the request and quoting its start. Nothing half-fetched is written: a day's file is " +
			"replaced only when every page of its range arrived and parsed.",
		Outputs: []tasktype.Output{
			{Name: "dir", Type: "string", Doc: "Absolute path of the provider's folder in the cache."},
			{Name: "costs", Type: "list", Doc: "Every cost file in the cache for the provider, oldest day first: tokencost's src."},
			{Name: "usage", Type: "list", Doc: "Every usage file in the cache for the provider, oldest day first."},
			{Name: "fetched", Type: "list", Doc: "The days fetched in this run (YYYY-MM-DD), of any report."},
			{Name: "requests", Type: "integer", Doc: "HTTP requests made, tries included."},
		},
		Examples: []tasktype.Example{
			{Title: "Fetch OpenAI's costs every day (tokencost then reads tasks.openai.outputs.costs)", YAML: `openai:
  uses: llmusage
  with:
    provider: openai            # OPENAI_ADMIN_KEY, and OPENAI_ORG_ID if set
    cache: metrics/llm-usage    # metrics/llm-usage/openai/costs/YYYY-MM-DD.json
`},
			{Title: "Anthropic's costs and hourly usage per model, from a proxy", YAML: `anthropic:
  uses: llmusage
  with:
    provider: anthropic         # ANTHROPIC_ADMIN_KEY
    reports: [costs, usage]
    bucket_width: 1h
    base_url: https://llm-proxy.internal
    cache: metrics/llm-usage
`},
		},
		Check: check,
		Plan: func(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			return plan(ctx, env, p, realDeps())
		},
		Run: func(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
			return run(ctx, env, p, realDeps())
		},
	})
}

// check validates params and keeps what it parses.
func check(p *Params) error {
	p.api = providers[p.Provider]
	if p.api == nil {
		return params.Errorf("provider", "provider %q: give openai or anthropic", p.Provider)
	}
	p.reports = nil
	for _, r := range p.Reports {
		if r != reportCosts && r != reportUsage {
			return params.Errorf("reports", "report %q: give costs, usage or both", r)
		}
		if slices.Contains(p.reports, r) {
			return params.Errorf("reports", "report %q is listed twice", r)
		}
		p.reports = append(p.reports, r)
	}
	if len(p.reports) == 0 {
		p.reports = []string{reportCosts}
	}
	var err error
	if p.since, err = parseDay(p.Since); err != nil {
		return params.At("since", err)
	}
	if p.until, err = parseDay(p.Until); err != nil {
		return params.At("until", err)
	}
	if !p.since.IsZero() && !p.until.IsZero() && p.since.After(p.until) {
		return params.Errorf("since", "since %s is after until %s", p.Since, p.Until)
	}
	p.keyEnv = p.KeyEnv
	if p.keyEnv == "" {
		p.keyEnv = p.api.keyEnv
	}
	base := p.BaseURL
	if base == "" {
		base = p.api.baseURL
	}
	switch u, err := url.Parse(base); {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return params.Errorf("base_url", "base_url %s: give an http or https URL such as %s", quoteURL(base), p.api.baseURL)
	case u.RawQuery != "" || u.Fragment != "":
		return params.Errorf("base_url", "base_url %s: give it without a query or fragment", quoteURL(base))
	default:
		p.base = u
	}
	switch {
	case !validEnvName(p.keyEnv):
		return params.Errorf("key_env", "key_env %q: give the name of an environment variable, such as %s", p.keyEnv, p.api.keyEnv)
	case p.RevisionDays < 0 || p.RevisionDays > 31:
		return params.Errorf("revision_days", "revision_days %d: give 0 to 31 days", p.RevisionDays)
	case p.Attempts < 1:
		return params.Errorf("attempts", "attempts counts every try, the first too: at least 1, not %d", p.Attempts)
	case p.Timeout <= 0:
		return params.Errorf("timeout", "the timeout must be positive")
	case p.Delay < 0 || p.MaxDelay < 0:
		return params.Errorf("delay", "delays cannot be negative")
	}
	return nil
}

// parseDay reads YYYY-MM-DD as a UTC midnight; "" is the zero time.
func parseDay(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(dayLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: give a day as YYYY-MM-DD (a UTC day, as the providers count them)", s)
	}
	if d.Year() < 2020 {
		return time.Time{}, fmt.Errorf("%s: the providers' admin APIs report usage from 2020 on", s)
	}
	return d, nil
}

// quoteURL quotes a URL for a message without any password it holds.
func quoteURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		s = u.Redacted()
	}
	return fmt.Sprintf("%q", s)
}

// validEnvName reports whether s can name an environment variable.
func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
