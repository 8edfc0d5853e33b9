package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/internal/serve/api"
)

// Config is how the HTTP layer is set up.
type Config struct {
	// Tokens are the accepted bearer tokens; none means no auth (the
	// server must then listen on loopback only: see CheckListen).
	Tokens Tokens
	// Metrics is served at /metrics, to any signed-in role (a Prometheus
	// scraper sends the read token as a bearer token); nil: no /metrics.
	Metrics http.Handler
	Logger  *slog.Logger
	// Masker is applied to every answer, page and event; nil: a masker
	// that knows no secrets (the backend masks too).
	Masker *secret.Masker
	// FinanceConfigured and BackupsConfigured say whether the Finance and
	// Backups pages have a source; without one the page says how to set it.
	FinanceConfigured bool
	BackupsConfigured bool
	// Location is the zone times are shown in; nil: time.Local.
	Location *time.Location
	// Now is the clock ("3 hours ago"); nil: time.Now.
	Now func() time.Time
	// LogPoll is how often a live log is looked at for new lines
	// (250 ms when 0); Heartbeat how often an idle event stream sends a
	// comment so proxies keep it open (15 s when 0).
	LogPoll   time.Duration
	Heartbeat time.Duration
}

//go:embed assets
var assets embed.FS

// server is the handler New returns.
type server struct {
	b        api.Backend
	cfg      Config
	log      *slog.Logger
	mask     *secret.Masker
	sessions *sessions
	cop      *http.CrossOriginProtection
	pages    *pages
	logs     *logHub
	mux      *http.ServeMux
}

// New returns the HTTP handler of `runner serve`: the API under /api/v1/,
// the dashboard, /static/ assets and /metrics.
func New(b api.Backend, cfg Config) (http.Handler, error) {
	if b == nil {
		return nil, errors.New("web: no backend")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Masker == nil {
		cfg.Masker = secret.New()
	}
	cfg.Masker.Add(cfg.Tokens.Operator...) // a token never shows, not even in a log
	cfg.Masker.Add(cfg.Tokens.Read...)
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.LogPoll <= 0 {
		cfg.LogPoll = 250 * time.Millisecond
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 15 * time.Second
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s := &server{
		b: b, cfg: cfg, log: cfg.Logger, mask: cfg.Masker,
		sessions: newSessions(cfg.Now),
		cop:      http.NewCrossOriginProtection(),
		pages:    p,
		logs:     newLogHub(b, cfg.LogPoll),
		mux:      http.NewServeMux(),
	}
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, api.Errorf(api.CodeCSRF, "cross-origin request refused"))
	}))
	s.routes()
	return s, nil
}

