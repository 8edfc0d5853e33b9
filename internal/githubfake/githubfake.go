// Package githubfake is a fake GitHub for tests, in the manner of
// net/http/httptest: a stateful server for the parts of the REST API that
// the github_release task uses (the repository, its releases and their
// assets), laid out as on GitHub Enterprise Server: the API under /api/v3,
// uploads under /api/uploads.
//
// It checks the token of every request, keeps every request it gets, can
// answer a request with a failure first (Fail), and reads uploads as a
// stream: an upload whose client goes away mid-body leaves an asset in
// state "starter" holding the bytes received so far, as GitHub does. Hold
// stops an upload after some bytes until the test lets it go on, so a test
// can kill a client mid-upload without sleeping.
//
// A test outside the process (the runner binary) points at it with
// GITHUB_API_URL=APIURL(), GITHUB_REPOSITORY=Repository() and
// GITHUB_TOKEN=Token().
package githubfake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Defaults of New.
const (
	DefaultOwner = "books"
	DefaultRepo  = "factory"
	DefaultToken = "ghp_fakeTOKEN0123456789abcdef"
)

// Server is a fake GitHub. Its methods are safe for concurrent use.
type Server struct {
	t           testing.TB
	owner, repo string
	token       string          // may write
	readOnly    map[string]bool // tokens that may only read

	mu       sync.Mutex
	digests  bool       // give assets a digest, as newer API versions do
	releases []*release // oldest first
	nextID   int64
	reqs     []*Request
	faults   map[string][]Fault
	holds    []*Hold
	srv      *httptest.Server
}

// Option configures New.
type Option func(*Server)

// WithRepository sets the repository's owner and name (books/factory by
// default); every other repository is 404.
func WithRepository(owner, name string) Option {
	return func(s *Server) { s.owner, s.repo = owner, name }
}

// WithToken sets the token that may read and write (DefaultToken by default).
func WithToken(token string) Option {
	return func(s *Server) { s.token = token }
}

// WithReadOnlyToken adds a token that may read the repository but not
// write it: the repository shows permissions.push false for it, and a
// write with it is 403 "Resource not accessible by integration".
func WithReadOnlyToken(token string) Option {
	return func(s *Server) { s.readOnly[token] = true }
}

// WithDigests makes assets carry a sha256 digest, as newer API versions do.
func WithDigests() Option {
	return func(s *Server) { s.digests = true }
}

// New starts a fake GitHub, closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	s := &Server{t: t, owner: DefaultOwner, repo: DefaultRepo, token: DefaultToken, readOnly: map[string]bool{},
		nextID: 100, faults: map[string][]Fault{}}
	for _, o := range opts {
		o(s)
	}
	// Unstarted, then started: the handlers read s.srv, which must be set
	// before the first of them can run.
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Start()
	t.Cleanup(func() {
		s.mu.Lock()
		holds := s.holds
		s.mu.Unlock()
		for _, h := range holds {
			h.Release() // Close waits for every request: none may stay held
		}
		s.srv.Close()
	})
	return s
}

// URL is the server's base URL, http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the API's base URL, for api_url or GITHUB_API_URL.
func (s *Server) APIURL() string { return s.srv.URL + "/api/v3" }

// Token is the token that may read and write.
func (s *Server) Token() string { return s.token }

// Repository is owner/name, for GITHUB_REPOSITORY.
func (s *Server) Repository() string { return s.owner + "/" + s.repo }

// SetDigests turns asset digests on or off (see WithDigests).
func (s *Server) SetDigests(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.digests = on
}

// Release is a snapshot of a release.
type Release struct {
	ID                      int64
	Tag, Name, Body, Target string
	Draft, Prerelease       bool
	MakeLatest              string // as the last update set it
	Assets                  []Asset
}

