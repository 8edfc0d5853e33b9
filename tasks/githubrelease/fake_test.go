package githubrelease

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeGitHub implements, statefully, the Releases endpoints of the GitHub
// REST API that the task uses, as GitHub Enterprise Server lays them out:
// the API under /api/v3, uploads under /api/uploads. It checks the token,
// keeps every request it gets, and can be told to answer a request with
// a failure first.
type fakeGitHub struct {
	t           *testing.T
	token       string
	owner, repo string
	digests     bool // give assets a digest, as newer API versions do

	mu       sync.Mutex
	releases []*fakeRelease // oldest first
	nextID   int64
	reqs     []fakeRequest
	faults   map[string][]fault
	srv      *httptest.Server
}

type fakeRelease struct {
	id                      int64
	tag, name, body, target string
	draft, prerelease       bool
	makeLatest              string
	assets                  []*fakeAsset
}

type fakeAsset struct {
	id                int64
	name, contentType string
	state             string
	data              []byte
}

type fakeRequest struct {
	Method, Path, Query string
	Auth, ContentType   string
	Body                []byte
}

// fault is an answer given instead of the real one. With after, the
// request is carried out first and its answer lost, as when a connection
// drops after the server did the work.
type fault struct {
	status  int
	headers map[string]string
	body    string
	after   bool
}

