package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
)

// Plain writes one timestamped line per event: for CI logs and pipes.
type Plain struct {
	mu     sync.Mutex
	w      io.Writer
	masker *secret.Masker
	Stamp  bool // prefix lines with the time of day
}

// NewPlain returns a plain printer writing to w.
func NewPlain(w io.Writer, m *secret.Masker) *Plain {
	return &Plain{w: w, masker: m, Stamp: true}
}

// Event prints e.
func (p *Plain) Event(e scheduler.Event) {
	line := Line(e)
	if line == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Stamp {
		line = e.Time.Format("15:04:05") + " " + line
	}
	fmt.Fprintln(p.w, p.masker.String(line))
}

// Close flushes nothing: plain lines are written as they come.
func (p *Plain) Close() error { return nil }

// Line renders an event as one line of text, or "" for events not shown.
func Line(e scheduler.Event) string {
	switch e.Type {
	case scheduler.RunStarted:
		return fmt.Sprintf("run %s started", e.Run)
	case scheduler.TaskStarted:
		return fmt.Sprintf("▶ %s started", e.Task)
	case scheduler.TaskLog:
		return fmt.Sprintf("  %s │ %s", e.Task, e.Line)
	case scheduler.TaskRetrying:
		return fmt.Sprintf("↻ %s attempt %d of %d failed, retrying in %s: %s", e.Task, e.Attempt, e.Attempts, Duration(e.Wait), firstLine(e.Error))
	case scheduler.TaskFinished:
		return finishedLine(e)
	case scheduler.RunFinished:
		return fmt.Sprintf("run %s %s in %s", e.Run, e.Status, Duration(e.Duration))
	}
	return ""
}

func finishedLine(e scheduler.Event) string {
	switch e.Status {
	case state.Succeeded:
		if e.Reason != "" {
			return fmt.Sprintf("✓ %s succeeded (%s)", e.Task, e.Reason)
		}
		return fmt.Sprintf("✓ %s succeeded in %s%s", e.Task, Duration(e.Duration), tries(e.Attempt))
	case state.Failed:
		return fmt.Sprintf("✗ %s failed after %s%s: %s", e.Task, Duration(e.Duration), tries(e.Attempt), e.Error)
	case state.Skipped:
		return fmt.Sprintf("⊘ %s skipped: %s", e.Task, e.Reason)
	case state.Cancelled:
		reason := e.Reason
		if reason == "" {
			reason = "interrupted"
		}
		return fmt.Sprintf("■ %s cancelled: %s", e.Task, reason)
	}
	return fmt.Sprintf("%s %s", e.Task, e.Status)
}

func tries(n int) string {
	if n > 1 {
		return fmt.Sprintf(", %d tries", n)
	}
	return ""
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}

// Duration renders d briefly: 850ms, 12.3s, 4m05s, 1h02m.
func Duration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// JSON writes one JSON object per event, one per line.
type JSON struct {
	mu     sync.Mutex
	w      io.Writer
	masker *secret.Masker
}

// NewJSON returns a JSON-lines printer writing to w.
func NewJSON(w io.Writer, m *secret.Masker) *JSON { return &JSON{w: w, masker: m} }

// Event prints e as one line of JSON.
func (j *JSON) Event(e scheduler.Event) { j.Write(e) }

// Write prints any value as one line of JSON, masked.
func (j *JSON) Write(v any) {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(map[string]string{"event": "error", "error": err.Error()})
	}
	data = maskJSON(data, j.masker)
	j.mu.Lock()
	defer j.mu.Unlock()
	j.w.Write(append(data, '\n'))
}

// structuralKeys name the fields of events whose values runner chooses
// (an event's kind, a status, a time, a run id): masking them because a
// secret happens to read "succeeded" would leave a consumer unable to read
// the stream, and they never hold a user's value.
var structuralKeys = map[string]bool{"event": true, "status": true, "time": true, "run": true}

// maskJSON masks secrets in the string values of one JSON document, not in
// its text: masking the text would turn a key, a number or the escapes of a
// string into "***" (invalid or misleading JSON) and miss a secret that the
// encoding escaped twice. Keys keep their order; a document without a
// secret is returned as it is.
func maskJSON(data []byte, m *secret.Masker) []byte {
	if m == nil || m.String(string(data)) == string(data) && !bytes.Contains(data, []byte(`\`)) {
		return data
	}
	out, err := maskTokens(data, m)
	if err != nil {
		return m.Bytes(data)
	}
	return out
}

// maskTokens re-encodes a JSON document token by token, masking each
// string value but those of structuralKeys at the top level.
func maskTokens(data []byte, m *secret.Masker) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out bytes.Buffer
	type level struct {
		object bool
		n      int // tokens written at this level
		key    string
	}
	var stack []level
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		isKey := false
		if len(stack) > 0 {
			top := &stack[len(stack)-1]
			if _, closing := tok.(json.Delim); !closing || (tok != json.Delim('}') && tok != json.Delim(']')) {
				switch {
				case top.object && top.n%2 == 0:
					isKey = true
					if top.n > 0 {
						out.WriteByte(',')
					}
				case top.object:
					out.WriteByte(':')
				case top.n > 0:
					out.WriteByte(',')
				}
				top.n++
			}
		}
		switch x := tok.(type) {
		case json.Delim:
			out.WriteRune(rune(x))
			if x == '{' || x == '[' {
				stack = append(stack, level{object: x == '{'})
			} else {
				stack = stack[:len(stack)-1]
			}
			continue
		case string:
			if isKey {
				stack[len(stack)-1].key = x
			} else if len(stack) != 1 || !stack[0].object || !structuralKeys[stack[0].key] {
				x = m.String(x)
			}
			enc, _ := json.Marshal(x)
			out.Write(enc)
		default:
			enc, _ := json.Marshal(x)
			out.Write(enc)
		}
	}
}