// Asset is a snapshot of a release asset.
type Asset struct {
	ID          int64
	Name        string
	ContentType string
	// State is "uploaded", or "starter" for an upload whose client went
	// away before the end of the body.
	State string
	Data  []byte // the bytes received
}

// Request is a request the server got.
type Request struct {
	Method, Path, Query string // Path whole, with /api/v3 or /api/uploads
	Auth, ContentType   string // the Authorization and Content-Type headers
	// Authorized says whether the request carried a token the server knows.
	Authorized bool
	Body       []byte // for an upload, the bytes received
}

// Fault is an answer given instead of the real one. With After, the
// request is carried out first and its answer lost, as when a connection
// drops after the server did the work.
type Fault struct {
	Status  int
	Headers map[string]string
	Body    string
	After   bool
}

type release struct {
	id                      int64
	tag, name, body, target string
	draft, prerelease       bool
	makeLatest              string
	assets                  []*asset
}

type asset struct {
	id                int64
	name, contentType string
	state             string
	data              []byte
}

// Fail queues an answer for the next request whose "METHOD path" starts
// with key (of several keys that match, the longest); path is without /api/v3 or /api/uploads, e.g.
// "POST /repos/books/factory/releases/".
func (s *Server) Fail(key string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[key] = append(s.faults[key], f)
}

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.reqs))
	for i, r := range s.reqs {
		out[i] = *r
	}
	return out
}

// Writes returns "METHOD path" of every request received that is not a
// GET, whether it succeeded or not.
func (s *Server) Writes() []string {
	var out []string
	for _, r := range s.Requests() {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// Release returns the release of tag, or nil.
func (s *Server) Release(tag string) *Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.releases {
		if r.tag == tag {
			snap := r.snapshot()
			return &snap
		}
	}
	return nil
}

// Releases returns every release, oldest first.
func (s *Server) Releases() []Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Release, 0, len(s.releases))
	for _, r := range s.releases {
		out = append(out, r.snapshot())
	}
	return out
}

func (r *release) snapshot() Release {
	out := Release{ID: r.id, Tag: r.tag, Name: r.name, Body: r.body, Target: r.target, Draft: r.draft,
		Prerelease: r.prerelease, MakeLatest: r.makeLatest}
	for _, a := range r.assets {
		out.Assets = append(out.Assets, Asset{ID: a.id, Name: a.name, ContentType: a.contentType, State: a.state,
			Data: append([]byte(nil), a.data...)})
	}
	return out
}

// AddRelease adds a release of tag, named after it, with no assets.
func (s *Server) AddRelease(tag string, draft bool) Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	r := &release{id: s.nextID, tag: tag, name: tag, draft: draft}
	s.releases = append(s.releases, r)
	return r.snapshot()
}

// SetAssetState sets the state of the asset name of the release of tag,
// e.g. to "starter", and reports whether there is such an asset.
func (s *Server) SetAssetState(tag, name, state string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.releases {
		if r.tag != tag {
			continue
		}
		for _, a := range r.assets {
			if a.name == name {
				a.state = state
				return true
			}
		}
	}
	return false
}

// Hold stops an upload in the middle. Made by Server.Hold.
type Hold struct {
	name    string
	after   int64
	reached chan struct{}
	release chan struct{}
	done    chan struct{}
	relOnce sync.Once
	used    bool // taken by an upload; guarded by Server.mu
}

