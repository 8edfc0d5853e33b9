package githubrelease

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/githubfake"
)

type nopProgress struct{}

func (nopProgress) Progress(int64, int64) {}

// harness runs the task against a fake GitHub, recording the waits it
// asked for and everything it wrote, so that a test can look for the token.
type harness struct {
	t     *testing.T
	gh    *githubfake.Server
	dir   string
	log   bytes.Buffer // unmasked: what the task itself wrote
	mu    sync.Mutex
	waits []time.Duration
	seen  []string // every error, output and plan text, searched for the token
	env   []string
}

var now = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, gh: githubfake.New(t), dir: t.TempDir()}
	h.env = []string{"GITHUB_TOKEN=" + h.gh.Token(), "GITHUB_API_URL=" + h.gh.APIURL(), "GITHUB_REPOSITORY=books/factory"}
	h.write("dist/factory-11.0.0.zip", "PK zip bytes")
	h.write("dist/SHA256SUMS", "abc  factory-11.0.0.zip\n")
	t.Cleanup(func() {
		all := strings.Join(h.seen, "\n") + h.log.String()
		if strings.Contains(all, h.gh.Token()) {
			t.Errorf("the token appears in what the task wrote:\n%s", all)
		}
	})
	return h
}

func (h *harness) write(rel, content string) {
	path := filepath.Join(h.dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) deps() deps {
	return deps{
		sleep: func(_ context.Context, d time.Duration) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.waits = append(h.waits, d)
			return nil
		},
		now:    func() time.Time { return now },
		origin: func(context.Context, string) (string, error) { return "git@github.com:books/factory.git", nil },
	}
}

func (h *harness) taskEnv() *tasktype.Env {
	return &tasktype.Env{Dir: h.dir, Environ: h.env, Log: &h.log, Progress: nopProgress{}, Secrets: secret.New(), RunID: "r1", TaskID: "release"}
}

func baseParams() *Params {
	return &Params{Tag: "v11.0.0", Name: "Factory 11.0.0", Notes: "## Features\n- ZIP asset\n",
		Assets: []string{"dist/*.zip", "dist/SHA256SUMS"}, Draft: true, TokenEnv: "GITHUB_TOKEN", Attempts: 5, MaxDelay: time.Minute}
}

func (h *harness) run(p *Params) (tasktype.Outputs, error) {
	h.t.Helper()
	if err := check(p); err != nil {
		h.t.Fatalf("check: %v", err)
	}
	out, err := runRelease(context.Background(), h.taskEnv(), p, h.deps())
	h.record(out, err)
	return out, err
}

func (h *harness) plan(p *Params) (tasktype.Plan, error) {
	h.t.Helper()
	pl, err := planRelease(context.Background(), h.taskEnv(), p, h.deps())
	h.record(pl.Outputs, err)
	h.seen = append(h.seen, pl.Summary)
	return pl, err
}

func (h *harness) record(out tasktype.Outputs, err error) {
	if err != nil {
		h.seen = append(h.seen, err.Error())
	}
	b, _ := json.Marshal(out)
	h.seen = append(h.seen, string(b))
}

func (h *harness) mustRun(p *Params) tasktype.Outputs {
	h.t.Helper()
	out, err := h.run(p)
	if err != nil {
		h.t.Fatalf("run: %v\nlog:\n%s", err, h.log.String())
	}
	return out
}