func (s *server) routes() {
	m := s.mux
	// API.
	m.HandleFunc("GET /api/v1/session", s.apiSession)
	m.HandleFunc("GET /api/v1/recipes", s.apiRecipes)
	m.HandleFunc("GET /api/v1/recipes/{id}", s.apiRecipe)
	m.HandleFunc("POST /api/v1/recipes/{id}/runs", s.apiStart)
	m.HandleFunc("GET /api/v1/runs", s.apiRuns)
	m.HandleFunc("GET /api/v1/runs/{id}", s.apiRun)
	m.HandleFunc("POST /api/v1/runs/{id}/resume", s.apiResume)
	m.HandleFunc("POST /api/v1/runs/{id}/cancel", s.apiCancel)
	m.HandleFunc("GET /api/v1/runs/{id}/tasks/{task}/log", s.apiLog)
	m.HandleFunc("GET /api/v1/runs/{id}/tasks/{task}/log/stream", s.streamLog)
	m.HandleFunc("POST /api/v1/runs/{id}/tasks/{task}/retry", s.apiRetry)
	m.HandleFunc("GET /api/v1/events", s.streamEvents)
	m.HandleFunc("GET /api/v1/finance", s.apiFinance)
	m.HandleFunc("GET /api/v1/backups", s.apiBackups)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, api.Errorf(api.CodeNotFound, "no API route %s %s", r.Method, r.URL.Path))
	})
	// Dashboard.
	m.HandleFunc("GET /{$}", s.pageOverview)
	m.HandleFunc("GET /runs", s.pageRuns)
	m.HandleFunc("GET /runs/{id}", s.pageRun)
	m.HandleFunc("GET /recipes/{id}", s.pageRecipe)
	m.HandleFunc("GET /finance", s.pageFinance)
	m.HandleFunc("GET /backups", s.pageBackups)
	m.HandleFunc("POST /recipes/{id}/runs", s.formStart)
	m.HandleFunc("POST /runs/{id}/resume", s.formResume)
	m.HandleFunc("POST /runs/{id}/cancel", s.formCancel)
	m.HandleFunc("POST /runs/{id}/tasks/{task}/retry", s.formRetry)
	m.HandleFunc("GET /signin", s.pageSignIn)
	m.HandleFunc("POST /signin", s.formSignIn)
	m.HandleFunc("POST /signout", s.formSignOut)
	static, _ := fs.Sub(assets, "assets/static")
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	if s.cfg.Metrics != nil {
		m.Handle("GET /metrics", s.cfg.Metrics)
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, api.Errorf(api.CodeNotFound, "no page %s", r.URL.Path))
	})
}

// Limits are how long HTTPServer waits for a client.
type Limits struct {
	ReadHeader time.Duration // for a request's headers
	Read       time.Duration // for a whole request, body included
	Idle       time.Duration // between two requests on one connection
}

// DefaultLimits are runner serve's.
var DefaultLimits = Limits{ReadHeader: 10 * time.Second, Read: 30 * time.Second, Idle: 2 * time.Minute}

// HTTPServer is the http.Server `runner serve` answers with. Every read
// has a deadline, so a client cannot hold a connection (a goroutine and a
// file descriptor) by sending its request a byte at a time or by keeping
// an idle connection open; the event streams clear it once they start.
func HTTPServer(h http.Handler, l Limits) *http.Server {
	return &http.Server{
		Handler: h, ReadHeaderTimeout: l.ReadHeader, ReadTimeout: l.Read,
		IdleTimeout: l.Idle, MaxHeaderBytes: 64 << 10,
	}
}

// contentSecurityPolicy allows nothing inline and nothing from elsewhere.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// who is the caller of a request.
type who struct {
	role    string // RoleRead, RoleOperator, or "": not signed in
	session string // the session id CSRF tokens are bound to
	bearer  bool   // authenticated by an Authorization header (no CSRF needed)
}

type whoKey struct{}

func whoOf(r *http.Request) who {
	w, _ := r.Context().Value(whoKey{}).(who)
	return w
}

// isPublic reports whether a path is served without a token: the sign-in
// page and the assets it needs, which hold nothing of the factory's.
func isPublic(path string) bool {
	return path == "/signin" || strings.HasPrefix(path, "/static/")
}

// ServeHTTP sets the security headers, refuses hostile paths, finds out
// who is asking and checks they may, then routes.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	w = rec
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	defer func() {
		lvl := slog.LevelDebug
		if rec.status >= 500 {
			lvl = slog.LevelError
		}
		s.log.Log(r.Context(), lvl, "http", "method", r.Method, "path", s.mask.String(r.URL.Path), "status", rec.status, "duration", time.Since(start))
	}()

	// Ids are checked by the handlers; a `..` segment or bytes that are
	// not UTF-8 are refused here, before the mux would redirect them.
	if !utf8.ValidString(r.URL.Path) || hasDotSegment(r.URL.Path) {
		s.fail(w, r, api.Errorf(api.CodeInvalidID, "the path holds a `..` or `.` segment or is not UTF-8"))
		return
	}
	id, ok := s.identify(w, r)
	if !ok {
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), whoKey{}, id))
	if id.role == "" && !isPublic(r.URL.Path) {
		s.unauthorized(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		if err := s.cop.Check(r); err != nil {
			s.fail(w, r, api.Errorf(api.CodeCSRF, "cross-origin request refused"))
			return
		}
		if r.URL.Path != "/signin" && !id.bearer && !s.sessions.validCSRF(id.session, csrfToken(r)) {
			s.fail(w, r, api.Errorf(api.CodeCSRF, "missing or wrong CSRF token: send the page's token as the %s form field or the %s header", csrfField, csrfHeader))
			return
		}
	}
	s.mux.ServeHTTP(w, r)
}

