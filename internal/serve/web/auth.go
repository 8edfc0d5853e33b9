package web

import (
	"bufio"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// Roles a token or a session may have.
const (
	RoleRead     = "read"     // may look at everything, change nothing
	RoleOperator = "operator" // may also start, resume, cancel and retry runs
)

// Environment variables LoadTokens reads.
const (
	EnvOperatorToken = "RUNNER_SERVE_OPERATOR_TOKEN"
	EnvReadToken     = "RUNNER_SERVE_READ_TOKEN"
)

// MinTokenLen is the shortest token accepted: a token is a password that
// never needs typing twice, so it can be long (`openssl rand -hex 32`).
const MinTokenLen = 24

// Tokens are the bearer tokens the server accepts, by role. With none,
// the server only listens on loopback and everyone is an operator.
type Tokens struct {
	Operator []string
	Read     []string
}

// Configured reports whether any token is set, that is whether auth is on.
func (t Tokens) Configured() bool { return len(t.Operator)+len(t.Read) > 0 }

// role returns the role of a presented token, or "" when it is none of
// them. Every token is compared, in constant time, whatever matches.
func (t Tokens) role(presented string) string {
	p := sha256.Sum256([]byte(presented))
	role := ""
	check := func(list []string, r string) {
		for _, tok := range list {
			h := sha256.Sum256([]byte(tok))
			if subtle.ConstantTimeCompare(p[:], h[:]) == 1 && role == "" {
				role = r
			}
		}
	}
	check(t.Operator, RoleOperator)
	check(t.Read, RoleRead)
	return role
}

// LoadTokens reads the tokens from the environment (EnvOperatorToken,
// EnvReadToken) and, when file is not empty, from a file of lines
// `operator TOKEN` or `read TOKEN` (blank lines and lines starting with #
// are skipped). A token shorter than MinTokenLen, or one given to both
// roles, is an error.
func LoadTokens(environ []string, file string) (Tokens, error) {
	var t Tokens
	add := func(where, role, tok string) error {
		tok = strings.TrimSpace(tok)
		if len(tok) < MinTokenLen {
			return fmt.Errorf("%s: the %s token is %d characters long; use at least %d (e.g. openssl rand -hex 32)", where, role, len(tok), MinTokenLen)
		}
		if role == RoleOperator {
			t.Operator = append(t.Operator, tok)
		} else {
			t.Read = append(t.Read, tok)
		}
		return nil
	}
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		var err error
		switch name {
		case EnvOperatorToken:
			err = add(name, RoleOperator, value)
		case EnvReadToken:
			err = add(name, RoleRead, value)
		}
		if err != nil {
			return Tokens{}, err
		}
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return Tokens{}, fmt.Errorf("reading the token file: %w", err)
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			role, tok, _ := strings.Cut(line, " ")
			where := fmt.Sprintf("%s:%d", file, n)
			if role != RoleOperator && role != RoleRead {
				return Tokens{}, fmt.Errorf("%s: a line is `operator TOKEN` or `read TOKEN`, not %q", where, role)
			}
			if err := add(where, role, tok); err != nil {
				return Tokens{}, err
			}
		}
		if err := sc.Err(); err != nil {
			return Tokens{}, fmt.Errorf("reading the token file: %w", err)
		}
	}
	for _, o := range t.Operator {
		for _, r := range t.Read {
			if o == r {
				return Tokens{}, fmt.Errorf("the same token is given to both the operator and the read role")
			}
		}
	}
	return t, nil
}

// CheckListen refuses to listen on anything but a loopback address when
// no token is configured: without auth, anyone who reaches the port could
// start runs.
func CheckListen(addr string, t Tokens) error {
	if t.Configured() {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(strings.Trim(host, "[]")); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("listen address %q is not a loopback address: set %s (and %s) or a token file first, or listen on 127.0.0.1", addr, EnvOperatorToken, EnvReadToken)
}

// Session cookie and CSRF names.
const (
	sessionCookie = "runner_session"
	csrfField     = "csrf"
	csrfHeader    = "X-CSRF-Token"
)

// sessionTTL is how long a sign-in lasts; maxSessions bounds the memory
// that sign-ins can take.
const (
	sessionTTL  = 7 * 24 * time.Hour
	maxSessions = 1000
)

type session struct {
	role    string
	expires time.Time
}

// sessions are the server-side half of sign-in: the cookie holds a random
// id, never the token. The CSRF token of a session is an HMAC of its id,
// so anonymous visitors (no tokens configured) need no server state.
type sessions struct {
	key []byte
	now func() time.Time
	mu  sync.Mutex
	m   map[string]session
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{key: randomBytes(32), now: now, m: map[string]session{}}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return b
}

func newID() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

// create starts a session with role and returns its id.
func (s *sessions) create(role string) string {
	id := newID()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m {
		if now.After(v.expires) {
			delete(s.m, k)
		}
	}
	for len(s.m) >= maxSessions { // drop the one closest to expiry
		var oldest string
		for k, v := range s.m {
			if oldest == "" || v.expires.Before(s.m[oldest].expires) {
				oldest = k
			}
		}
		delete(s.m, oldest)
	}
	s.m[id] = session{role: role, expires: now.Add(sessionTTL)}
	return id
}

// role returns the role of a session id, or "".
func (s *sessions) role(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok || s.now().After(v.expires) {
		return ""
	}
	return v.role
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// csrf returns the CSRF token of a session id.
func (s *sessions) csrf(id string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte("csrf\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *sessions) validCSRF(id, token string) bool {
	return id != "" && token != "" && subtle.ConstantTimeCompare([]byte(s.csrf(id)), []byte(token)) == 1
}

func setSessionCookie(w http.ResponseWriter, r *http.Request, id string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: id, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
	})
}
