package web

import (
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode"
)

// A browser removes tabs and newlines from a URL before it reads it
// (WHATWG URL parsing), so `/<TAB>/evil.example` is `//evil.example`
// there: another host. Go's http.Redirect leaves a Location it cannot
// parse as it is.
func TestSignInNeverRedirectsElsewhere(t *testing.T) {
	e := newTestEnv(t, withTokens(), nil)
	for _, next := range []string{
		"/\t/evil.example", "/\n/evil.example", "/\r/evil.example", "/\t\\evil.example",
		"\t//evil.example", "/\\evil.example", "//evil.example", "/%09/evil.example",
		"https://evil.example", "/\x00/evil.example", "/\x7f/evil.example", "/ /evil.example",
	} {
		w := e.req("POST", "/signin", "token="+url.QueryEscape(opToken)+"&next="+url.QueryEscape(next), "Content-Type: application/x-www-form-urlencoded")
		loc := w.Header().Get("Location")
		clean := strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return -1
			}
			return r
		}, strings.TrimLeft(loc, "\x00 \t\n\r"))
		if w.Code != 303 || !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") || strings.HasPrefix(clean, "/\\") {
			t.Errorf("next=%q: %d, Location %q (a browser reads %q)", next, w.Code, loc, clean)
		}
		w = e.req("GET", "/signin?next="+url.QueryEscape(next), "")
		if strings.ContainsFunc(next, unicode.IsControl) && strings.Contains(w.Body.String(), "evil.example") {
			t.Errorf("GET /signin?next=%q keeps it in the form", next)
		}
	}
}

// A client that sends its request a byte at a time, or keeps a connection
// idle after a request, held a goroutine and a file descriptor for as long
// as it liked: 300 such connections to a live server, without a token,
// were all still open 35 s later (go_goroutines 310). Every read now has a
// deadline; the event streams, which read nothing, clear it and live on.
func TestSlowAndIdleClientsAreDropped(t *testing.T) {
	fb := newFakeBackend(testNow)
	h, err := New(fb, Config{Tokens: withTokens(), Now: func() time.Time { return testNow }, Heartbeat: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := HTTPServer(h, Limits{ReadHeader: time.Second, Read: time.Second, Idle: 300 * time.Millisecond})
	go srv.Serve(ln)
	defer srv.Close()
	addr := ln.Addr().String()

	// closed says whether the server closes c; the deadline is only a hang
	// guard, a hundred times the limits, so a loaded machine passes too.
	closed := func(name string, c net.Conn) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("%s: the server kept the connection open: %v", name, err)
		}
	}
	// A body sent a byte at a time.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "POST /api/v1/recipes/hello/runs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
	go func() { // 1,000 bytes a byte every 100 ms: 100 s, past the hang guard
		for range 1000 {
			time.Sleep(100 * time.Millisecond)
			if _, err := io.WriteString(c, " "); err != nil {
				return
			}
		}
	}()
	closed("a trickled body", c)

	// An idle connection after one request.
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	io.WriteString(c2, "GET /signin HTTP/1.1\r\nHost: x\r\n\r\n")
	closed("an idle connection", c2)

	// An event stream outlives the read timeout.
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	buf := make([]byte, 4096)
	for time.Since(start) < time.Second {
		if _, err := resp.Body.Read(buf); err != nil {
			t.Fatalf("the event stream ended after %v: %v", time.Since(start), err)
		}
	}
}
