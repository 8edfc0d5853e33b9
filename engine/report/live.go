package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"golang.org/x/text/width"

	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
)

// Live draws a terminal view: finished tasks scroll up as plain lines; at
// the bottom, one line per running task with its time, its last log line
// or a progress bar. It redraws at most ten times a second.
type Live struct {
	mu      sync.Mutex
	w       io.Writer
	masker  *secret.Masker
	width   func() int
	running []*liveTask
	pending []string // finished lines not yet drawn
	drawn   int      // live lines on screen now
	stop    chan struct{}
	done    chan struct{}
	frame   int
}

type liveTask struct {
	id          string
	started     time.Time
	last        string
	done, total int64
}

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// NewLive starts a live view on w; width reports the terminal's columns.
func NewLive(w io.Writer, m *secret.Masker, width func() int) *Live {
	l := &Live{w: w, masker: m, width: width, stop: make(chan struct{}), done: make(chan struct{})}
	go l.tick()
	return l
}

func (l *Live) tick() {
	defer close(l.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			l.mu.Lock()
			l.running = nil
			l.redraw()
			l.mu.Unlock()
			return
		case <-t.C:
			l.mu.Lock()
			l.frame++
			l.redraw()
			l.mu.Unlock()
		}
	}
}

// Event updates the view.
func (l *Live) Event(e scheduler.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e.Type {
	case scheduler.TaskStarted:
		l.running = append(l.running, &liveTask{id: e.Task, started: e.Time})
	case scheduler.TaskLog:
		if t := l.find(e.Task); t != nil {
			t.last = e.Line
		}
	case scheduler.TaskProgress:
		if t := l.find(e.Task); t != nil {
			t.done, t.total = e.Done, e.Total
		}
	case scheduler.TaskRetrying:
		l.pending = append(l.pending, Line(e))
	case scheduler.TaskFinished:
		for i, t := range l.running {
			if t.id == e.Task {
				l.running = append(l.running[:i], l.running[i+1:]...)
				break
			}
		}
		l.pending = append(l.pending, Line(e))
	case scheduler.RunStarted, scheduler.RunFinished:
		l.pending = append(l.pending, Line(e))
	}
}

func (l *Live) find(id string) *liveTask {
	for _, t := range l.running {
		if t.id == id {
			return t
		}
	}
	return nil
}

// redraw replaces the live lines; the caller holds l.mu.
func (l *Live) redraw() {
	var b strings.Builder
	if l.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", l.drawn)
	}
	b.WriteString("\r\x1b[J")
	for _, line := range l.pending {
		b.WriteString(l.masker.String(line))
		b.WriteByte('\n')
	}
	l.pending = l.pending[:0]
	width := l.width()
	if width <= 0 {
		width = 80
	}
	for _, t := range l.running {
		b.WriteString(fit(l.masker.String(l.liveLine(t, width)), width-1))
		b.WriteByte('\n')
	}
	l.drawn = len(l.running)
	io.WriteString(l.w, b.String())
}

func (l *Live) liveLine(t *liveTask, width int) string {
	head := fmt.Sprintf("%s %s %s", spinner[l.frame%len(spinner)], t.id, Duration(time.Since(t.started)))
	if t.total > 0 {
		return head + " " + Bar(t.done, t.total, min(30, width/3))
	}
	if t.last != "" {
		return head + " │ " + t.last
	}
	return head
}

// Bar renders a progress bar with its percentage: [#####.....] 50%.
func Bar(done, total int64, cells int) string {
	if cells < 5 {
		cells = 5
	}
	frac := float64(done) / float64(total)
	frac = max(0, min(frac, 1))
	full := int(frac * float64(cells))
	return fmt.Sprintf("[%s%s] %3.0f%%", strings.Repeat("█", full), strings.Repeat("░", cells-full), frac*100)
}

// fit cuts s to n terminal columns, ending a cut line with "…", so that a
// live line never wraps. Hangul and other East Asian wide characters take
// two columns.
func fit(s string, n int) string {
	s = strings.ReplaceAll(s, "\t", " ")
	if columns(s) <= n {
		return s
	}
	cols := 0
	for i, r := range s {
		if cols+runeColumns(r) > n-1 {
			return s[:i] + "…"
		}
		cols += runeColumns(r)
	}
	return s
}

func columns(s string) int {
	n := 0
	for _, r := range s {
		n += runeColumns(r)
	}
	return n
}

func runeColumns(r rune) int {
	if k := width.LookupRune(r).Kind(); k == width.EastAsianWide || k == width.EastAsianFullwidth {
		return 2
	}
	return 1
}

// Close draws the last lines and stops the view.
func (l *Live) Close() error {
	close(l.stop)
	<-l.done
	return nil
}
