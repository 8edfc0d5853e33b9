// Package llmfake is a fake of the OpenAI and Anthropic admin APIs that
// report usage and cost, for tests, in the manner of net/http/httptest: one
// stateful server answering the four documented endpoints
//
//	GET /v1/organization/costs                    (OpenAI)
//	GET /v1/organization/usage/completions        (OpenAI)
//	GET /v1/organizations/cost_report             (Anthropic)
//	GET /v1/organizations/usage_report/messages   (Anthropic)
//
// with the providers' shapes, parameters, limits, pagination and errors.
// A test adds usage per UTC hour and model (AddUsage) and a cost per UTC day
// (SetCost), and calls either again to revise a bucket as the providers do
// for recent days. The fake's clock (WithClock) decides the last bucket: no
// bucket starts after the day or hour that holds "now".
//
// It checks the key of every request, keeps every request it gets with the
// status it answered (Requests), can answer a path with failures first
// (Fail), and can make every answer wait (SetDelay) until the client goes
// away; Await waits for requests to arrive or end, so a test of timeouts
// never sleeps. A wrong call (an unknown provider, a cost that is not a
// plain decimal) fails the test.
//
// It is not a _test package so that the tests of tasks/llmusage and of
// cmd/runner can both use it; it must not be used outside tests.
package llmfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Keys and headers the fake knows.
const (
	// OpenAIKey is the OpenAI admin key the fake accepts.
	OpenAIKey = "sk-admin-FAKEopenaiADMINkey0123456789"
	// OpenAIProjectKey is a valid OpenAI key that is not an admin key: the
	// usage and cost endpoints answer it 403, missing scope api.usage.read.
	OpenAIProjectKey = "sk-proj-FAKEprojectKEY0123456789"
	// AnthropicKey is the Anthropic admin key the fake accepts.
	AnthropicKey = "sk-ant-admin01-FAKEanthropicADMIN0123456789"
	// AnthropicAPIKey is a valid Anthropic key that is not an admin key:
	// the report endpoints answer it 403.
	AnthropicAPIKey = "sk-ant-api03-FAKEstandardKEY0123456789"
	// AnthropicVersion is a value of the anthropic-version header; any
	// value is taken, a missing header is 400.
	AnthropicVersion = "2023-06-01"
)

// Providers, as AddUsage and SetCost name them.
const (
	OpenAI    = "openai"
	Anthropic = "anthropic"
)

// Server is a fake of both admin APIs. Its methods are safe for concurrent
// use.
type Server struct {
	t   testing.TB
	now func() time.Time
	org string

	mu     sync.Mutex
	usage  map[usageKey]*Usage
	costs  map[costKey]string
	faults map[string][]Fault
	delay  time.Duration
	issued map[string]map[string]time.Time // path → cursor given out → where its page starts
	reqs   []*Request
	nextID int
	change *sync.Cond // on mu: broadcast when a request comes, ends, or the server closes
	gen    int        // counts those changes

	closing   chan struct{} // closed by Close: every wait ends
	closeOnce sync.Once
	srv       *httptest.Server
}

type usageKey struct {
	provider string
	hour     int64 // Unix seconds of the hour's start
	model    string
}

type costKey struct{ provider, day string }

// Option configures New.
type Option func(*Server)

// WithClock sets the fake's "now" (time.Now by default). No bucket starts
// after the UTC day (or hour, for hourly buckets) that holds it.
func WithClock(now func() time.Time) Option {
	return func(s *Server) { s.now = now }
}

// WithOrganization sets the OpenAI organization of OpenAIKey. An
// OpenAI-Organization header naming another organization is then 401, as
// OpenAI answers; a request without the header is served.
func WithOrganization(org string) Option {
	return func(s *Server) { s.org = org }
}

// New starts a fake, closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	s := &Server{t: t, now: time.Now, usage: map[usageKey]*Usage{}, costs: map[costKey]string{},
		faults: map[string][]Fault{}, issued: map[string]map[string]time.Time{}, closing: make(chan struct{})}
	s.change = sync.NewCond(&s.mu)
	for _, o := range opts {
		o(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// URL is the server's base URL, http://127.0.0.1:PORT, without /v1: the
// base URL of either provider's API.
func (s *Server) URL() string { return s.srv.URL }

// Close ends every wait (SetDelay, a Fault's Delay) and shuts the server
// down. It may be called more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.mu.Lock()
		s.gen++
		s.change.Broadcast()
		s.mu.Unlock()
	})
	s.srv.Close()
}