func newFake(t *testing.T) *fakeGitHub {
	f := &fakeGitHub{t: t, token: "ghp_fakeTOKEN0123456789abcdef", owner: "books", repo: "factory", nextID: 100, faults: map[string][]fault{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGitHub) apiURL() string { return f.srv.URL + "/api/v3" }

// fail queues an answer for the next request whose "METHOD path" starts
// with key (path without /api/v3 or /api/uploads).
func (f *fakeGitHub) fail(key string, ft fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[key] = append(f.faults[key], ft)
}

func (f *fakeGitHub) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

// writes counts the requests that change something.
func (f *fakeGitHub) writes() []string {
	var out []string
	for _, r := range f.requests() {
		if r.Method != http.MethodGet {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func (f *fakeGitHub) release(tag string) *fakeRelease {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.releases {
		if r.tag == tag {
			return r
		}
	}
	return nil
}

func (f *fakeGitHub) addRelease(tag string, draft bool) *fakeRelease {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	r := &fakeRelease{id: f.nextID, tag: tag, name: tag, draft: draft}
	f.releases = append(f.releases, r)
	return r
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGitHub) releaseJSON(r *fakeRelease) map[string]any {
	assets := []any{}
	for _, a := range r.assets {
		assets = append(assets, f.assetJSON(a))
	}
	return map[string]any{
		"id": r.id, "tag_name": r.tag, "name": r.name, "body": r.body, "draft": r.draft, "prerelease": r.prerelease,
		"target_commitish": r.target,
		"html_url":         fmt.Sprintf("https://github.example/%s/%s/releases/tag/%s", f.owner, f.repo, r.tag),
		"upload_url":       fmt.Sprintf("%s/api/uploads/repos/%s/%s/releases/%d/assets{?name,label}", f.srv.URL, f.owner, f.repo, r.id),
		"assets":           assets,
	}
}

func (f *fakeGitHub) assetJSON(a *fakeAsset) map[string]any {
	m := map[string]any{"id": a.id, "name": a.name, "size": len(a.data), "state": a.state, "content_type": a.contentType}
	if f.digests {
		sum := sha256.Sum256(a.data)
		m["digest"] = "sha256:" + hex.EncodeToString(sum[:])
	}
	return m
}

func (f *fakeGitHub) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	path, uploads := req.URL.Path, false
	switch {
	case strings.HasPrefix(path, "/api/v3/"):
		path = strings.TrimPrefix(path, "/api/v3")
	case strings.HasPrefix(path, "/api/uploads/"):
		path, uploads = strings.TrimPrefix(path, "/api/uploads"), true
	default:
		f.t.Errorf("request outside the API: %s %s", req.Method, req.URL.Path)
		http.NotFound(w, req)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, fakeRequest{Method: req.Method, Path: req.URL.Path, Query: req.URL.RawQuery,
		Auth: req.Header.Get("Authorization"), ContentType: req.Header.Get("Content-Type"), Body: body})
	if req.Header.Get("Authorization") != "Bearer "+f.token {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
		return
	}
	var ft *fault
	for key, list := range f.faults {
		if len(list) > 0 && strings.HasPrefix(req.Method+" "+path, key) {
			ft, f.faults[key] = &list[0], list[1:]
			break
		}
	}
	if ft != nil && !ft.after {
		f.writeFault(w, ft)
		return
	}
	rw := w
	if ft != nil {
		rw = httptest.NewRecorder() // the work is done, the answer lost
	}
	f.route(rw, req, path, uploads, body)
	if ft != nil {
		f.writeFault(w, ft)
	}
}

func (f *fakeGitHub) writeFault(w http.ResponseWriter, ft *fault) {
	for k, v := range ft.headers {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(ft.status)
	io.WriteString(w, ft.body)
}

func (f *fakeGitHub) findRelease(id string) *fakeRelease {
	n, _ := strconv.ParseInt(id, 10, 64)
	for _, r := range f.releases {
		if r.id == n {
			return r
		}
	}
	return nil
}

func (f *fakeGitHub) findAsset(id string) (*fakeRelease, int) {
	n, _ := strconv.ParseInt(id, 10, 64)
	for _, r := range f.releases {
		for i, a := range r.assets {
			if a.id == n {
				return r, i
			}
		}
	}
	return nil, -1
}

var notFound = map[string]string{"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}

// route carries out a request; f.mu is held.
func (f *fakeGitHub) route(w http.ResponseWriter, req *http.Request, path string, uploads bool, body []byte) {
	prefix := "/repos/" + f.owner + "/" + f.repo + "/releases"
	if !strings.HasPrefix(path, prefix) {
		writeJSON(w, http.StatusNotFound, notFound)
		return
	}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(path, prefix), "/"), "/")
	if parts[0] == "" {
		parts = nil
	}
	switch {
	case uploads && req.Method == http.MethodPost && len(parts) == 2 && parts[1] == "assets":
		r := f.findRelease(parts[0])
		if r == nil {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		name := req.URL.Query().Get("name")
		for _, a := range r.assets {
			if a.name == name {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"message": "Validation Failed",
					"errors": []map[string]string{{"resource": "ReleaseAsset", "code": "already_exists", "field": "name"}}})
				return
			}
		}
		if req.ContentLength != int64(len(body)) {
			f.t.Errorf("upload of %s: Content-Length %d, body %d bytes", name, req.ContentLength, len(body))
		}
		f.nextID++
		a := &fakeAsset{id: f.nextID, name: name, contentType: req.Header.Get("Content-Type"), state: "uploaded", data: body}
		r.assets = append(r.assets, a)
		writeJSON(w, http.StatusCreated, f.assetJSON(a))
	case uploads:
		writeJSON(w, http.StatusNotFound, notFound)
	case req.Method == http.MethodGet && len(parts) == 0:
		perPage, _ := strconv.Atoi(req.URL.Query().Get("per_page"))
		if perPage == 0 {
			perPage = 30
		}
		page, _ := strconv.Atoi(req.URL.Query().Get("page"))
		page = max(page, 1)
		var newest []any
		for i := len(f.releases) - 1; i >= 0; i-- {
			newest = append(newest, f.releaseJSON(f.releases[i]))
		}
		start, end := min((page-1)*perPage, len(newest)), min(page*perPage, len(newest))
		if end < len(newest) {
			w.Header().Set("Link", fmt.Sprintf(`<%s/api/v3%s?per_page=%d&page=%d>; rel="next"`, f.srv.URL, prefix, perPage, page+1))
		}
		writeJSON(w, http.StatusOK, append([]any{}, newest[start:end]...))
	case req.Method == http.MethodGet && len(parts) == 2 && parts[0] == "tags":
		for _, r := range f.releases {
			if r.tag == parts[1] && !r.draft { // drafts are not found by tag
				writeJSON(w, http.StatusOK, f.releaseJSON(r))
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
		f.nextID++
		r := &fakeRelease{id: f.nextID, tag: in.Tag, name: in.Tag, target: in.Target, draft: in.Draft, prerelease: in.Prerelease}
		if in.Name != nil {
			r.name = *in.Name
		}
		if in.Body != nil {
			r.body = *in.Body
		}
		f.releases = append(f.releases, r)
		writeJSON(w, http.StatusCreated, f.releaseJSON(r))
	case req.Method == http.MethodPatch && len(parts) == 1:
		r := f.findRelease(parts[0])
		if r == nil {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		var in map[string]any
		_ = json.Unmarshal(body, &in)
		for k, v := range in {
			switch k {
			case "name":
				r.name = v.(string)
			case "body":
				r.body = v.(string)
			case "draft":
				r.draft = v.(bool)
			case "prerelease":
				r.prerelease = v.(bool)
			case "make_latest":
				r.makeLatest = v.(string)
			case "target_commitish":
				r.target = v.(string)
			}
		}
		writeJSON(w, http.StatusOK, f.releaseJSON(r))
	case req.Method == http.MethodGet && len(parts) == 2 && parts[1] == "assets":
		r := f.findRelease(parts[0])
		if r == nil {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		out := []any{}
		for _, a := range r.assets {
			out = append(out, f.assetJSON(a))
		}
		writeJSON(w, http.StatusOK, out)
	case req.Method == http.MethodGet && len(parts) == 2 && parts[0] == "assets":
		r, i := f.findAsset(parts[1])
		if r == nil {
			writeJSON(w, http.StatusNotFound, notFound)
			return
		}
		if req.Header.Get("Accept") != "application/octet-stream" {
			writeJSON(w, http.StatusOK, f.assetJSON(r.assets[i]))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(r.assets[i].data)
	case req.Method == http.MethodDelete && len(parts) == 2 && parts[0] == "assets":
		r, i := f.findAsset(parts[1])
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
