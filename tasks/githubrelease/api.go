package githubrelease

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-github/v89/github"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/retryafter"
)

// api is one repository's releases, through go-github, with retries.
type api struct {
	gh          *github.Client
	owner, repo string
	tokenEnv    string
	attempts    int
	maxDelay    time.Duration
	d           deps
	env         *tasktype.Env
}

// newAPI makes a client for s. Its rate-limit bookkeeping is off: every
// request goes to the server, whose answer says how long to wait.
func newAPI(env *tasktype.Env, p *Params, s settings, d deps) (*api, error) {
	opts := []github.ClientOptionsFunc{
		github.WithAuthToken(s.token),
		github.WithDisableRateLimitCheck(),
		github.WithUserAgent("runner-github-release"),
	}
	if strings.TrimSuffix(s.apiURL, "/") != defaultAPI {
		opts = append(opts, github.WithEnterpriseURLs(s.apiURL, uploadsURL(s.apiURL)))
	}
	gh, err := github.NewClient(opts...)
	if err != nil {
		return nil, errorf("making the GitHub client for %s: %s", s.apiURL, mask(env.Secrets, err.Error()))
	}
	return &api{gh: gh, owner: s.owner, repo: s.repo, tokenEnv: p.TokenEnv, attempts: p.Attempts, maxDelay: p.MaxDelay, d: d, env: env}, nil
}

// mask hides every secret m knows in s.
func mask(m *secret.Masker, s string) string {
	if m == nil {
		return s
	}
	return m.String(s)
}

// call runs f, trying again on 5xx, network errors and rate limits, with
// the server's wait (capped at maxDelay) or a doubling one. what says
// what f does, for messages. A 404 is returned as errNotFound for the
// caller to judge; other failures become errors a user can act on.
func (a *api) call(ctx context.Context, what string, f func() (*github.Response, error)) error {
	wait := time.Second
	for attempt := 1; ; attempt++ {
		resp, err := f()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return errorf("%s: %w", what, ctx.Err())
		}
		status := 0
		if hr := httpResponse(err, resp); hr != nil {
			status = hr.StatusCode
		}
		if status == http.StatusNotFound {
			return &notFoundError{what: what}
		}
		after, retry := a.retryable(err, resp)
		if !retry || attempt >= a.attempts {
			e := a.explain(what, status, err)
			if retry {
				e = tasktype.Transient(&apiError{msg: fmt.Sprintf("%s (after %d attempts)", e, attempt), err: err})
			}
			return e
		}
		d := min(wait, a.maxDelay)
		if after > 0 {
			d = min(after, a.maxDelay)
		}
		fmt.Fprintf(a.env.Log, "%s: %s; trying again in %s (attempt %d of %d)\n",
			what, mask(a.env.Secrets, shortError(err)), d, attempt+1, a.attempts)
		if err := a.d.sleep(ctx, d); err != nil {
			return errorf("%s: waiting to try again: %w", what, err)
		}
		wait = min(wait*2, max(a.maxDelay, time.Second))
	}
}

// notFoundError is a 404: an unknown release, tag or asset, or a
// repository the token cannot see.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string {
	return "github_release: " + e.what + ": 404 Not Found (the repository does not exist, or the token cannot see it)"
}

func isNotFound(err error) bool {
	var nf *notFoundError
	return errors.As(err, &nf)
}

// httpResponse digs the HTTP answer out of a go-github error.
func httpResponse(err error, resp *github.Response) *http.Response {
	var er *github.ErrorResponse
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	switch {
	case errors.As(err, &er) && er.Response != nil:
		return er.Response
	case errors.As(err, &rl) && rl.Response != nil:
		return rl.Response
	case errors.As(err, &ab) && ab.Response != nil:
		return ab.Response
	case resp != nil && resp.Response != nil:
		return resp.Response
	}
	return nil
}

// retryable says whether err is worth another try, and how long the
// server asked to wait (0: not said).
func (a *api) retryable(err error, resp *github.Response) (time.Duration, bool) {
	hr := httpResponse(err, resp)
	if hr == nil {
		var ae *github.AcceptedError
		if errors.As(err, &ae) {
			return 0, true
		}
		return 0, true // no answer at all: a network error
	}
	after := a.serverWait(hr)
	switch {
	case hr.StatusCode >= 500:
		return after, true
	case hr.StatusCode == http.StatusTooManyRequests:
		return after, true
	case hr.StatusCode == http.StatusForbidden:
		// A 403 is a rate limit only when the server says so; otherwise
		// the token lacks a permission, and trying again cannot help.
		limited := hr.Header.Get("Retry-After") != "" || hr.Header.Get("X-RateLimit-Remaining") == "0"
		return after, limited
	}
	return 0, false
}

// serverWait reads Retry-After (seconds or a date) or, for an exhausted
// primary rate limit, X-RateLimit-Reset (epoch seconds).
func (a *api) serverWait(hr *http.Response) time.Duration {
	now := a.d.now()
	if d := retryafter.Parse(hr.Header.Get("Retry-After"), now); d > 0 {
		return d
	}
	if hr.Header.Get("X-RateLimit-Remaining") == "0" {
		if n, err := strconv.ParseInt(hr.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
			if t := time.Unix(n, 0); t.After(now) {
				return t.Sub(now) + time.Second // the reset second itself may still be limited
			}
		}
	}
	return 0
}

// apiError is a failed request, its text free of the token, its cause
// kept for errors.As.
type apiError struct {
	msg string
	err error
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

// explain turns a failed request into an error a user can act on.
func (a *api) explain(what string, status int, err error) error {
	return &apiError{msg: a.explainText(what, status, err).Error(), err: err}
}

func (a *api) explainText(what string, status int, err error) error {
	repo := a.owner + "/" + a.repo
	switch status {
	case http.StatusUnauthorized:
		return errorf("%s: GitHub refused the token in %s (401 Bad credentials): it is wrong, expired or revoked; "+
			"give a token with contents: write on %s (fine-grained: Contents read and write; classic: repo or public_repo)",
			what, a.tokenEnv, repo)
	case http.StatusForbidden:
		return errorf("%s: 403 Forbidden: the token in %s may not do this on %s; it needs contents: write "+
			"(fine-grained: Contents read and write; classic: repo or public_repo): %s", what, a.tokenEnv, repo, mask(a.env.Secrets, shortError(err)))
	}
	return errorf("%s: %s", what, mask(a.env.Secrets, shortError(err)))
}

// shortError is err's text without go-github's request line prefix
// kept whole: the method and URL stay (they help), the body's message
// is what GitHub said.
func shortError(err error) string {
	var er *github.ErrorResponse
	if errors.As(err, &er) && er.Response != nil {
		msg := er.Response.Status
		if er.Message != "" {
			msg += ": " + er.Message
		}
		for _, e := range er.Errors {
			if e.Code != "" {
				msg += " (" + e.Field + " " + e.Code + ")"
			}
		}
		return msg
	}
	return err.Error()
}

// isAlreadyExists reports whether err is GitHub's 422 for an asset name
// that is taken.
func isAlreadyExists(err error) bool {
	var er *github.ErrorResponse
	if !errors.As(err, &er) || er.Response == nil || er.Response.StatusCode != http.StatusUnprocessableEntity {
		return false
	}
	for _, e := range er.Errors {
		if e.Code == "already_exists" {
			return true
		}
	}
	return false
}
