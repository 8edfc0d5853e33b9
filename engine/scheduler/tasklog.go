package scheduler

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/novelfactory/runner/internal/nofollow"

	"github.com/novelfactory/runner/engine/state"
)

// maxEventLine bounds a log line carried in an event; the log file keeps it whole.
const maxEventLine = 4 << 10

// taskLog is what a task writes to: masked, then both into the task's log
// file — created on the first write, so silent tasks cost no file — and
// into task_log events, one per line.
type taskLog struct {
	io.WriteCloser // the masking writer in front
	logger         *slog.Logger
	sink           *logSink
}

func (x *execution) newTaskLog(u *unit) *taskLog {
	sink := &logSink{x: x, u: u}
	w := x.opt.Masker.Writer(sink)
	return &taskLog{WriteCloser: &closer{w, sink}, logger: slog.New(slog.NewTextHandler(w, nil)), sink: sink}
}

type closer struct {
	io.WriteCloser
	sink *logSink
}

func (c *closer) Close() error {
	err := c.WriteCloser.Close()
	if cerr := c.sink.close(); err == nil {
		err = cerr
	}
	return err
}

// logSink receives masked text, whole lines at a time.
type logSink struct {
	x    *execution
	u    *unit
	mu   sync.Mutex
	file *os.File
	err  error
	part []byte
}

// Write never fails: a log that cannot be written (a full disk) is runner's
// problem, reported as the run's, and must not become the task's — an
// error here would close the command's output pipe and kill it with
// SIGPIPE. The output still reaches the console as events.
func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open()
	if s.file != nil {
		if _, err := s.file.Write(p); err != nil {
			s.file.Close()
			s.file, s.err = nil, fmt.Errorf("write the log of %s: %w", s.u.id, err)
			s.x.stateFailed(s.err)
		}
	}
	s.part = append(s.part, p...)
	for {
		i := bytes.IndexByte(s.part, '\n')
		if i < 0 {
			break
		}
		s.emitLine(s.part[:i])
		s.part = s.part[i+1:]
	}
	if len(s.part) > maxEventLine {
		s.emitLine(s.part)
		s.part = s.part[:0]
	}
	return len(p), nil
}

// note writes a line of runner's own to the log file only: the console
// already shows it as an event.
func (s *logSink) note(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open()
	if s.file != nil {
		s.file.WriteString(s.x.opt.Masker.String(line) + "\n")
	}
}

func (s *logSink) emitLine(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(line) > maxEventLine {
		line = line[:maxEventLine]
	}
	s.x.emit(Event{Type: TaskLog, Task: s.u.id, Line: string(line)})
}

// open creates the log file on first use; the caller holds s.mu.
func (s *logSink) open() {
	if s.file != nil || s.err != nil || s.x.opt.Store == nil {
		return
	}
	rel := state.LogPath(s.u.id)
	s.file, s.err = nofollow.OpenFile(filepath.Join(s.x.opt.Store.RunDir(s.x.opt.Run.ID), rel), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if s.err != nil {
		s.file = nil
		s.x.stateFailed(fmt.Errorf("open the log of %s: %w", s.u.id, s.err))
	} else {
		s.x.mu.Lock()
		s.u.st.Log = rel
		s.x.mu.Unlock()
	}
}

func (s *logSink) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.part) > 0 {
		s.emitLine(s.part)
		s.part = nil
	}
	if s.file != nil {
		if err := s.file.Close(); err != nil {
			s.x.stateFailed(fmt.Errorf("close the log of %s: %w", s.u.id, err))
		}
	}
	return nil
}

// progress turns a task's progress reports into events, at most ten a second.
type progress struct {
	x    *execution
	task string
	mu   sync.Mutex
	last time.Time
}

func (p *progress) Progress(done, total int64) {
	p.mu.Lock()
	now := time.Now()
	if now.Sub(p.last) < 100*time.Millisecond && done != total {
		p.mu.Unlock()
		return
	}
	p.last = now
	p.mu.Unlock()
	p.x.emit(Event{Type: TaskProgress, Task: p.task, Done: done, Total: total})
}
