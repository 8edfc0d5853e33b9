package githubrelease

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/githubfake"
)

func checkParams() *Params {
	return &Params{Check: true, Draft: true, TokenEnv: "GITHUB_TOKEN", Attempts: 5, MaxDelay: 60e9}
}

// preflightBoth runs check: true as a run and as a dry run, and returns
// both errors; both must make the same requests.
func (h *harness) preflightBoth(p *Params) (tasktype.Outputs, error, error) {
	h.t.Helper()
	if err := check(p); err != nil {
		h.t.Fatalf("check: %v", err)
	}
	out, err := runPreflight(context.Background(), h.taskEnv(), p, h.deps())
	h.record(out, err)
	pl, perr := planPreflight(context.Background(), h.taskEnv(), p, h.deps())
	h.record(pl.Outputs, perr)
	h.seen = append(h.seen, pl.Summary)
	return out, err, perr
}

func TestCheckWithAGoodTokenReadsTheRepositoryOnceAndWritesNothing(t *testing.T) {
	h := newHarness(t)
	out, err, perr := h.preflightBoth(checkParams())
	if err != nil || perr != nil {
		t.Fatalf("run: %v; dry run: %v", err, perr)
	}
	reqs := h.gh.Requests()
	if len(reqs) != 2 || reqs[0].Method != "GET" || reqs[0].Path != "/api/v3/repos/books/factory" || !reqs[0].Authorized {
		t.Fatalf("requests = %+v, want one GET of the repository per mode", reqs)
	}
	if w := h.gh.Writes(); len(w) != 0 {
		t.Errorf("writes: %v", w)
	}
	want := tasktype.Outputs{"id": int64(0), "url": "", "upload_url": "", "uploaded": []string{}, "unchanged": []string{},
		"published": false, "draft": false, "repository": "books/factory"}
	if !reflect.DeepEqual(out, want) {
		t.Errorf("outputs = %#v", out)
	}
	if !strings.Contains(h.log.String(), "the token in GITHUB_TOKEN can read books/factory and write its releases") {
		t.Errorf("log = %q", h.log.String())
	}
}

func TestCheckWithoutATokenSendsNothing(t *testing.T) {
	for _, env := range [][]string{{}, {"GITHUB_TOKEN="}} {
		h := newHarness(t)
		h.env = append(env, "GITHUB_API_URL="+h.gh.APIURL(), "GITHUB_REPOSITORY=books/factory")
		_, err, perr := h.preflightBoth(checkParams())
		for _, e := range []error{err, perr} {
			if e == nil || !strings.Contains(e.Error(), "set the environment variable GITHUB_TOKEN") || !strings.Contains(e.Error(), "contents: write") {
				t.Errorf("%v: error = %v, want one naming GITHUB_TOKEN and contents: write", env, e)
			}
		}
		if n := len(h.gh.Requests()); n != 0 {
			t.Errorf("%v: %d requests sent without a token", env, n)
		}
	}
}

func TestCheckWithABadTokenSaysSoWithoutShowingIt(t *testing.T) {
	h := newHarness(t)
	bad := "ghp_badTOKENabcdef0123456789"
	h.env[0] = "GITHUB_TOKEN=" + bad
	_, err, perr := h.preflightBoth(checkParams())
	for _, e := range []error{err, perr} {
		if e == nil || !strings.Contains(e.Error(), "GitHub refused the token in GITHUB_TOKEN (401") {
			t.Fatalf("error = %v", e)
		}
		if strings.Contains(e.Error(), bad) {
			t.Errorf("the bad token is shown: %v", e)
		}
	}
	if strings.Contains(h.log.String(), bad) {
		t.Errorf("the bad token is in the log")
	}
	if r := h.gh.Requests(); len(r) != 2 || r[0].Authorized || len(h.gh.Writes()) != 0 {
		t.Errorf("requests = %+v, want one unauthorized GET per mode, not tried again", r)
	}
}

func TestCheckOfAnUnknownRepositorySaysItIsMissingOrHidden(t *testing.T) {
	h := newHarness(t)
	p := checkParams()
	p.Repository = "books/other"
	_, err, perr := h.preflightBoth(p)
	for _, e := range []error{err, perr} {
		if e == nil || !strings.Contains(e.Error(), "the repository books/other was not found (404): it does not exist, or the token in GITHUB_TOKEN cannot see it") {
			t.Errorf("error = %v", e)
		}
	}
	if r := h.gh.Requests(); len(r) != 2 || r[0].Path != "/api/v3/repos/books/other" {
		t.Errorf("requests = %+v, want one GET per mode", r)
	}
}

func TestCheckWithAReadOnlyTokenSaysItCannotCreateReleases(t *testing.T) {
	h := newHarness(t)
	ro := "ghp_readONLY0123456789abcdef"
	h.gh = githubfake.New(t, githubfake.WithReadOnlyToken(ro))
	h.env = []string{"GITHUB_TOKEN=" + ro, "GITHUB_API_URL=" + h.gh.APIURL(), "GITHUB_REPOSITORY=books/factory"}
	_, err, perr := h.preflightBoth(checkParams())
	for _, e := range []error{err, perr} {
		if e == nil || !strings.Contains(e.Error(), "can read books/factory but not write to it") || !strings.Contains(e.Error(), "contents: write") {
			t.Errorf("error = %v", e)
		}
		if e != nil && strings.Contains(e.Error(), ro) {
			t.Errorf("the token is shown: %v", e)
		}
	}
	if len(h.gh.Requests()) != 2 || len(h.gh.Writes()) != 0 {
		t.Errorf("requests = %+v", h.gh.Requests())
	}
}

func TestCheckIsTriedAgainOn5xx(t *testing.T) {
	h := newHarness(t)
	h.gh.Fail("GET /repos/books/factory", githubfake.Fault{Status: 503, Body: `{"message":"Service Unavailable"}`})
	out, err := runPreflight(context.Background(), h.taskEnv(), checkParams(), h.deps())
	h.record(out, err)
	if err != nil || len(h.gh.Requests()) != 2 || len(h.waits) != 1 {
		t.Errorf("err %v, %d requests, waits %v: want one retry", err, len(h.gh.Requests()), h.waits)
	}
}

func TestTheTagIsRequiredUnlessCheck(t *testing.T) {
	p := baseParams()
	p.Tag = ""
	if err := check(p); err == nil || !strings.Contains(err.Error(), "check: true") {
		t.Errorf("no tag, no check: %v", err)
	}
	if err := check(checkParams()); err != nil {
		t.Errorf("check: true without a tag: %v", err)
	}
}
