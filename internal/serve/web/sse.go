package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/novelfactory/runner/internal/serve/api"
)

// eventStream is one Server-Sent Events answer.
type eventStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	s  *server
}

func (s *server) startStream(w http.ResponseWriter) *eventStream {
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's timeouts
	rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	es := &eventStream{w: w, rc: rc, s: s}
	fmt.Fprint(w, "retry: 2000\n\n")
	es.flush()
	return es
}

func (es *eventStream) flush() error { return es.rc.Flush() }

// send writes one event; data is JSON (one line) and masked.
func (es *eventStream) send(id, event string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return err
	}
	b = es.s.mask.Bytes(b)
	var sb strings.Builder
	if id != "" {
		sb.WriteString("id: " + id + "\n")
	}
	sb.WriteString("event: " + event + "\ndata: ")
	sb.Write(b)
	sb.WriteString("\n\n")
	if _, err := es.w.Write([]byte(sb.String())); err != nil {
		return err
	}
	return es.flush()
}

func (es *eventStream) heartbeat() error {
	if _, err := es.w.Write([]byte(": heartbeat\n\n")); err != nil {
		return err
	}
	return es.flush()
}

// streamEvents is GET /api/v1/events: a `change` event (api.Change) each
// time a run starts, changes or ends or a recipe is reloaded.
func (s *server) streamEvents(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	changes := s.b.Watch(ctx)
	es := s.startStream(w)
	tick := time.NewTicker(s.cfg.Heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case c, ok := <-changes:
			if !ok {
				return
			}
			if es.send("", "change", c) != nil {
				return
			}
		case <-tick.C:
			if es.heartbeat() != nil {
				return
			}
		}
	}
}

// streamLog is GET /api/v1/runs/{id}/tasks/{task}/log/stream: `log`
// events whose data is an api.LogChunk and whose id is the byte offset the
// chunk ends at, from the offset in Last-Event-ID (a reconnecting
// EventSource sends it) or the `offset` query; then one `done` event when
// the task has finished and its log is all sent.
func (s *server) streamLog(w http.ResponseWriter, r *http.Request) {
	id, task, err := runTaskIDs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	from := r.URL.Query().Get("offset")
	if last := r.Header.Get("Last-Event-ID"); last != "" {
		from = last
	}
	offset, err := offsetParam(from)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	// The first read answers a bad run or task with a JSON error, not a stream.
	wake := s.logs.subscribe(id, task, offset)
	defer s.logs.unsubscribe(id, task)
	c, err := s.b.Log(ctx, id, task, offset)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	es := s.startStream(w)
	tick := time.NewTicker(s.cfg.Heartbeat)
	defer tick.Stop()
	for {
		if c.Text != "" {
			if es.send(strconv.FormatInt(c.End, 10), "log", c) != nil {
				return
			}
		}
		moved := c.End > offset
		offset = c.End
		if c.Done && !moved {
			es.send(strconv.FormatInt(offset, 10), "done", api.LogChunk{Offset: offset, End: offset, Done: true})
			return
		}
		if !moved {
		wait:
			for {
				select {
				case <-ctx.Done():
					return
				case <-wake:
					break wait
				case <-tick.C:
					if es.heartbeat() != nil {
						return
					}
				}
			}
		}
		wake = s.logs.wait(id, task)
		if c, err = s.b.Log(ctx, id, task, offset); err != nil {
			es.send("", "error", api.AsError(err))
			return
		}
	}
}

// logHub polls each watched log once per interval, however many clients
// watch it, and wakes them when it grows or its task ends: 200 viewers
// of a live log cost one read per interval plus one per new line each.
type logHub struct {
	b    api.Backend
	poll time.Duration
	mu   sync.Mutex
	m    map[string]*logWatch
}

type logWatch struct {
	refs   int
	end    int64
	wake   chan struct{} // closed when the log grows or the task ends
	cancel context.CancelFunc
}

func newLogHub(b api.Backend, poll time.Duration) *logHub {
	return &logHub{b: b, poll: poll, m: map[string]*logWatch{}}
}

func hubKey(run, task string) string { return run + "/" + task }

// subscribe registers a viewer and returns the channel that wakes it.
func (h *logHub) subscribe(run, task string, offset int64) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := hubKey(run, task)
	lw := h.m[k]
	if lw == nil {
		ctx, cancel := context.WithCancel(context.Background())
		lw = &logWatch{end: offset, wake: make(chan struct{}), cancel: cancel}
		h.m[k] = lw
		go h.watch(ctx, run, task, lw)
	}
	lw.refs++
	return lw.wake
}

// wait returns the channel closed at the next change of a watched log.
func (h *logHub) wait(run, task string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[hubKey(run, task)].wake
}

func (h *logHub) unsubscribe(run, task string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	k := hubKey(run, task)
	lw := h.m[k]
	if lw.refs--; lw.refs == 0 {
		lw.cancel()
		delete(h.m, k)
	}
}

func (h *logHub) watch(ctx context.Context, run, task string, lw *logWatch) {
	tick := time.NewTicker(h.poll)
	defer tick.Stop()
	h.mu.Lock()
	end := lw.end
	h.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c, err := h.b.Log(ctx, run, task, end)
		if err != nil && ctx.Err() != nil {
			return
		}
		if err != nil || c.End > end || c.Done {
			h.mu.Lock()
			if c.End > end {
				end, lw.end = c.End, c.End
			}
			close(lw.wake)
			lw.wake = make(chan struct{})
			h.mu.Unlock()
		}
		if err != nil || c.Done && c.End == end && c.Text == "" {
			// Finished: wake viewers each interval until they leave,
			// without reading any more.
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					h.mu.Lock()
					close(lw.wake)
					lw.wake = make(chan struct{})
					h.mu.Unlock()
				}
			}
		}
	}
}