// Hold makes the next upload of an asset called name stop reading its
// body once it has received at least after bytes, until Release. Reached
// is closed when it stops there; Done when that upload is over, completed
// or, if its client went away, kept as a "starter" asset.
//
// To kill a client mid-upload: wait for Reached, kill it, Release, wait
// for Done. The bytes the kernel had buffered are then still read, so
// make the asset a few MiB larger than after.
func (s *Server) Hold(name string, after int64) *Hold {
	h := &Hold{name: name, after: after, reached: make(chan struct{}), release: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holds = append(s.holds, h)
	return h
}

// Reached is closed once the upload is held.
func (h *Hold) Reached() <-chan struct{} { return h.reached }

// Done is closed once the held upload is over.
func (h *Hold) Done() <-chan struct{} { return h.done }

// Release lets the upload go on. It may be called more than once.
func (h *Hold) Release() { h.relOnce.Do(func() { close(h.release) }) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

var notFound = map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}

func (s *Server) releaseJSON(r *release) map[string]any {
	assets := []any{}
	for _, a := range r.assets {
		assets = append(assets, s.assetJSON(a))
	}
	return map[string]any{
		"id": r.id, "tag_name": r.tag, "name": r.name, "body": r.body, "draft": r.draft, "prerelease": r.prerelease,
		"target_commitish": r.target,
		"html_url":         fmt.Sprintf("https://github.example/%s/%s/releases/tag/%s", s.owner, s.repo, r.tag),
		"upload_url":       fmt.Sprintf("%s/api/uploads/repos/%s/%s/releases/%d/assets{?name,label}", s.srv.URL, s.owner, s.repo, r.id),
		"assets":           assets,
	}
}

func (s *Server) assetJSON(a *asset) map[string]any {
	m := map[string]any{"id": a.id, "name": a.name, "size": len(a.data), "state": a.state, "content_type": a.contentType}
	if s.digests {
		sum := sha256.Sum256(a.data)
		m["digest"] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return m
}

func (s *Server) serve(w http.ResponseWriter, req *http.Request) {
	path, uploads := req.URL.Path, false
	switch {
	case strings.HasPrefix(path, "/api/v3/"):
		path = strings.TrimPrefix(path, "/api/v3")
	case strings.HasPrefix(path, "/api/uploads/"):
		path, uploads = strings.TrimPrefix(path, "/api/uploads"), true
	default:
		s.t.Errorf("githubfake: request outside the API: %s %s", req.Method, req.URL.Path)
		http.NotFound(w, req)
		return
	}
	auth := req.Header.Get("Authorization")
	tok, _ := strings.CutPrefix(auth, "Bearer ")
	writer, reader := tok == s.token, tok == s.token || s.readOnly[tok]
	rec := &Request{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery, Auth: auth,
		ContentType: req.Header.Get("Content-Type"), Authorized: reader}
	s.mu.Lock()
	s.reqs = append(s.reqs, rec)
	s.mu.Unlock()

	if !reader {
		drain(req)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	s.mu.Lock()
	var ft *Fault
	best := ""
	for key, list := range s.faults { // the longest key that matches
		if len(list) > 0 && strings.HasPrefix(req.Method+" "+path, key) && len(key) > len(best) {
			best = key
		}
	}
	if list := s.faults[best]; best != "" {
		ft, s.faults[best] = &list[0], list[1:]
	}
	s.mu.Unlock()
	if ft != nil && !ft.After {
		rec.setBody(s, drain(req))
		writeFault(w, ft)
		return
	}
	if !writer && req.Method != http.MethodGet && req.Method != http.MethodHead {
		rec.setBody(s, drain(req))
		writeJSON(w, http.StatusForbidden, map[string]string{"message": "Resource not accessible by integration",
			"documentation_url": "https://docs.github.com/rest"})
		return
	}
	rw := w
	if ft != nil {
		rw = httptest.NewRecorder() // the work is done, the answer lost
	}
	if uploads {
		s.upload(rw, req, path, rec)
	} else {
		body := drain(req)
		rec.setBody(s, body)
		s.mu.Lock()
		s.route(rw, req, path, body, writer)
		s.mu.Unlock()
	}
	if ft != nil {
		writeFault(w, ft)
	}
}

func (r *Request) setBody(s *Server, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.Body = body
}

func drain(req *http.Request) []byte {
	body, _ := io.ReadAll(req.Body)
	return body
}

func writeFault(w http.ResponseWriter, ft *Fault) {
	for k, v := range ft.Headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ft.Status)
	_, _ = io.WriteString(w, ft.Body)
}

func (s *Server) findRelease(id string) *release {
	n, _ := strconv.ParseInt(id, 10, 64)
	for _, r := range s.releases {
		if r.id == n {
			return r
		}
	}
	return nil
}

func (s *Server) findAsset(id string) (*release, int) {
	n, _ := strconv.ParseInt(id, 10, 64)
	for _, r := range s.releases {
		for i, a := range r.assets {
			if a.id == n {
				return r, i
			}
		}
	}
	return nil, -1
}

// upload receives an asset, reading its body as a stream with s.mu not
// held. A body cut short keeps what came as a "starter" asset.
func (s *Server) upload(w http.ResponseWriter, req *http.Request, path string, rec *Request) {
	prefix := "/repos/" + s.owner + "/" + s.repo + "/releases/"
	id, ok := strings.CutSuffix(strings.TrimPrefix(path, prefix), "/assets")
	name := req.URL.Query().Get("name")
	s.mu.Lock()
	var r *release
	if strings.HasPrefix(path, prefix) && ok && req.Method == http.MethodPost {
		r = s.findRelease(id)
	}
	exists := false
	if r != nil {
		for _, a := range r.assets {
			exists = exists || a.name == name
		}
	}
	var hold *Hold
	for _, h := range s.holds {
		if !h.used && h.name == name && r != nil && !exists {
			hold, h.used = h, true
			break
		}
	}
	s.mu.Unlock()
	switch {
	case r == nil:
		rec.setBody(s, drain(req))
		writeJSON(w, http.StatusNotFound, notFound)
		return
	case exists:
		rec.setBody(s, drain(req))
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
			"errors": []map[string]string{{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}}})
		return
	}
	if hold != nil {
		defer close(hold.done)
	}
	// GitHub lists the asset from the start of its upload, in state starter.
	s.mu.Lock()
	s.nextID++
	a := &asset{id: s.nextID, name: name, contentType: req.Header.Get("Content-Type"), state: "starter"}
	r.assets = append(r.assets, a)
	s.mu.Unlock()

	var data []byte
	buf := make([]byte, 64<<10)
	var err error
	held := false
	for {
		var n int
		n, err = req.Body.Read(buf)
		data = append(data, buf[:n]...)
		if hold != nil && !held && int64(len(data)) >= hold.after {
			held = true
			close(hold.reached)
			<-hold.release
		}
		if err != nil {
			break
		}
	}
	complete := errors.Is(err, io.EOF) && (req.ContentLength < 0 || int64(len(data)) == req.ContentLength)
	s.mu.Lock()
	rec.Body, a.data = data, data
	if complete {
		a.state = "uploaded"
	}
	s.mu.Unlock()
	if !complete {
		http.Error(w, "upload cut short", http.StatusBadRequest) // the client is gone: no one reads this
		return
	}
	if req.ContentLength != int64(len(data)) {
		s.t.Errorf("githubfake: upload of %s: Content-Length %d, body %d bytes", name, req.ContentLength, len(data))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	writeJSON(w, http.StatusCreated, s.assetJSON(a))
}

// route carries out an API request; s.mu is held.
func (s *Server) route(w http.ResponseWriter, req *http.Request, path string, body []byte, writer bool) {
	repoPath := "/repos/" + s.owner + "/" + s.repo
	if req.Method == http.MethodGet && path == repoPath {
		writeJSON(w, http.StatusOK, map[string]any{
			"id": 4242, "name": s.repo, "full_name": s.owner + "/" + s.repo, "private": true,
			"owner":          map[string]any{"login": s.owner},
			"default_branch": "main",
			"html_url":       fmt.Sprintf("https://github.example/%s/%s", s.owner, s.repo),
			"permissions":    map[string]bool{"admin": false, "push": writer, "pull": true},
		})
		return
	}
	prefix := repoPath + "/releases"
	if !strings.HasPrefix(path, prefix) {
		writeJSON(w, http.StatusNotFound, notFound)
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(path, prefix), "/"), "/")
	if parts[0] == "" {
		parts = nil
	}
	switch {
	case req.Method == http.MethodGet && len(parts) == 0:
		perPage, _ := strconv.Atoi(req.URL.Query().Get("per_page"))
		if perPage == 0 {
			perPage = 30
		}
		page, _ := strconv.Atoi(req.URL.Query().Get("page"))
		page = max(page, 1)
		var newest []any
		for i := len(s.releases) - 1; i >= 0; i-- {
			newest = append(newest, s.releaseJSON(s.releases[i]))
		}
		start, end := min((page-1)*perPage, len(newest)), min(page*perPage, len(newest))
		if end < len(newest) {
			w.Header().Set("Link", fmt.Sprintf(`<%s/api/v3%s?per_page=%d&page=%d>; rel="next"`, s.srv.URL, prefix, perPage, page+1))
		}
		writeJSON(w, http.StatusOK, append([]any{}, newest[start:end]...))
	case req.Method == http.MethodGet && len(parts) == 2 && parts[0] == "tags":
		for _, r := range s.releases {
			if r.tag == parts[1] && !r.draft { // drafts are not found by tag
				writeJSON(w, http.StatusOK, s.releaseJSON(r))
				return
			}
		}
		writeJSON(w, http.StatusNotFound, notFound)
	case req.Method == http.MethodPost && len(parts) == 0:
		var in struct {
			Tag        string  `json:"tag_name"`
			Name       *string `json:"name,omitempty"`
			Body       *string `json:"body,omitempty"`
			Target     string  `json:"target_commitish"`
			Draft      bool    `json:"draft"`
			Prerelease bool    `json:"prerelease"`
		}
		if err := json.Unmarshal(body, &in); err != nil || in.Tag == "" {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"message": "Validation Failed"})
			return
		}
		s.nextID++
		r := &release{id: s.nextID, tag: in.Tag, name: in.Tag, target: in.Target, draft: in.Draft, prerelease: in.Prerelease}
		if in.Name != nil {
			r.name = *in.Name
		}
		if in.Body != nil {
			r.body = *in.Body
		}
		s.releases = append(s.releases, r)
		writeJSON(w, http.StatusCreated, s.releaseJSON(r))
	case req.Method == http.MethodPatch && len(parts) == 1:
		r := s.findRelease(parts[0])
		if r == nil {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		for k, v := range in {
			switch k {
			case "name":
				r.name, _ = v.(string)
			case "body":
				r.body, _ = v.(string)
			case "draft":
				r.draft, _ = v.(bool)
			case "prerelease":
				r.prerelease, _ = v.(bool)
			case "make_latest":
				r.makeLatest, _ = v.(string)
			case "target_commitish":
				r.target, _ = v.(string)
			}
		}
		writeJSON(w, http.StatusOK, s.releaseJSON(r))
	case req.Method == http.MethodGet && len(parts) == 2 && parts[1] == "assets":
		r := s.findRelease(parts[0])
		if r == nil {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		out := []any{}
		for _, a := range r.assets {
			out = append(out, s.assetJSON(a))
		}
		writeJSON(w, http.StatusOK, out)
	case req.Method == http.MethodGet && len(parts) == 2 && parts[0] == "assets":
		r, i := s.findAsset(parts[1])
		if r == nil {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		if req.Header.Get("Accept") != "application/octet-stream" {
			writeJSON(w, http.StatusOK, s.assetJSON(r.assets[i]))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(r.assets[i].data)
	case req.Method == http.MethodDelete && len(parts) == 2 && parts[0] == "assets":
		r, i := s.findAsset(parts[1])
		if r == nil {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		r.assets = append(r.assets[:i], r.assets[i+1:]...)
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, notFound)
	}
}