// Usage is the usage of one model in one UTC hour. Daily buckets sum the
// hours of their day.
type Usage struct {
	Hour     time.Time // truncated to the UTC hour by AddUsage
	Model    string
	Requests int64
	// Input is the uncached input tokens: without cache reads or writes.
	Input, Output, CacheRead, CacheWrite int64
}

// AddUsage adds u to the usage of its hour and model at provider (OpenAI
// or Anthropic). Calling it again for a past hour revises that hour, as
// the providers revise recent buckets. OpenAI's shape has no cache writes:
// CacheWrite is not reported for it.
func (s *Server) AddUsage(provider string, u Usage) {
	s.t.Helper()
	s.checkProvider(provider)
	if u.Model == "" {
		s.t.Fatalf("llmfake: AddUsage: no model")
	}
	if u.Requests < 0 || u.Input < 0 || u.Output < 0 || u.CacheRead < 0 || u.CacheWrite < 0 {
		s.t.Fatalf("llmfake: AddUsage: negative counts in %+v", u)
	}
	u.Hour = u.Hour.UTC().Truncate(time.Hour)
	key := usageKey{provider, u.Hour.Unix(), u.Model}
	s.mu.Lock()
	defer s.mu.Unlock()
	sum, ok := s.usage[key]
	if !ok {
		sum = &Usage{Hour: u.Hour, Model: u.Model}
		s.usage[key] = sum
	}
	sum.Requests += u.Requests
	sum.Input += u.Input
	sum.Output += u.Output
	sum.CacheRead += u.CacheRead
	sum.CacheWrite += u.CacheWrite
}

var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// SetCost sets the cost of a UTC day ("YYYY-MM-DD") at provider, in US
// dollars as an exact decimal ("12.3456"), replacing what the day had (a
// revision). OpenAI reports it as a JSON number written exactly so;
// Anthropic as a decimal string of cents, exactly usd×100.
func (s *Server) SetCost(provider, day, usd string) {
	s.t.Helper()
	s.checkProvider(provider)
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		s.t.Fatalf("llmfake: SetCost: day %q is not YYYY-MM-DD", day)
	}
	if !plainDecimal.MatchString(usd) {
		s.t.Fatalf("llmfake: SetCost: %q is not a plain decimal such as 12.3456", usd)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.costs[costKey{provider, day}] = usd
}

func (s *Server) checkProvider(p string) {
	s.t.Helper()
	if p != OpenAI && p != Anthropic {
		s.t.Fatalf("llmfake: provider %q: want %q or %q", p, OpenAI, Anthropic)
	}
}

// Fault is an answer given instead of the real one, after Delay (or until
// the client goes away). An empty Body with a Status of 400 or more is
// the provider's own error body for that status (rate_limit_exceeded,
// server_error, overloaded_error, …). Content-Type is application/json
// unless Header sets it. A Status of 0 is the real answer, after Delay: a
// slow one, or a page let through before the faults that follow it.
type Fault struct {
	Status int
	Header http.Header
	Body   string
	Delay  time.Duration
}

// Fail queues faults for the next requests to path (e.g.
// "/v1/organization/costs"): they are answered in order, whatever their
// key, then service is normal again.
func (s *Server) Fail(path string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[path] = append(s.faults[path], faults...)
}

// SetDelay makes every later answer, fault or not, wait d first, or until
// the request's context ends (then nothing is answered). 0 turns it off.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Request is a request the server got.
type Request struct {
	Method, Path string
	Query        url.Values
	Header       http.Header
	// Status is the status answered: 0 while the request is being served,
	// or when the client went away before the answer.
	Status int
	// Done says the server is through with the request: it answered, or
	// its client went away.
	Done bool
}

// Requests returns copies of every request received since the start or
// the last ResetRequests, oldest first, failed ones too.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests()
}

// requests is Requests with s.mu held.
func (s *Server) requests() []Request {
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = Request{Method: r.Method, Path: r.Path, Query: cloneValues(r.Query), Header: r.Header.Clone(), Status: r.Status, Done: r.Done}
	}
	return out
}

// Await blocks until cond holds for the requests received (as Requests
// gives them), checking again each time a request comes or ends, so a test
// waits on the thing instead of sleeping: e.g. until a slow request has
// arrived, to cancel its client, then until it is Done. It returns early
// if the server closes.
func (s *Server) Await(cond func([]Request) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		gen, reqs := s.gen, s.requests()
		s.mu.Unlock() // cond may call the server
		ok := cond(reqs)
		s.mu.Lock()
		if ok {
			return
		}
		select {
		case <-s.closing:
			return
		default:
		}
		if gen == s.gen {
			s.change.Wait()
		}
	}
}

