package web

import (
	"net/url"
	"strings"
	"testing"
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