func TestAFirstRunCreatesADraftAndUploadsTheAssets(t *testing.T) {
	h := newHarness(t)
	out := h.mustRun(baseParams())

	rel := h.gh.Release("v11.0.0")
	if rel == nil || !rel.Draft || rel.Name != "Factory 11.0.0" || rel.Body != "## Features\n- ZIP asset\n" {
		t.Fatalf("release = %+v, want a draft with the name and notes", rel)
	}
	var got []string
	for _, r := range h.gh.Requests() {
		got = append(got, r.Method+" "+r.Path)
		if r.Auth != "Bearer "+h.gh.Token() {
			t.Errorf("%s %s: Authorization %q", r.Method, r.Path, r.Auth)
		}
	}
	base, up := "/api/v3/repos/books/factory/releases", "/api/uploads/repos/books/factory/releases"
	id := rel.ID
	want := []string{
		"GET " + base + "/tags/v11.0.0", // a draft is not found by tag…
		"GET " + base,                   // …so the releases are listed
		"POST " + base,
		fmt.Sprintf("POST %s/%d/assets", up, id),
		fmt.Sprintf("POST %s/%d/assets", up, id),
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	reqs := h.gh.Requests()
	var create map[string]any
	if err := json.Unmarshal(reqs[2].Body, &create); err != nil {
		t.Fatal(err)
	}
	if create["tag_name"] != "v11.0.0" || create["draft"] != true || create["name"] != "Factory 11.0.0" || create["body"] != "## Features\n- ZIP asset\n" {
		t.Errorf("create body = %s", reqs[2].Body)
	}
	uploads := map[string]githubfake.Request{}
	for _, r := range reqs[3:] {
		uploads[strings.TrimPrefix(r.Query, "name=")] = r
	}
	if r := uploads["factory-11.0.0.zip"]; r.ContentType != "application/zip" || string(r.Body) != "PK zip bytes" {
		t.Errorf("zip upload: %q %q", r.ContentType, r.Body)
	}
	if r := uploads["SHA256SUMS"]; r.ContentType != "application/octet-stream" || string(r.Body) != "abc  factory-11.0.0.zip\n" {
		t.Errorf("SHA256SUMS upload: %q %q", r.ContentType, r.Body)
	}
	wantOut := tasktype.Outputs{"id": id, "url": "https://github.example/books/factory/releases/tag/v11.0.0",
		"upload_url": fmt.Sprintf("%s/%d/assets{?name,label}", h.gh.URL()+up, id),
		"uploaded":   []string{"factory-11.0.0.zip", "SHA256SUMS"}, "unchanged": []string{}, "published": false, "draft": true,
		"repository": "books/factory"}
	if !reflect.DeepEqual(out, wantOut) {
		t.Errorf("outputs = %#v\nwant %#v", out, wantOut)
	}
}

func TestASecondIdenticalRunChangesNothingAndUploadsNothing(t *testing.T) {
	for _, digests := range []bool{true, false} {
		t.Run(fmt.Sprintf("with digests %t", digests), func(t *testing.T) {
			h := newHarness(t)
			h.gh.SetDigests(digests)
			h.mustRun(baseParams())
			before := len(h.gh.Requests())
			out := h.mustRun(baseParams())
			if w := h.gh.Writes(); len(w) != 3 { // the first run's create and two uploads
				t.Errorf("writes = %v, want only the first run's three", w)
			}
			if !reflect.DeepEqual(out["uploaded"], []string{}) || !reflect.DeepEqual(out["unchanged"], []string{"factory-11.0.0.zip", "SHA256SUMS"}) {
				t.Errorf("outputs = %v", out)
			}
			downloads := 0
			for _, r := range h.gh.Requests()[before:] {
				if strings.Contains(r.Path, "/releases/assets/") {
					downloads++
				}
			}
			if want := map[bool]int{true: 0, false: 2}[digests]; downloads != want {
				t.Errorf("%d downloads to compare, want %d (a digest makes them needless)", downloads, want)
			}
			if n := len(h.gh.Release("v11.0.0").Assets); n != 2 {
				t.Errorf("%d assets, want 2", n)
			}
		})
	}
}

func TestAChangedAssetIsReplaced(t *testing.T) {
	h := newHarness(t)
	h.gh.SetDigests(true)
	h.mustRun(baseParams())
	h.write("dist/factory-11.0.0.zip", "PK other bytes!")   // other size
	h.write("dist/SHA256SUMS", "abd  factory-11.0.0.zip\n") // same size, other bytes
	before := len(h.gh.Writes())
	out := h.mustRun(baseParams())
	w := h.gh.Writes()[before:]
	if len(w) != 4 || !strings.HasPrefix(w[0], "DELETE ") || !strings.HasPrefix(w[1], "POST /api/uploads/") ||
		!strings.HasPrefix(w[2], "DELETE ") || !strings.HasPrefix(w[3], "POST /api/uploads/") {
		t.Errorf("writes = %v, want delete then upload, twice", w)
	}
	if !reflect.DeepEqual(out["uploaded"], []string{"factory-11.0.0.zip", "SHA256SUMS"}) {
		t.Errorf("uploaded = %v", out["uploaded"])
	}
	rel := h.gh.Release("v11.0.0")
	if len(rel.Assets) != 2 || string(rel.Assets[0].Data) != "PK other bytes!" || string(rel.Assets[1].Data) != "abd  factory-11.0.0.zip\n" {
		t.Errorf("assets after the replace: %+v", rel.Assets)
	}
}

func TestNotesAndNameAreUpdatedOnAnExistingDraft(t *testing.T) {
	h := newHarness(t)
	h.mustRun(baseParams())
	p := baseParams()
	p.Notes, p.Prerelease = "## Features\n- better\n", true
	before := len(h.gh.Requests())
	h.mustRun(p)
	var patches []githubfake.Request
	for _, r := range h.gh.Requests()[before:] {
		if r.Method == "PATCH" {
			patches = append(patches, r)
		}
	}
	if len(patches) != 1 || string(patches[0].Body) != `{"body":"## Features\n- better\n","prerelease":true}`+"\n" {
		t.Fatalf("patches = %+v", patches)
	}
	if rel := h.gh.Release("v11.0.0"); rel.Body != p.Notes || !rel.Prerelease || !rel.Draft {
		t.Errorf("release = %+v", rel)
	}
}

func TestPublishTurnsTheDraftIntoTheLatestRelease(t *testing.T) {
	h := newHarness(t)
	h.mustRun(baseParams())
	p := baseParams()
	p.Publish, p.Latest = true, "true"
	out := h.mustRun(p)
	w := h.gh.Writes()
	last := h.gh.Requests()[len(h.gh.Requests())-1]
	if len(w) != 4 || last.Method != "PATCH" || string(last.Body) != `{"draft":false,"make_latest":"true"}`+"\n" {
		t.Fatalf("writes = %v, last body %s", w, last.Body)
	}
	if out["published"] != true || out["draft"] != false {
		t.Errorf("outputs = %v", out)
	}
	if rel := h.gh.Release("v11.0.0"); rel.Draft || rel.MakeLatest != "true" {
		t.Errorf("release = %+v", rel)
	}
	// Published, it is found by its tag, and nothing more happens.
	before := len(h.gh.Requests())
	out = h.mustRun(p)
	reqs := h.gh.Requests()[before:]
	if len(h.gh.Writes()) != 4 || !strings.HasSuffix(reqs[0].Path, "/tags/v11.0.0") || reqs[1].Method != "GET" || !strings.HasSuffix(reqs[1].Path, "/assets") {
		t.Errorf("a third run's requests: %+v", reqs)
	}
	if out["published"] != true || !reflect.DeepEqual(out["uploaded"], []string{}) {
		t.Errorf("outputs = %v", out)
	}
}

func TestAMissingTokenFailsBeforeAnyRequest(t *testing.T) {
	h := newHarness(t)
	h.env = []string{"GITHUB_API_URL=" + h.gh.APIURL(), "GITHUB_REPOSITORY=books/factory"}
	_, err := h.run(baseParams())
	_, perr := h.plan(baseParams())
	for _, e := range []error{err, perr} {
		if e == nil || !strings.Contains(e.Error(), "set the environment variable GITHUB_TOKEN") || !strings.Contains(e.Error(), "contents: write") {
			t.Errorf("error = %v, want one naming GITHUB_TOKEN and contents: write", e)
		}
	}
	if n := len(h.gh.Requests()); n != 0 {
		t.Errorf("%d requests sent without a token", n)
	}
}

func TestTheTokenVariableCanBeRenamed(t *testing.T) {
	h := newHarness(t)
	h.env = []string{"GHE_TOKEN=" + h.gh.Token(), "GITHUB_TOKEN=wrong", "GITHUB_API_URL=" + h.gh.APIURL(), "GITHUB_REPOSITORY=books/factory"}
	p := baseParams()
	p.TokenEnv = "GHE_TOKEN"
	h.mustRun(p)
	if h.gh.Release("v11.0.0") == nil {
		t.Error("no release made with the token from GHE_TOKEN")
	}
}

func TestABadTokenIsAClearErrorThatDoesNotShowIt(t *testing.T) {
	h := newHarness(t)
	bad := "ghp_badTOKENabcdef0123456789"
	h.env[0] = "GITHUB_TOKEN=" + bad
	_, err := h.run(baseParams())
	if err == nil || !strings.Contains(err.Error(), "GitHub refused the token in GITHUB_TOKEN (401") || !strings.Contains(err.Error(), "contents: write") {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error()+h.log.String(), bad) {
		t.Errorf("the bad token is shown: %v", err)
	}
	if w := h.gh.Writes(); len(w) != 0 {
		t.Errorf("writes with a bad token: %v", w)
	}
	if r := h.gh.Requests(); len(r) != 1 || r[0].Auth != "Bearer "+bad {
		t.Errorf("requests = %+v, want one, which is not tried again", r)
	}
}

func TestRateLimitsAnd5xxAreTriedAgainAfterTheServersWait(t *testing.T) {
	h := newHarness(t)
	h.gh.Fail("GET /repos/books/factory/releases/tags/", githubfake.Fault{Status: 403, Headers: map[string]string{"Retry-After": "7"},
		Body: `{"message":"You have exceeded a secondary rate limit","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`})
	h.gh.Fail("GET /repos/books/factory/releases", githubfake.Fault{Status: 429, Headers: map[string]string{
		"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": fmt.Sprint(now.Add(30 * time.Second).Unix())}, Body: `{"message":"API rate limit exceeded"}`})
	h.gh.Fail("POST /repos/books/factory/releases/", githubfake.Fault{Status: 503, Body: `{"message":"Service Unavailable"}`})
	h.gh.Fail("POST /repos/books/factory/releases/", githubfake.Fault{Status: 502, Headers: map[string]string{"Retry-After": "3600"}})
	out := h.mustRun(baseParams())
	want := []time.Duration{7 * time.Second, 31 * time.Second, time.Second, time.Minute}
	if !reflect.DeepEqual(h.waits, want) {
		t.Errorf("waits = %v, want %v (Retry-After, the reset, a backoff, a Retry-After capped at max_delay)", h.waits, want)
	}
	if !reflect.DeepEqual(out["uploaded"], []string{"factory-11.0.0.zip", "SHA256SUMS"}) || len(h.gh.Release("v11.0.0").Assets) != 2 {
		t.Errorf("outputs = %v", out)
	}
}

func TestAForbiddenAnswerWithoutARateLimitIsNotTriedAgain(t *testing.T) {
	h := newHarness(t)
	h.gh.Fail("GET /repos/books/factory/releases/tags/", githubfake.Fault{Status: 403, Body: `{"message":"Resource not accessible by integration"}`})
	_, err := h.run(baseParams())
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden: the token in GITHUB_TOKEN may not do this on books/factory; it needs contents: write") {
		t.Fatalf("error = %v", err)
	}
	if len(h.waits) != 0 || len(h.gh.Requests()) != 1 {
		t.Errorf("waits %v, %d requests", h.waits, len(h.gh.Requests()))
	}
}

