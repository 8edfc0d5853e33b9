package proc

import (
	"bytes"
	"strings"
	"sync"
)

// Tail keeps the last lines written to it, in bounded memory, for error
// messages ("the last lines of stderr").
type Tail struct {
	mu    sync.Mutex
	lines int
	buf   []byte
	cut   bool // older bytes were dropped: the first line may be partial
}

// maxTailBytes bounds the memory a Tail uses whatever its line count.
const maxTailBytes = 8 << 10

// NewTail keeps the last n lines.
func NewTail(n int) *Tail { return &Tail{lines: n} }

// Write appends p, dropping what is older than the last lines.
func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*maxTailBytes {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-maxTailBytes:]...)
		t.cut = true
	}
	return len(p), nil
}

// String returns the kept lines, trimmed. A line cut by the byte limit is
// left out whole: what is left of a line may be what is left of a secret,
// which masking would not recognise.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := bytes.TrimRight(t.buf, "\n")
	if len(b) > maxTailBytes || t.cut {
		b = b[max(0, len(b)-maxTailBytes):]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		} else {
			b = nil // one line longer than the limit
		}
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) > t.lines {
		lines = lines[len(lines)-t.lines:]
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// Capture keeps the first max bytes written to it and counts the rest.
type Capture struct {
	mu        sync.Mutex
	max       int
	buf       []byte
	Truncated bool
}

// NewCapture keeps up to max bytes.
func NewCapture(max int) *Capture { return &Capture{max: max} }

// Write keeps what fits.
func (c *Capture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.max - len(c.buf); room > 0 {
		if len(p) > room {
			c.buf = append(c.buf, p[:room]...)
			c.Truncated = true
		} else {
			c.buf = append(c.buf, p...)
		}
	} else if len(p) > 0 {
		c.Truncated = true
	}
	return len(p), nil
}

// String returns what was kept.
func (c *Capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}
