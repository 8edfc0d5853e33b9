package llmusage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/retryafter"
	"github.com/novelfactory/runner/internal/tabular"
)

// maxAnswer is the largest answer read: a page of 180 daily buckets, or
// 168 hourly ones with a result per model, is far smaller.
const maxAnswer = 64 << 20

// deps are what a fetch takes from the world, so that tests can give a
// clock and waits of their own.
type deps struct {
	now    func() time.Time
	sleep  func(ctx context.Context, d time.Duration) error
	client *http.Client
}

func realDeps() deps {
	return deps{now: time.Now, sleep: sleep, client: &http.Client{CheckRedirect: noRedirects}}
}

// noRedirects refuses to follow a redirect: the admin key would go with
// it to wherever the answer points.
func noRedirects(req *http.Request, _ []*http.Request) error {
	return &redirectError{to: req.URL.Redacted()}
}

// redirectError is a redirect refused: trying again would not help.
type redirectError struct{ to string }

func (e *redirectError) Error() string {
	return fmt.Sprintf("the server redirected to %s: not followed, so that the admin key goes nowhere else; set base_url to where the API is", e.to)
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// client makes the requests of one task: it adds the key, tries again
// what is worth trying again and explains what is not.
type client struct {
	p        *Params
	env      *tasktype.Env
	d        deps
	key      string
	requests int
}

// apiError is a failed request, its text free of the key. transient marks
// what is worth trying again; after is how long the server asked to wait.
type apiError struct {
	msg       string
	err       error
	transient bool
	after     time.Duration
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

// get fetches path?q and returns the answer's body, trying again after
// network errors, timeouts, 429 and 5xx answers as the params say.
func (c *client) get(ctx context.Context, path string, q url.Values) ([]byte, error) {
	shown := path + "?" + q.Encode()
	wait := c.p.Delay
	for attempt := 1; ; attempt++ {
		body, err := c.once(ctx, path, q, shown)
		if err == nil {
			return body, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: GET %s: %w", c.p.Provider, shown, ctx.Err())
		}
		var ae *apiError
		if !errors.As(err, &ae) || !ae.transient {
			return nil, err
		}
		if attempt >= c.p.Attempts {
			if attempt > 1 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt)
			}
			return nil, tasktype.Transient(err) // a retry: of the task may try later still
		}
		d := ae.after // the server's word first
		switch {
		case d > c.p.MaxDelay:
			return nil, tasktype.Transient(fmt.Errorf("%w; the server asks to wait %s, longer than max_delay %s: run again after %s",
				err, d.Round(time.Second), c.p.MaxDelay, c.d.now().Add(d).UTC().Format(time.RFC3339)))
		case d == 0: // runner's own wait, twice as long each time
			d = min(wait, c.p.MaxDelay)
			wait = min(wait, c.p.MaxDelay/2) * 2 // doubled without bound, it would overflow
		}
		fmt.Fprintf(c.env.Log, "%s; trying again in %s (attempt %d of %d)\n", err, d, attempt+1, c.p.Attempts)
		if err := c.d.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("%s: waiting to try GET %s again: %w", c.p.Provider, shown, err)
		}
	}
}

// once makes one request.
func (c *client) once(ctx context.Context, path string, q url.Values, shown string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.p.Timeout)
	defer cancel()
	u := *c.p.base
	u.Path = strings.TrimSuffix(u.Path, "/") + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("%s: GET %s: %s", c.p.Provider, shown, c.mask(err.Error()))
	}
	c.p.api.auth(req.Header, c.key, c.env.Getenv)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "runner-llmusage")
	c.requests++
	resp, err := c.d.client.Do(req)
	if err != nil {
		var ue *url.Error
		cause := err
		if errors.As(err, &ue) {
			cause = ue.Err // its text repeats the URL
		}
		msg := fmt.Sprintf("%s: GET %s: %s", c.p.Provider, shown, c.mask(cause.Error()))
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			// The request's own limit, not the task's timeout: transient,
			// and not kept as a cause that would make it class "timeout".
			msg, cause = fmt.Sprintf("%s: GET %s: no answer within %s", c.p.Provider, shown, c.p.Timeout), nil
		}
		var re *redirectError
		return nil, &apiError{msg: msg, err: cause, transient: !errors.As(err, &re)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		msg := fmt.Sprintf("%s: GET %s: reading the answer: %s", c.p.Provider, shown, c.mask(err.Error()))
		if ctx.Err() != nil {
			msg, err = fmt.Sprintf("%s: GET %s: no complete answer within %s", c.p.Provider, shown, c.p.Timeout), nil
		}
		return nil, &apiError{msg: msg, err: err, transient: true}
	}
	if len(body) > maxAnswer {
		return nil, &apiError{msg: fmt.Sprintf("%s: GET %s: an answer larger than %d MiB: not a page of the admin API", c.p.Provider, shown, maxAnswer>>20)}
	}
	status := resp.StatusCode
	if status == http.StatusOK {
		return body, nil
	}
	head := fmt.Sprintf("%s: GET %s: %d %s", c.p.Provider, shown, status, http.StatusText(status))
	said := c.providerSays(body)
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return nil, &apiError{msg: fmt.Sprintf("%s: %s%s", head, c.p.api.refused(status, c.p.keyEnv, c.env.Getenv), said)}
	case status == http.StatusTooManyRequests:
		return nil, &apiError{msg: head + ": rate limited" + said, transient: true, after: retryafter.Parse(resp.Header.Get("Retry-After"), c.d.now())}
	case status >= 500:
		return nil, &apiError{msg: head + said, transient: true, after: retryafter.Parse(resp.Header.Get("Retry-After"), c.d.now())}
	}
	return nil, &apiError{msg: head + said}
}

// keyLike matches what looks like an API key in a provider's message:
// OpenAI's 401 quotes part of the key it was given.
var keyLike = regexp.MustCompile(`sk-[A-Za-z0-9_\-*.…]{3,}`)

// mask hides the key, and anything that looks like one, in a message.
func (c *client) mask(s string) string {
	if c.env.Secrets != nil {
		s = c.env.Secrets.String(s)
	}
	if c.key != "" {
		s = strings.ReplaceAll(s, c.key, secret.Mask)
	}
	return keyLike.ReplaceAllString(s, "sk-"+secret.Mask)
}

// providerSays quotes an error answer's message: error.message of either
// provider's error shape, or else the start of the answer.
func (c *client) providerSays(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	text := ""
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		text = e.Error.Message
	} else {
		text = string(bytes.TrimSpace(body))
	}
	text = strings.ToValidUTF8(c.mask(text), "�")
	if text == "" {
		return ""
	}
	return fmt.Sprintf(" (the provider says: %q)", tabular.Cut(text))
}