func hasDotSegment(p string) bool {
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return true
		}
	}
	return false
}

// identify finds the caller: a bearer token, else a session cookie, else
// (no tokens configured) an anonymous operator with a session id of its
// own for CSRF. A wrong bearer token is answered here with 401.
func (s *server) identify(w http.ResponseWriter, r *http.Request) (who, bool) {
	if auth := r.Header.Get("Authorization"); auth != "" {
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		role := ""
		if ok && s.cfg.Tokens.Configured() {
			role = s.cfg.Tokens.role(strings.TrimSpace(tok))
		}
		if role == "" {
			s.fail(w, r, api.Errorf(api.CodeUnauthorized, "the bearer token is not one this server accepts"))
			return who{}, false
		}
		return who{role: role, bearer: true}, true
	}
	var sid string
	if c, err := r.Cookie(sessionCookie); err == nil {
		sid = c.Value
	}
	if s.cfg.Tokens.Configured() {
		if role := s.sessions.role(sid); role != "" {
			return who{role: role, session: sid}, true
		}
		return who{}, true
	}
	if len(sid) != 43 { // not one of ours: start an anonymous session
		sid = newID()
		if r.Method == http.MethodGet {
			setSessionCookie(w, r, sid, 0)
		}
	}
	return who{role: RoleOperator, session: sid}, true
}

func csrfToken(r *http.Request) string {
	if t := r.Header.Get(csrfHeader); t != "" {
		return t
	}
	ct := r.Header.Get("Content-Type")
	if strings.HasPrefix(ct, "application/x-www-form-urlencoded") || strings.HasPrefix(ct, "multipart/form-data") {
		r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
		return r.PostFormValue(csrfField)
	}
	return ""
}

func isAPI(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/metrics"
}

// unauthorized answers a request without a valid token: 401 for the API,
// the sign-in page for a browser.
func (s *server) unauthorized(w http.ResponseWriter, r *http.Request) {
	if isAPI(r) || r.Method != http.MethodGet {
		w.Header().Set("WWW-Authenticate", `Bearer realm="runner"`)
		s.fail(w, r, api.Errorf(api.CodeUnauthorized, "sign in: send Authorization: Bearer TOKEN"))
		return
	}
	http.Redirect(w, r, "/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
}

// requireOperator answers 403 unless the caller may change things.
func (s *server) requireOperator(w http.ResponseWriter, r *http.Request) bool {
	if whoOf(r).role == RoleOperator {
		return true
	}
	s.fail(w, r, api.Errorf(api.CodeForbidden, "the read-only role may not start, resume, cancel or retry runs"))
	return false
}

// fail answers an error: JSON for the API, a page for a browser.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := api.AsError(err)
	if e.Code == api.CodeInternal {
		s.log.Error("request failed", "method", r.Method, "path", s.mask.String(r.URL.Path), "err", s.mask.String(err.Error()))
	}
	if isAPI(r) {
		s.writeJSON(w, e.Status, struct {
			Error *api.Error `json:"error"`
		}{e})
		return
	}
	s.renderError(w, r, e)
}

// writeJSON writes v, masked.
func (s *server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","message":"encoding the answer failed"}}`)
	}
	b = append(s.mask.Bytes(b), '\n')
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach Flush and deadlines.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
