// Package notify is the built-in task type `notify`: POST a message to a webhook (Slack, Discord or any JSON endpoint), with retries.
// Registered with the others in package tasks.
//
// The webhook URL is a credential (whoever has a Slack incoming-webhook URL
// can post to the channel), so the type registers it, and the parts of it
// that identify the hook, with the run's secret masker before anything can
// print it, and never writes it in a message, an error or an output.
package notify

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/retryafter"
)

// Params are the params of the notify task.
type Params struct {
	// Webhook to POST to (a Slack or Discord incoming webhook, or any endpoint taking JSON). It is a secret: masked as *** in plans, logs, errors and state; keep it in a var listed under secrets:.
	URL string `yaml:"url" json:"url" required:"true" secret:"true"`
	// Payload shape: slack ({"text": …}), discord ({"content": …}, cut to Discord's 2000 characters) or json ({"text", "title", "status", "recipe", "run_id", "task"}, or payload as it is).
	Format string `yaml:"format" json:"format" default:"slack" enum:"slack,discord,json"`
	// The message.
	Text string `yaml:"text" json:"text"`
	// A first line put before the message, in bold in Slack and Discord.
	Title string `yaml:"title" json:"title"`
	// A status to report, e.g. failed: the json document's status field, and a word before the title elsewhere.
	Status string `yaml:"status" json:"status"`
	// With format json: the document to send, as it is, instead of the default one.
	Payload map[string]any `yaml:"payload" json:"payload"`
	// Time allowed for one attempt, from connecting to reading the answer.
	Timeout time.Duration `yaml:"timeout" json:"timeout" default:"10s"`
	// Tries in all: network errors, 429 and 5xx answers are tried again; any other 4xx fails at once.
	Attempts int `yaml:"attempts" json:"attempts" default:"4"`
	// Wait before the second try, doubled before each next one.
	Delay time.Duration `yaml:"delay" json:"delay" default:"1s"`
	// Longest wait between tries; a server's Retry-After is honoured up to it.
	MaxDelay time.Duration `yaml:"max_delay" json:"max_delay" default:"30s"`
}

// Limits of the services' message text, in characters.
const (
	discordLimit = 2000
	slackLimit   = 40000
)

// bodyShown is how much of an error answer's body an error quotes.
const bodyShown = 300

// Register adds the notify task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "notify",
		Summary:   "POST a message to a webhook (Slack, Discord or any JSON endpoint), with retries.",
		Doc: "Sends one message to `url`: a Slack incoming webhook (`{\"text\": …}`), a Discord webhook " +
			"(`{\"content\": …}`, cut at a word to Discord's 2000 characters) or any endpoint taking JSON (a document " +
			"with text, title, status, recipe, run_id and task, or `payload` as written). Network errors, timeouts, " +
			"429 and 5xx answers are tried again, `attempts` times in all, waiting `delay`, then twice as long each " +
			"time up to `max_delay` (a 429's Retry-After is honoured up to `max_delay`); any other 4xx fails at once " +
			"with the status and the start of the answer, and so does a redirect, which is not followed. The URL is a secret: it is masked as *** everywhere — " +
			"plan, logs, errors, state — and never an output. Meant for a recipe's last task: " +
			"`if: failure()` sends it when something before it failed.",
		Outputs: []tasktype.Output{
			{Name: "status", Type: "integer", Doc: "HTTP status of the answer that was accepted."},
			{Name: "attempts", Type: "integer", Doc: "Tries it took."},
		},
		Examples: []tasktype.Example{
			{Title: "Tell a Slack channel that the backup failed", YAML: `notify-failure:
  uses: notify
  if: failure()    # with needs: [the recipe's last task], for a failure anywhere before it
  with:
    url: ${{ env.SLACK_WEBHOOK_URL }}
    title: weekly-backup failed
    text: Run ${{ run.id }} failed; see runner runs weekly-backup.
`},
			{Title: "Post plain JSON to an endpoint of your own", YAML: `notify-done:
  uses: notify
  if: always()
  with:
    url: ${{ env.OPS_HOOK_URL }}
    format: json
    status: done
    text: The finance report is ready.
`},
		},
		Check: check,
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			shown := protect(env.Secrets, p.URL)
			return tasktype.Plan{Summary: fmt.Sprintf("would POST a %s message to %s", p.Format, shown)}, nil
		},
		Run: func(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
			return sender{client: client, sleep: sleep}.send(ctx, env, p)
		},
	})
}