func TestAnUploadWhoseAnswerWasLostIsNotDuplicated(t *testing.T) {
	h := newHarness(t)
	// The server stores the zip, then the answer is lost: the retry meets 422 already_exists.
	h.gh.Fail("POST /repos/books/factory/releases/", githubfake.Fault{Status: 502, After: true})
	out := h.mustRun(baseParams())
	rel := h.gh.Release("v11.0.0")
	if len(rel.Assets) != 2 {
		t.Fatalf("%d assets, want 2: %+v", len(rel.Assets), rel.Assets)
	}
	if !reflect.DeepEqual(out["unchanged"], []string{"factory-11.0.0.zip"}) || !reflect.DeepEqual(out["uploaded"], []string{"SHA256SUMS"}) {
		t.Errorf("outputs = %v", out)
	}
	var statuses []string
	for _, r := range h.gh.Requests() {
		if r.Method == "POST" && strings.HasPrefix(r.Path, "/api/uploads/") {
			statuses = append(statuses, r.Query)
		}
	}
	if len(statuses) != 3 { // zip (lost), zip (422), SHA256SUMS
		t.Errorf("uploads = %v", statuses)
	}
}

func TestAHalfUploadedAssetIsReplaced(t *testing.T) {
	h := newHarness(t)
	h.mustRun(baseParams())
	if !h.gh.SetAssetState("v11.0.0", "factory-11.0.0.zip", "starter") { // a run killed mid-upload
		t.Fatal("no asset to mark")
	}
	out := h.mustRun(baseParams())
	if !reflect.DeepEqual(out["uploaded"], []string{"factory-11.0.0.zip"}) || len(h.gh.Release("v11.0.0").Assets) != 2 {
		t.Errorf("outputs = %v", out)
	}
}

