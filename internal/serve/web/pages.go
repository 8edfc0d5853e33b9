package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/novelfactory/runner/internal/plot"
	"github.com/novelfactory/runner/internal/serve/api"
)

// pages are the dashboard's templates, one set per page.
type pages struct {
	t map[string]*template.Template
}

func loadPages() (*pages, error) {
	layout, err := fs.ReadFile(assets, "assets/templates/layout.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(assets, "assets/templates/*.html")
	if err != nil {
		return nil, err
	}
	p := &pages{t: map[string]*template.Template{}}
	for _, name := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(name, "assets/templates/"), ".html")
		if base == "layout" {
			continue
		}
		body, err := fs.ReadFile(assets, name)
		if err != nil {
			return nil, err
		}
		t, err := template.New("layout").Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.Parse(string(body))
		}
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		p.t[base] = t
	}
	return p, nil
}

var funcs = template.FuncMap{
	"symbol": symbol,
	"dur": func(seconds float64) string {
		if seconds <= 0 {
			return ""
		}
		d := time.Duration(seconds * float64(time.Second))
		switch {
		case d < time.Second:
			return fmt.Sprintf("%d ms", d.Milliseconds())
		case d < time.Minute:
			return fmt.Sprintf("%.1f s", d.Seconds())
		case d < time.Hour:
			return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
		}
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	},
	"bytes": func(n int64) string {
		const unit = 1024
		if n < unit {
			return fmt.Sprintf("%d B", n)
		}
		f, i := float64(n), 0
		for f >= unit && i < 4 {
			f /= unit
			i++
		}
		return fmt.Sprintf("%.1f %s", f, []string{"", "KiB", "MiB", "GiB", "TiB"}[i])
	},
	"outputs": func(v any) string {
		if v == nil {
			return ""
		}
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Sprint(v)
		}
		return string(b)
	},
	"has": func(list []string, s string) bool { return slices.Contains(list, s) },
	"isFinished": func(st string) bool {
		return st != "running" && st != "pending" && st != api.StatusQueued
	},
}

// view is what every page template gets.
type view struct {
	Title   string
	Nav     string
	Role    string
	Auth    bool
	CSRF    string
	Live    string // what app.js refreshes on: "page" or ""
	Finance bool
	Backups bool
	Now     time.Time
	loc     *time.Location
	Data    any
}

// When shows a time in the server's zone.
func (v view) When(t any) string {
	switch t := t.(type) {
	case time.Time:
		if t.IsZero() {
			return ""
		}
		return t.In(v.loc).Format("2006-01-02 15:04:05 MST")
	case *time.Time:
		if t == nil {
			return ""
		}
		return v.When(*t)
	}
	return ""
}

// WhenIn shows a scheduled time in its schedule's zone, and in the
// server's when that differs: "2026-12-06 04:00 KST (2026-12-05 19:00 UTC)".
func (v view) WhenIn(t any, zone string) string {
	var tt time.Time
	switch t := t.(type) {
	case time.Time:
		tt = t
	case *time.Time:
		if t == nil {
			return ""
		}
		tt = *t
	}
	loc, err := time.LoadLocation(zone)
	if tt.IsZero() || zone == "" || err != nil {
		return v.When(tt)
	}
	local, here := tt.In(loc), tt.In(v.loc)
	if local.Format("15:04 MST") == here.Format("15:04 MST") {
		return v.When(tt)
	}
	return local.Format("2006-01-02 15:04 MST") + " (" + here.Format("2006-01-02 15:04 MST") + ")"
}

// Ago says how long ago (or in how long) t is, in words.
func (v view) Ago(t any) string {
	var tt time.Time
	switch t := t.(type) {
	case time.Time:
		tt = t
	case *time.Time:
		if t == nil {
			return ""
		}
		tt = *t
	}
	if tt.IsZero() {
		return ""
	}
	d := v.Now.Sub(tt)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		if future {
			return "in less than a minute"
		}
		return "just now"
	case d < time.Hour:
		s = plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		s = plural(int(d.Hours()), "hour")
	default:
		s = plural(int(d.Hours()/24), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// render writes a page, masked, with status.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name, title string, data any) {
	id := whoOf(r)
	v := view{
		Title: title, Nav: name, Role: id.role, Auth: s.cfg.Tokens.Configured(),
		Finance: s.cfg.FinanceConfigured, Backups: s.cfg.BackupsConfigured,
		Now: s.cfg.Now(), loc: s.cfg.Location, Data: data,
	}
	if id.session != "" {
		v.CSRF = s.sessions.csrf(id.session)
	}
	switch name {
	case "overview", "runs", "run", "recipe":
		v.Live = "page"
	}
	var b bytes.Buffer
	if err := s.pages.t[name].Execute(&b, v); err != nil {
		s.log.Error("rendering a page", "page", name, "err", s.mask.String(err.Error()))
		http.Error(w, "rendering the page failed", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(s.mask.Bytes(b.Bytes()))
}

func (s *server) renderError(w http.ResponseWriter, r *http.Request, e *api.Error) {
	s.render(w, r, e.Status, "error", "Error", e)
}

// Overview.

type overviewData struct {
	Recipes []recipeRow
}

type recipeRow struct {
	api.Recipe
	Strip    []api.RunSummary // oldest first
	Schedule string
}

func row(rc api.Recipe) recipeRow {
	strip := slices.Clone(rc.Recent)
	slices.Reverse(strip)
	var words []string
	for _, sc := range rc.Schedules {
		w := sc.Words
		if w == "" {
			w = sc.Cron
		}
		if sc.Timezone != "" {
			w += " (" + sc.Timezone + ")"
		}
		words = append(words, w)
	}
	return recipeRow{Recipe: rc, Strip: strip, Schedule: strings.Join(words, "; ")}
}

func (s *server) pageOverview(w http.ResponseWriter, r *http.Request) {
	rs, err := s.b.Recipes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var d overviewData
	for _, rc := range rs {
		d.Recipes = append(d.Recipes, row(rc))
	}
	s.render(w, r, http.StatusOK, "overview", "Overview", d)
}

// Runs.

type runsData struct {
	api.RunPage
	Recipes  []api.Recipe
	Statuses []string
	Filter   map[string]string
	Prev     string
	Next     string
	Pages    int
}

var statuses = []string{"running", "succeeded", "failed", "cancelled", api.StatusInterrupted, api.StatusQueued, "pending", "skipped", api.StatusDamaged}

func (s *server) pageRuns(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q, err := s.runQuery(v)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.b.Runs(r.Context(), q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rs, err := s.b.Recipes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := runsData{RunPage: p, Recipes: rs, Statuses: statuses, Filter: map[string]string{}}
	for _, k := range []string{"recipe", "status", "from", "to", "per_page"} {
		d.Filter[k] = v.Get(k)
	}
	if p.PerPage > 0 {
		d.Pages = max(1, (p.Total+p.PerPage-1)/p.PerPage)
	}
	link := func(page int) string {
		q := url.Values{}
		for k, val := range d.Filter {
			if val != "" {
				q.Set(k, val)
			}
		}
		q.Set("page", strconv.Itoa(page))
		return "/runs?" + q.Encode()
	}
	if p.Page > 1 {
		d.Prev = link(p.Page - 1)
	}
	if p.Page < d.Pages {
		d.Next = link(p.Page + 1)
	}
	s.render(w, r, http.StatusOK, "runs", "Runs", d)
}

// Run.

type runData struct {
	api.Run
	Graph      template.HTML
	Logs       map[string]logView
	RecipeInfo *api.Recipe
	Changed    bool
}

type logView struct {
	Text      string
	End       int64
	Live      bool
	Truncated bool
}

// maxPageLog is how much of one task's log a page holds; the rest is in
// the API.
const maxPageLog = 1 << 20

func (s *server) pageRun(w http.ResponseWriter, r *http.Request) {
	id, err := runID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := s.b.Run(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := runData{Run: run, Graph: graphSVG(run.Graph, run.Tasks), Logs: map[string]logView{}}
	for _, t := range run.Tasks {
		if !t.HasLog && t.Status != "running" {
			continue
		}
		lv, err := s.readLog(r.Context(), run.ID, t.ID)
		if err != nil {
			lv.Text = "(the log cannot be read: " + err.Error() + ")"
		}
		d.Logs[t.ID] = lv
	}
	if run.Recipe != "" {
		if rc, err := s.b.Recipe(r.Context(), run.Recipe); err == nil {
			d.RecipeInfo = &rc
		}
	}
	s.render(w, r, http.StatusOK, "run", "Run "+run.ID, d)
}

// readLog reads a task's log from the start, up to maxPageLog.
func (s *server) readLog(ctx context.Context, run, task string) (logView, error) {
	var b strings.Builder
	var off int64
	for {
		c, err := s.b.Log(ctx, run, task, off)
		if err != nil {
			return logView{End: off, Text: b.String()}, err
		}
		b.WriteString(c.Text)
		moved := c.End > off
		off = c.End
		if !moved {
			return logView{Text: b.String(), End: off, Live: !c.Done}, nil
		}
		if b.Len() >= maxPageLog {
			return logView{Text: b.String(), End: off, Truncated: true, Live: !c.Done}, nil
		}
	}
}

// Recipe.

func (s *server) pageRecipe(w http.ResponseWriter, r *http.Request) {
	id, err := recipeID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc, err := s.b.Recipe(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "recipe", rc.Name, row(rc))
}

// Finance.

type financeData struct {
	api.Finance
	Chart template.HTML
	Rows  [][]string // newest first: date, then each series
	// NotConfigured is why there is nothing to show.
	NotConfigured string
}

type backupsData struct {
	api.Backups
	NotConfigured string
}

var svgStyle = regexp.MustCompile(`(?s)<style>.*?</style>\n?`)

// financeChart draws the series with internal/plot, as the report task
// does. The chart's own <style> goes: the style sheet sets its font, and
// the Content-Security-Policy allows no inline style.
func financeChart(f api.Finance) (template.HTML, error) {
	c := plot.Chart{Kind: "line", YLabel: f.Unit}
	for _, d := range f.Dates {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			return "", fmt.Errorf("finance date %q: %w", d, err)
		}
		c.Dates = append(c.Dates, t)
	}
	for _, se := range f.Series {
		c.Series = append(c.Series, plot.Series{Name: se.Name, Values: se.Values})
	}
	scene, err := plot.Layout(c)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := scene.SVG(&b, "Finance"); err != nil {
		return "", err
	}
	return template.HTML(svgStyle.ReplaceAll(b.Bytes(), nil)), nil
}

func (s *server) pageFinance(w http.ResponseWriter, r *http.Request) {
	f, err := s.b.Finance(r.Context())
	if e := api.AsError(err); err != nil && e.Code == api.CodeNotConfigured {
		s.render(w, r, http.StatusOK, "finance", "Finance", financeData{NotConfigured: e.Message})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := financeData{Finance: f}
	if len(f.Dates) > 0 {
		if d.Chart, err = financeChart(f); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	for i := len(f.Dates) - 1; i >= 0; i-- {
		row := []string{f.Dates[i]}
		for _, se := range f.Series {
			v := ""
			if i < len(se.Exact) && se.Exact[i] != "" {
				v = se.Exact[i] // as written in the CSV
			} else if i < len(se.Values) && !math.IsNaN(se.Values[i]) {
				v = plot.Thousands(se.Values[i], 1)
			}
			row = append(row, v)
		}
		d.Rows = append(d.Rows, row)
	}
	s.render(w, r, http.StatusOK, "finance", "Finance", d)
}

// Backups.

func (s *server) pageBackups(w http.ResponseWriter, r *http.Request) {
	b, err := s.b.Backups(r.Context())
	if e := api.AsError(err); err != nil && e.Code == api.CodeNotConfigured {
		s.render(w, r, http.StatusOK, "backups", "Backups", backupsData{NotConfigured: e.Message})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "backups", "Backups", backupsData{Backups: b})
}

// Forms: each POSTs with the CSRF token and, done, goes back to the run.

func (s *server) formStart(w http.ResponseWriter, r *http.Request) {
	if !s.requireOperator(w, r) {
		return
	}
	id, err := recipeID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rc, err := s.b.Recipe(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A field left at its default is no override; a secret or a computed
	// var left empty keeps its value.
	vars := map[string]string{}
	for _, v := range rc.Vars {
		val, ok := r.PostForm["var."+v.Name]
		if !ok || len(val) != 1 || ((v.Secret || v.Computed) && val[0] == "") || (!v.Secret && val[0] == v.Default) {
			continue
		}
		vars[v.Name] = val[0]
	}
	// Extra NAME=VALUE lines are passed as they are: the core refuses an undeclared one.
	var extra []string
	for line := range strings.Lines(r.PostFormValue("sets")) {
		if line = strings.TrimSpace(line); line != "" {
			extra = append(extra, line)
		}
	}
	run, err := s.b.Start(r.Context(), id, append(sets(vars), extra...))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/runs/"+run.ID, http.StatusSeeOther)
}

func (s *server) formResume(w http.ResponseWriter, r *http.Request) {
	if !s.requireOperator(w, r) {
		return
	}
	id, err := runID(r)
	if err == nil {
		var run api.RunSummary
		if run, err = s.b.Resume(r.Context(), id); err == nil {
			http.Redirect(w, r, "/runs/"+run.ID, http.StatusSeeOther)
			return
		}
	}
	s.fail(w, r, err)
}

func (s *server) formCancel(w http.ResponseWriter, r *http.Request) {
	if !s.requireOperator(w, r) {
		return
	}
	id, err := runID(r)
	if err == nil {
		if err = s.b.Cancel(r.Context(), id); err == nil {
			http.Redirect(w, r, "/runs/"+id, http.StatusSeeOther)
			return
		}
	}
	s.fail(w, r, err)
}

func (s *server) formRetry(w http.ResponseWriter, r *http.Request) {
	if !s.requireOperator(w, r) {
		return
	}
	id, task, err := runTaskIDs(r)
	if err == nil {
		var run api.RunSummary
		if run, err = s.b.Retry(r.Context(), id, task, r.PostFormValue("downstream") == "true"); err == nil {
			http.Redirect(w, r, "/runs/"+run.ID, http.StatusSeeOther)
			return
		}
	}
	s.fail(w, r, err)
}

// Sign-in.

type signInData struct {
	Next    string
	Message string
}

// safeNext keeps a redirect after sign-in on this server. A control
// character is refused: a browser drops tabs and newlines from a URL, so
// `/<TAB>/evil.example` would lead to //evil.example.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsFunc(next, unicode.IsControl) {
		return "/"
	}
	return next
}

func (s *server) pageSignIn(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin", "Sign in", signInData{Next: safeNext(r.URL.Query().Get("next"))})
}

func (s *server) formSignIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	next := safeNext(r.PostFormValue("next"))
	role := ""
	if s.cfg.Tokens.Configured() {
		role = s.cfg.Tokens.role(strings.TrimSpace(r.PostFormValue("token")))
	}
	if role == "" {
		msg := "That token is not one this server accepts."
		if !s.cfg.Tokens.Configured() {
			msg = "This server has no tokens configured: no sign-in is needed."
		}
		s.render(w, r, http.StatusUnauthorized, "signin", "Sign in", signInData{Next: next, Message: msg})
		return
	}
	setSessionCookie(w, r, s.sessions.create(role), int(sessionTTL/time.Second))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) formSignOut(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.sessions.remove(c.Value)
	}
	setSessionCookie(w, r, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