// ResetRequests forgets the requests received so far.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// apiError is a refusal, rendered in the shape of the provider asked.
type apiError struct {
	status int
	kind   string // OpenAI's or Anthropic's error type
	msg    string
	param  string // OpenAI: the parameter at fault
	code   string // OpenAI: the error code
}

func badRequest(param, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, kind: "invalid_request_error", msg: fmt.Sprintf(format, args...), param: param}
}

// provider tells which API a path belongs to, "" for neither.
func provider(path string) string {
	switch {
	case strings.HasPrefix(path, "/v1/organizations/"):
		return Anthropic
	case strings.HasPrefix(path, "/v1/organization/"):
		return OpenAI
	}
	return ""
}

func (s *Server) serve(w http.ResponseWriter, req *http.Request) {
	rec := &Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.Query(), Header: req.Header.Clone()}
	defer func() {
		s.mu.Lock()
		rec.Done = true
		s.gen++
		s.change.Broadcast()
		s.mu.Unlock()
	}()
	s.mu.Lock()
	s.reqs = append(s.reqs, rec)
	s.gen++
	s.change.Broadcast()
	s.nextID++
	id, delay := s.nextID, s.delay
	var fault *Fault
	if list := s.faults[req.URL.Path]; len(list) > 0 {
		fault, s.faults[req.URL.Path] = &list[0], list[1:]
	}
	s.mu.Unlock()

	p := provider(req.URL.Path)
	if p == Anthropic {
		w.Header().Set("request-id", fmt.Sprintf("req_fake%06d", id))
	} else {
		w.Header().Set("x-request-id", fmt.Sprintf("req_fake%06d", id))
	}
	if !s.wait(req, delay) {
		return
	}
	if fault != nil && !s.wait(req, fault.Delay) {
		return
	}
	if fault != nil && fault.Status != 0 {
		for k, vs := range fault.Header {
			w.Header()[k] = slices.Clone(vs)
		}
		body := []byte(fault.Body)
		if fault.Body == "" && fault.Status >= 400 {
			body = errorBody(p, defaultError(p, fault.Status))
		}
		s.write(w, rec, fault.Status, body)
		return
	}
	var v any
	var e *apiError
	switch p {
	case OpenAI:
		v, e = s.openai(req)
	case Anthropic:
		v, e = s.anthropic(req)
	default:
		e = &apiError{status: http.StatusNotFound, kind: "invalid_request_error",
			msg: fmt.Sprintf("Invalid URL (%s %s)", req.Method, req.URL.Path)}
	}
	if e != nil {
		s.write(w, rec, e.status, errorBody(p, e))
		return
	}
	body, err := json.Marshal(v)
	if err != nil {
		s.t.Errorf("llmfake: %s: %v", req.URL.Path, err)
		s.write(w, rec, http.StatusInternalServerError, errorBody(p, defaultError(p, http.StatusInternalServerError)))
		return
	}
	s.write(w, rec, http.StatusOK, body)
}

// wait waits d, and reports false if the client went away or the server
// closed first.
func (s *Server) wait(req *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-req.Context().Done():
	case <-s.closing:
	}
	return false
}