func TestADraftIsFoundOnALaterPageOfReleases(t *testing.T) {
	h := newHarness(t)
	h.gh.AddRelease("v11.0.0", true) // the oldest: on the second page of 100
	for i := range 150 {
		h.gh.AddRelease(fmt.Sprintf("v1.%d.0", i), false)
	}
	h.mustRun(baseParams())
	var lists []string
	for _, r := range h.gh.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/releases") {
			lists = append(lists, r.Query)
		}
		if r.Method == "POST" && !strings.HasPrefix(r.Path, "/api/uploads/") {
			t.Errorf("a second release was created: %s %s", r.Method, r.Path)
		}
	}
	if !reflect.DeepEqual(lists, []string{"per_page=100", "page=2&per_page=100"}) {
		t.Errorf("list requests = %v", lists)
	}
	if n := len(h.gh.Release("v11.0.0").Assets); n != 2 {
		t.Errorf("%d assets on the draft", n)
	}
}

func TestTheDryRunReadsAndSaysWhatItWouldDo(t *testing.T) {
	h := newHarness(t)
	p := baseParams()
	p.Publish, p.Assets = true, append(p.Assets, "dist/not-built-yet.tar.gz")
	pl, err := h.plan(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"would create the draft release v11.0.0 on books/factory", "would upload factory-11.0.0.zip as application/zip",
		"would upload not-built-yet.tar.gz as application/gzip (not there yet", "would publish it"} {
		if !strings.Contains(pl.Summary, want) {
			t.Errorf("plan %q lacks %q", pl.Summary, want)
		}
	}
	h.mustRun(baseParams())
	h.write("dist/SHA256SUMS", "changed\n")
	before := len(h.gh.Writes())
	pl, err = h.plan(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"is up to date", "would leave factory-11.0.0.zip alone", "would replace SHA256SUMS (", "would publish it"} {
		if !strings.Contains(pl.Summary, want) {
			t.Errorf("plan %q lacks %q", pl.Summary, want)
		}
	}
	if w := h.gh.Writes(); len(w) != before {
		t.Errorf("the dry run wrote: %v", w[before:])
	}
	if pl.Outputs["id"] != h.gh.Release("v11.0.0").ID {
		t.Errorf("plan outputs = %v", pl.Outputs)
	}
}