// check validates params. Its messages never repeat the URL: validation
// runs before a masker knows it.
func check(p *Params) error {
	u, err := url.Parse(p.URL)
	switch {
	case err != nil:
		return params.Errorf("url", "not a URL (it is not repeated here: it may be a secret)")
	case u.Scheme != "http" && u.Scheme != "https":
		return params.Errorf("url", "a webhook URL starts with https:// or http://, not %q (the rest is not repeated here: it may be a secret)", u.Scheme+":")
	case u.Host == "":
		return params.Errorf("url", "the URL has no host (it is not repeated here: it may be a secret)")
	case p.Payload != nil && p.Format != "json":
		return params.Errorf("payload", "payload is sent with format: json only, not %s", p.Format)
	case p.Payload == nil && strings.TrimSpace(p.Text) == "" && strings.TrimSpace(p.Title) == "":
		return params.Errorf("text", "the message is empty: give text (or title, or with format: json, payload)")
	case p.Attempts < 1:
		return params.Errorf("attempts", "attempts counts every try, the first too: at least 1, not %d", p.Attempts)
	case p.Timeout <= 0:
		return params.Errorf("timeout", "the timeout must be positive")
	case p.Delay < 0 || p.MaxDelay < 0:
		return params.Errorf("delay", "delays cannot be negative")
	}
	return nil
}

// protect registers the URL, and the parts of it that give the hook away,
// with m, and returns how it may be shown: ***.
func protect(m *secret.Masker, raw string) string {
	if m == nil {
		return secret.Mask
	}
	m.Add(SecretParts(raw)...)
	return m.String(raw)
}

// SecretParts returns the URL and the parts of it that identify a webhook
// on their own: its path and query (the token of a Slack or Discord hook
// lives there), their path segments that look like ids or tokens (8 or
// more characters with a digit, or 16 or more), and any password. A host
// name or a word such as "webhooks" is not among them: masking those would
// hide every mention of Slack.
func SecretParts(raw string) []string {
	parts := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return parts
	}
	add := func(s string) {
		if len(s) >= 8 {
			parts = append(parts, s)
		}
	}
	add(u.String())
	add(u.Host + u.EscapedPath())
	add(u.EscapedPath())
	add(u.Path)
	add(u.RawQuery)
	if pw, ok := u.User.Password(); ok {
		// user:password too: Go sends it in base64 as Basic
		// authorization, which a hook may echo.
		parts = append(parts, pw, u.User.Username()+":"+pw)
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if len(seg) >= 16 || len(seg) >= 8 && strings.ContainsFunc(seg, unicode.IsDigit) {
			parts = append(parts, seg)
		}
	}
	for _, vs := range u.Query() {
		for _, v := range vs {
			if len(v) >= 8 {
				parts = append(parts, v)
			}
		}
	}
	return parts
}

