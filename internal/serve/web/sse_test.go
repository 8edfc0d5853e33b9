package web

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/serve/api"
)

type sseEvent struct {
	id, event, data string
}

// openStream connects to an event stream and returns its events as they come.
func openStream(t *testing.T, ctx context.Context, url string, headers ...string) (<-chan sseEvent, *http.Response) {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return ch, resp
}

// next waits for the next event; the deadline only guards against a hang.
func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event within 20 s")
	}
	return sseEvent{}
}

func chunkOf(t *testing.T, ev sseEvent) api.LogChunk {
	t.Helper()
	var c api.LogChunk
	if err := json.Unmarshal([]byte(ev.data), &c); err != nil {
		t.Fatalf("%q: %v", ev.data, err)
	}
	return c
}

func TestLogStreamResumesWhereADroppedConnectionLeftOff(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	s, _ := e.fb.Start(t.Context(), "hello", nil)
	e.fb.setTask(s.ID, "find-episodes", "running")
	e.fb.appendLog(s.ID, "find-episodes", "one", "two")
	url := srv.URL + "/api/v1/runs/" + s.ID + "/tasks/find-episodes/log/stream"
	auth := bearer(opToken)

	ctx, cancel := context.WithCancel(t.Context())
	ch, resp := openStream(t, ctx, url, auth)
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("content type %q", ct)
	}
	ev := next(t, ch)
	if c := chunkOf(t, ev); ev.event != "log" || ev.id != "8" || c.Text != "one\ntwo\n" {
		t.Fatalf("%+v", ev)
	}
	e.fb.appendLog(s.ID, "find-episodes", "three")
	if ev := next(t, ch); ev.id != "14" || chunkOf(t, ev).Text != "three\n" {
		t.Fatalf("a live line: %+v", ev)
	}
	cancel() // the connection drops

	e.fb.appendLog(s.ID, "find-episodes", "four")
	ch, _ = openStream(t, t.Context(), url, auth, "Last-Event-ID: 14")
	if ev := next(t, ch); ev.id != "19" || chunkOf(t, ev).Text != "four\n" || chunkOf(t, ev).Offset != 14 {
		t.Fatalf("after Last-Event-ID 14: %+v", ev)
	}
	e.fb.appendLog(s.ID, "find-episodes", "five")
	e.fb.setTask(s.ID, "find-episodes", "succeeded")
	if ev := next(t, ch); chunkOf(t, ev).Text != "five\n" {
		t.Fatalf("%+v", ev)
	}
	if ev := next(t, ch); ev.event != "done" || !chunkOf(t, ev).Done {
		t.Fatalf("%+v", ev)
	}
	if _, open := <-ch; open {
		t.Fatal("the stream goes on after done")
	}

	ch, _ = openStream(t, t.Context(), url+"?offset=4", auth)
	if ev := next(t, ch); !strings.HasPrefix(chunkOf(t, ev).Text, "two\nthree\n") {
		t.Fatalf("from ?offset=4: %+v", ev)
	}
	if ev := next(t, ch); ev.event != "done" {
		t.Fatalf("%+v", ev)
	}

	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/runs/"+s.ID+"/tasks/nope/log/stream", nil)
	req.Header.Set("Authorization", "Bearer "+opToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 404 {
		t.Fatalf("a missing task: %v %v", resp, err)
	}
}

func TestEveryViewerOfALiveLogSeesANewLine(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	s, _ := e.fb.Start(t.Context(), "hello", nil)
	e.fb.setTask(s.ID, "count", "running")
	e.fb.appendLog(s.ID, "count", "start")
	const viewers = 50
	var chans []<-chan sseEvent
	for range viewers {
		ch, _ := openStream(t, t.Context(), srv.URL+"/api/v1/runs/"+s.ID+"/tasks/count/log/stream", bearer(opToken))
		next(t, ch)
		chans = append(chans, ch)
	}
	e.fb.appendLog(s.ID, "count", "새 줄")
	var wg sync.WaitGroup
	for _, ch := range chans {
		wg.Go(func() {
			if ev := next(t, ch); chunkOf(t, ev).Text != "새 줄\n" {
				t.Errorf("%+v", ev)
			}
		})
	}
	wg.Wait()
	e.logsWatched(t)
}

// logsWatched checks that the hub watches one log however many view it.
func (e *testEnv) logsWatched(t *testing.T) {
	t.Helper()
	h := e.h.(*server).logs
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.m) != 1 {
		t.Fatalf("%d watchers for one log", len(h.m))
	}
}

func TestEventsStreamTellsOfChanges(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	ch, _ := openStream(t, t.Context(), srv.URL+"/api/v1/events", bearer(readToken))
	// Watch is called before the stream's headers are sent: a Start now is seen.
	s, _ := e.fb.Start(t.Context(), "hello", nil)
	ev := next(t, ch)
	var c api.Change
	if err := json.Unmarshal([]byte(ev.data), &c); err != nil || ev.event != "change" || c.Run != s.ID || c.Recipe != "hello" {
		t.Fatalf("%+v %v", ev, err)
	}
}