func TestTheTokenIsMaskedInTheRunsMasker(t *testing.T) {
	h := newHarness(t)
	env := h.taskEnv()
	if _, err := runRelease(context.Background(), env, baseParams(), h.deps()); err != nil {
		t.Fatal(err)
	}
	if got := env.Secrets.String("token " + h.gh.Token()); got != "token "+secret.Mask {
		t.Errorf("masked: %q", got)
	}
}

func TestTheRepositoryComesFromTheOriginRemote(t *testing.T) {
	h := newHarness(t)
	h.env = []string{"GITHUB_TOKEN=" + h.gh.Token(), "GITHUB_API_URL=" + h.gh.APIURL()}
	var got string
	d := h.deps()
	d.origin = func(context.Context, string) (string, error) { return "https://github.com/books/factory.git", nil }
	st, err := resolve(context.Background(), h.taskEnv(), baseParams(), d)
	if err == nil {
		got = st.owner + "/" + st.repo
	}
	if got != "books/factory" {
		t.Errorf("repository = %q, %v", got, err)
	}
}

// TestDirNamesTheRepositoryWhoseOriginIsRead: with dir, the origin of
// that repository names the release's repository, not that of the
// repository holding the recipe (real git, real gitOrigin).
func TestDirNamesTheRepositoryWhoseOriginIsRead(t *testing.T) {
	h := newHarness(t)
	h.env = []string{"GITHUB_TOKEN=" + h.gh.Token(), "GITHUB_API_URL=" + h.gh.APIURL()}
	clone := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"remote", "add", "origin", "git@github.com:novelfactory/factory.git"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = clone
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	d := h.deps()
	d.origin = gitOrigin
	p := baseParams()
	p.Dir = params.Path(clone)
	st, err := resolve(context.Background(), h.taskEnv(), p, d)
	if err != nil || st.owner+"/"+st.repo != "novelfactory/factory" {
		t.Errorf("repository = %s/%s, %v; want novelfactory/factory from %s's origin", st.owner, st.repo, err, clone)
	}
	p.Dir = params.Path(t.TempDir()) // no repository there
	if _, err := resolve(context.Background(), h.taskEnv(), p, d); err == nil || !strings.Contains(err.Error(), string(p.Dir)) {
		t.Errorf("a dir without a repository: %v, want an error naming it", err)
	}
}