func (s *Server) write(w http.ResponseWriter, rec *Request, status int, body []byte) {
	s.mu.Lock()
	rec.Status = status
	s.mu.Unlock()
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorBody renders e as provider p does.
func errorBody(p string, e *apiError) []byte {
	var v any
	if p == Anthropic {
		v = map[string]any{"type": "error", "error": map[string]string{"type": e.kind, "message": e.msg}}
	} else {
		var param, code *string
		if e.param != "" {
			param = &e.param
		}
		if e.code != "" {
			code = &e.code
		}
		v = map[string]any{"error": map[string]any{"message": e.msg, "type": e.kind, "param": param, "code": code}}
	}
	body, _ := json.Marshal(v)
	return body
}

// defaultError is what provider p answers with status, for a Fault
// without a body.
func defaultError(p string, status int) *apiError {
	e := &apiError{status: status, kind: "api_error", msg: http.StatusText(status)}
	switch {
	case p == Anthropic && status == http.StatusTooManyRequests:
		e.kind, e.msg = "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"
	case p == Anthropic && status == 529:
		e.kind, e.msg = "overloaded_error", "Overloaded"
	case p == Anthropic && status >= 500:
		e.msg = "Internal server error"
	case p == Anthropic:
		e.kind = "invalid_request_error"
	case status == http.StatusTooManyRequests:
		e.kind, e.code, e.msg = "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later."
	case status >= 500:
		e.kind, e.msg = "server_error", "The server had an error while processing your request. Sorry about that!"
	default:
		e.kind = "invalid_request_error"
	}
	return e
}

// window is a query's buckets before paging: from first (a bucket start)
// while a bucket starts before end.
type window struct {
	first, end time.Time
	width      time.Duration
	limit      int
}

// page returns the starts of the buckets of one page of w, from the
// cursor's bucket (or the first), and the cursor of the next page, "" if
// there is none. Cursors are remembered per path: one the fake did not
// give out for path is an error.
func (s *Server) page(path string, w window, cursor string) ([]time.Time, string, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	from := w.first
	if cursor != "" {
		t, ok := s.issued[path][cursor]
		if !ok {
			return nil, "", badRequest("page", "page %q is not a cursor this API gave out: pass next_page from the previous response", cursor)
		}
		from = t
	}
	var starts []time.Time
	t := from
	for ; t.Before(w.end) && len(starts) < w.limit; t = t.Add(w.width) {
		starts = append(starts, t)
	}
	if !t.Before(w.end) {
		return starts, "", nil
	}
	next := "page_" + base64.StdEncoding.EncodeToString([]byte(t.Format(time.RFC3339)))
	if s.issued[path] == nil {
		s.issued[path] = map[string]time.Time{}
	}
	s.issued[path][next] = t
	return starts, next, nil
}

// sum adds up provider's usage in [from, from+width): one Usage per model
// sorted by model if byModel, else at most one with no Model.
func (s *Server) sum(provider string, from time.Time, width time.Duration, byModel bool) []Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	sums := map[string]*Usage{}
	lo, hi := from.Unix(), from.Add(width).Unix()
	for k, u := range s.usage {
		if k.provider != provider || k.hour < lo || k.hour >= hi {
			continue
		}
		model := ""
		if byModel {
			model = k.model
		}
		t, ok := sums[model]
		if !ok {
			t = &Usage{Hour: from, Model: model}
			sums[model] = t
		}
		t.Requests += u.Requests
		t.Input += u.Input
		t.Output += u.Output
		t.CacheRead += u.CacheRead
		t.CacheWrite += u.CacheWrite
	}
	out := make([]Usage, 0, len(sums))
	for _, u := range sums {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(a, b Usage) int { return strings.Compare(a.Model, b.Model) })
	return out
}

// cost is provider's cost of the UTC day that starts at day, if set.
func (s *Server) cost(provider string, day time.Time) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	usd, ok := s.costs[costKey{provider, day.Format(time.DateOnly)}]
	return usd, ok
}

// cents writes a plain decimal of dollars as cents, exactly: the point
// moves two places.
func cents(usd string) string {
	neg := strings.HasPrefix(usd, "-")
	whole, frac, _ := strings.Cut(strings.TrimPrefix(usd, "-"), ".")
	frac += "00"
	digits := strings.TrimLeft(whole+frac[:2], "0")
	rest := strings.TrimRight(frac[2:], "0")
	if digits == "" {
		digits = "0"
	}
	out := digits
	if rest != "" {
		out += "." + rest
	}
	if neg && out != "0" {
		out = "-" + out
	}
	return out
}

// groupBy is the group_by values of q, spelt group_by or group_by[],
// checked against those allowed.
func groupBy(q url.Values, allowed ...string) (map[string]bool, *apiError) {
	out := map[string]bool{}
	for _, g := range append(slices.Clone(q["group_by"]), q["group_by[]"]...) {
		if !slices.Contains(allowed, g) {
			return nil, badRequest("group_by", "group_by %q is not supported: use %s", g, strings.Join(allowed, ", "))
		}
		out[g] = true
	}
	return out, nil
}

// limit reads the limit parameter: def if absent, else 1..most.
func limit(q url.Values, def, most int) (int, *apiError) {
	text := q.Get("limit")
	if text == "" {
		return def, nil
	}
	n, err := strconv.Atoi(text)
	if err != nil || n < 1 || n > most {
		return 0, badRequest("limit", "limit %q: must be a whole number from 1 to %d", text, most)
	}
	return n, nil
}

// width reads bucket_width: one of allowed ("1d", "1h"), "1d" if absent.
func width(q url.Values, allowed ...string) (time.Duration, *apiError) {
	text := q.Get("bucket_width")
	if text == "" {
		text = "1d"
	}
	if !slices.Contains(allowed, text) {
		return 0, badRequest("bucket_width", "bucket_width %q is not supported here: use %s", text, strings.Join(allowed, " or "))
	}
	if text == "1h" {
		return time.Hour, nil
	}
	return 24 * time.Hour, nil
}