// client posts without following redirects. Go's client follows a 307
// or 308 with the message to wherever the hook points, sending the hook's
// URL, token and all, as Referer; and a 301, 302 or 303 with a GET that
// carries no message, whose 200 would be taken for a delivery. A webhook
// that redirects fails instead.
var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// sender posts messages; tests give it a client of their own and a sleep
// that does not wait.
type sender struct {
	client *http.Client
	sleep  func(ctx context.Context, d time.Duration) error
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

// send posts p's message, trying again as p says.
func (s sender) send(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	shown := protect(env.Secrets, p.URL)
	body, err := payload(env, p)
	if err != nil {
		return nil, err
	}
	wait := p.Delay
	for attempt := 1; ; attempt++ {
		status, retryAfter, err := s.post(ctx, env.Secrets, p, body, shown)
		if err == nil {
			fmt.Fprintf(env.Log, "POST %s message to %s: %d %s (attempt %d)\n", p.Format, shown, status, http.StatusText(status), attempt)
			return tasktype.Outputs{"status": status, "attempts": attempt}, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if !retriable(err) || attempt >= p.Attempts {
			if attempt > 1 {
				err = &sendError{msg: fmt.Sprintf("%s (after %d attempts)", err, attempt), err: err, transient: retriable(err)}
			}
			if retriable(err) {
				return nil, tasktype.Transient(err) // a retry: of the task may try later still
			}
			return nil, err
		}
		d := min(wait, p.MaxDelay)
		if retryAfter > 0 {
			d = min(retryAfter, p.MaxDelay)
		}
		fmt.Fprintf(env.Log, "%s; trying again in %s (attempt %d of %d)\n", err, d, attempt+1, p.Attempts)
		if err := s.sleep(ctx, d); err != nil {
			return nil, fmt.Errorf("notify: waiting to try again: %w", err)
		}
		if wait > p.MaxDelay/2 {
			wait = p.MaxDelay // doubled without bound, it would overflow into waits of no time
		} else {
			wait *= 2
		}
	}
}

// sendError is a failed POST, its text free of the URL. Class marks the
// failures worth trying again (network, timeouts, 429, 5xx).
type sendError struct {
	msg       string
	err       error // the cause, for errors.Is (a deadline); never printed as is
	transient bool
}

func (e *sendError) Error() string { return e.msg }
func (e *sendError) Unwrap() error { return e.err }

func retriable(err error) bool {
	var se *sendError
	return errors.As(err, &se) && se.transient
}

// post makes one attempt. It returns the status of an accepted answer, or
// an error (a *sendError) and how long the server asked to wait. m masks
// what the answer quotes of the URL.
func (s sender) post(ctx context.Context, m *secret.Masker, p *Params, body []byte, shown string) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(body))
	if err != nil {
		// Its text holds the URL: say what it is without it.
		return 0, 0, &sendError{msg: fmt.Sprintf("notify: cannot make a request to %s", shown)}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "runner-notify")
	resp, err := s.client.Do(req)
	if err != nil {
		var ue *url.Error
		cause := err
		if errors.As(err, &ue) {
			cause = ue.Err // url.Error's text quotes the URL
		}
		msg := fmt.Sprintf("notify: POST to %s: %s", shown, cause)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			msg = fmt.Sprintf("notify: POST to %s: no answer within %s", shown, p.Timeout)
		}
		return 0, 0, &sendError{msg: msg, err: cause, transient: true}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, bodyRead)) // lets the connection be reused
		return resp.StatusCode, 0, nil
	}
	msg := fmt.Sprintf("notify: POST to %s: the server answered %s", shown, resp.Status)
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg += " (runner does not follow a webhook's redirects: give the address it points to as url)"
	}
	if text := answerStart(m, resp.Body); text != "" {
		msg += ": " + strconv.Quote(text)
	}
	transient := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	var after time.Duration
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		after = retryafter.Parse(resp.Header.Get("Retry-After"), time.Now())
	}
	return 0, after, &sendError{msg: msg, transient: transient}
}

// bodyRead is how much of an answer is read: an error's is masked whole
// before its start is quoted, so that the cut leaves no piece of a secret
// the answer echoes.
const bodyRead = 1 << 20

// answerStart returns the first bodyShown bytes of an error answer, with
// every secret m knows masked before the cut.
func answerStart(m *secret.Masker, body io.Reader) string {
	data, _ := io.ReadAll(io.LimitReader(body, bodyRead))
	text := strings.TrimSpace(m.String(strings.ToValidUTF8(string(data), "�")))
	if len(text) > bodyShown {
		text = strings.ToValidUTF8(text[:bodyShown], "")
	}
	return text
}

// payload is the JSON body for p's format.
func payload(env *tasktype.Env, p *Params) ([]byte, error) {
	var doc any
	switch p.Format {
	case "discord":
		doc = map[string]string{"content": cut(message(p, "**"), discordLimit)}
	case "json":
		if p.Payload != nil {
			doc = p.Payload
			break
		}
		m := map[string]string{"text": p.Text, "recipe": env.Recipe, "run_id": env.RunID, "task": env.TaskID}
		if p.Title != "" {
			m["title"] = p.Title
		}
		if p.Status != "" {
			m["status"] = p.Status
		}
		doc = m
	default:
		doc = map[string]string{"text": cut(message(p, "*"), slackLimit)}
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("notify: encoding the message: %w", err)
	}
	return body, nil
}

// message joins status, title and text, the title in bold (Slack writes
// bold as *x*, Discord as **x**).
func message(p *Params, bold string) string {
	title := p.Title
	if p.Status != "" {
		title = strings.TrimSpace("[" + p.Status + "] " + title)
	}
	switch {
	case title == "":
		return p.Text
	case strings.TrimSpace(p.Text) == "":
		return bold + title + bold
	}
	return bold + title + bold + "\n" + p.Text
}

// cut shortens s to at most limit characters, at a space or line break
// near the end when there is one, marking the cut with "…".
func cut(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	runes := []rune(s)[:limit-1]
	for i := len(runes) - 1; i > 0 && i >= len(runes)-100; i-- {
		if unicode.IsSpace(runes[i]) {
			runes = runes[:i]
			break
		}
	}
	return strings.TrimRightFunc(string(runes), unicode.IsSpace) + "…"
}