func TestRemoteURLsNameTheRepository(t *testing.T) {
	for remote, want := range map[string]string{
		"https://github.com/books/factory.git":         "books/factory",
		"https://github.com/books/factory":             "books/factory",
		"https://user@ghe.example.com/books/factory/":  "books/factory",
		"git@github.com:books/factory.git":             "books/factory",
		"ssh://git@github.com/books/factory.git":       "books/factory",
		"ssh://git@ghe.example.com:2222/books/factory": "books/factory",
		"/srv/git/factory.git":                         "",
		"https://github.com/factory":                   "",
	} {
		if got := repoFromRemote(remote); got != want {
			t.Errorf("repoFromRemote(%q) = %q, want %q", remote, got, want)
		}
	}
}

func TestUploadsGoToTheHostThatGoesWithTheAPI(t *testing.T) {
	for api, want := range map[string]string{
		"https://ghe.example.com/api/v3":  "https://ghe.example.com/api/uploads/",
		"https://ghe.example.com/api/v3/": "https://ghe.example.com/api/uploads/",
		"https://api.acme.ghe.com":        "https://uploads.acme.ghe.com/",
		"http://127.0.0.1:8080":           "http://127.0.0.1:8080/api/uploads/",
	} {
		if got := uploadsURL(api); got != want {
			t.Errorf("uploadsURL(%q) = %q, want %q", api, got, want)
		}
	}
}

func TestBadParamsAreRefused(t *testing.T) {
	for name, edit := range map[string]func(p *Params){
		"a tag with a space":  func(p *Params) { p.Tag = "v1 0" },
		"a repository of one": func(p *Params) { p.Repository = "factory" },
		"no token variable":   func(p *Params) { p.TokenEnv = "" },
		"no attempts":         func(p *Params) { p.Attempts = 0 },
	} {
		t.Run(name, func(t *testing.T) {
			p := baseParams()
			edit(p)
			if err := check(p); err == nil {
				t.Error("accepted")
			}
		})
	}
}

// TestAGlobSkipsFolders: assets: ["dist/*"] failed on a folder inside
// dist/ (hostile review); checksum's files skip them, and so does this.
func TestAGlobSkipsFolders(t *testing.T) {
	h := newHarness(t)
	if err := os.MkdirAll(filepath.Join(h.dir, "dist", "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := baseParams()
	p.Assets = []string{"dist/*"}
	out := h.mustRun(p)
	if got := fmt.Sprint(out["uploaded"]); !strings.Contains(got, "factory-11.0.0.zip") || strings.Contains(got, "tmp") {
		t.Fatalf("uploaded %s, want the files of dist/ and not its folder", got)
	}
	p.Assets = []string{"dist/t*"}
	if _, err := h.run(p); err == nil || !strings.Contains(err.Error(), "matches only folders") {
		t.Fatalf("a glob of folders only: %v", err)
	}
}

// TestAnUploadCutShortIsReplacedByTheNextRun: a run stopped mid-upload
// leaves the asset listed in state starter with part of its bytes, as
// GitHub does; the next run deletes it and uploads it whole.
func TestAnUploadCutShortIsReplacedByTheNextRun(t *testing.T) {
	h := newHarness(t)
	big := strings.Repeat("0123456789abcdef", 1<<19) // 8 MiB: more than the kernel buffers while held
	h.write("dist/factory-11.0.0.zip", big)
	hold := h.gh.Hold("factory-11.0.0.zip", 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		_, err := runRelease(ctx, h.taskEnv(), baseParams(), h.deps())
		errc <- err
	}()
	hangGuard := time.After(time.Minute)
	select {
	case <-hold.Reached():
	case <-hangGuard:
		t.Fatal("the upload never started")
	}
	cancel() // the client goes away mid-body
	if err := <-errc; err == nil {
		t.Fatal("the cut-short run succeeded")
	}
	hold.Release()
	select {
	case <-hold.Done():
	case <-hangGuard:
		t.Fatal("the held upload never ended")
	}
	rel := h.gh.Release("v11.0.0")
	if len(rel.Assets) != 1 || rel.Assets[0].State != "starter" || len(rel.Assets[0].Data) >= len(big) {
		t.Fatalf("after the cut: %d assets, state %q, %d bytes", len(rel.Assets), rel.Assets[0].State, len(rel.Assets[0].Data))
	}
	before := len(h.gh.Writes())
	out := h.mustRun(baseParams())
	w := h.gh.Writes()[before:]
	if len(w) != 3 || !strings.HasPrefix(w[0], "DELETE ") || !strings.HasPrefix(w[1], "POST /api/uploads/") {
		t.Errorf("writes = %v, want the half-uploaded zip deleted and both uploaded", w)
	}
	if !reflect.DeepEqual(out["uploaded"], []string{"factory-11.0.0.zip", "SHA256SUMS"}) {
		t.Errorf("outputs = %v", out)
	}
	rel = h.gh.Release("v11.0.0")
	if len(rel.Assets) != 2 || rel.Assets[0].State != "uploaded" || string(rel.Assets[0].Data) != big {
		t.Errorf("after the second run: %d assets, state %q, %d bytes", len(rel.Assets), rel.Assets[0].State, len(rel.Assets[0].Data))
	}
}
