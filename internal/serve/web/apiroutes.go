package web

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/serve/api"
)

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// Id checks: each path value is checked before the backend sees it.

func recipeID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !api.IDPattern.MatchString(id) {
		return "", api.Errorf(api.CodeInvalidID, "%q is not a recipe id", clip(id))
	}
	return id, nil
}

func runID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if !state.IsRunID(id) {
		return "", api.Errorf(api.CodeInvalidID, "%q is not a run id", clip(id))
	}
	return id, nil
}

func runTaskIDs(r *http.Request) (string, string, error) {
	id, err := runID(r)
	if err != nil {
		return "", "", err
	}
	task := r.PathValue("task")
	if !api.TaskPattern.MatchString(task) {
		return "", "", api.Errorf(api.CodeInvalidID, "%q is not a task id", clip(task))
	}
	return id, task, nil
}

// clip keeps error messages short and valid UTF-8 whatever the id was.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

var statusRe = regexp.MustCompile(`^[a-z_]{1,20}$`)

// runQuery reads the run list's filters: recipe, status, from, to (RFC
// 3339 or YYYY-MM-DD; a date as `to` includes that day), page, per_page.
func (s *server) runQuery(v url.Values) (api.RunQuery, error) {
	var q api.RunQuery
	if id := v.Get("recipe"); id != "" && id != "all" {
		if !api.IDPattern.MatchString(id) {
			return q, api.Errorf(api.CodeInvalidID, "%q is not a recipe id", clip(id))
		}
		q.Recipe = id
	}
	if st := v.Get("status"); st != "" && st != "all" {
		if !statusRe.MatchString(st) {
			return q, api.Errorf(api.CodeBadRequest, "%q is not a status", clip(st))
		}
		q.Status = st
	}
	var err error
	if q.From, err = s.parseTime(v.Get("from"), false); err != nil {
		return q, err
	}
	if q.To, err = s.parseTime(v.Get("to"), true); err != nil {
		return q, err
	}
	if q.Page, err = intParam(v, "page", 1, 1, 1_000_000); err != nil {
		return q, err
	}
	if q.PerPage, err = intParam(v, "per_page", 50, 1, 200); err != nil {
		return q, err
	}
	return q, nil
}

func (s *server) parseTime(v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation("2006-01-02", v, s.cfg.Location)
	if err != nil {
		return time.Time{}, api.Errorf(api.CodeBadRequest, "%q is not a date (YYYY-MM-DD) or an RFC 3339 time", clip(v))
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

func intParam(v url.Values, name string, def, lo, hi int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, api.Errorf(api.CodeBadRequest, "%s must be a whole number from %d to %d, not %q", name, lo, hi, clip(s))
	}
	return n, nil
}

func (s *server) apiSession(w http.ResponseWriter, r *http.Request) {
	id := whoOf(r)
	out := struct {
		Role      string `json:"role"`
		CSRFToken string `json:"csrf_token,omitempty"`
		Auth      bool   `json:"auth"`
	}{Role: id.role, Auth: s.cfg.Tokens.Configured()}
	if id.session != "" {
		out.CSRFToken = s.sessions.csrf(id.session)
	}
	s.writeJSON(w, http.StatusOK, out)
}

func (s *server) apiRecipes(w http.ResponseWriter, r *http.Request) {
	rs, err := s.b.Recipes(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rs == nil {
		rs = []api.Recipe{}
	}
	s.writeJSON(w, http.StatusOK, struct {
		Recipes []api.Recipe `json:"recipes"`
	}{rs})
}

func (s *server) apiRecipe(w http.ResponseWriter, r *http.Request) {
	id, err := recipeID(r)
	if err == nil {
		var rc api.Recipe
		if rc, err = s.b.Recipe(r.Context(), id); err == nil {
			s.writeJSON(w, http.StatusOK, rc)
			return
		}
	}
	s.fail(w, r, err)
}

func (s *server) apiRuns(w http.ResponseWriter, r *http.Request) {
	q, err := s.runQuery(r.URL.Query())
	if err == nil {
		var p api.RunPage
		if p, err = s.b.Runs(r.Context(), q); err == nil {
			if p.Runs == nil {
				p.Runs = []api.RunSummary{}
			}
			s.writeJSON(w, http.StatusOK, p)
			return
		}
	}
	s.fail(w, r, err)
}

func (s *server) apiRun(w http.ResponseWriter, r *http.Request) {
	id, err := runID(r)
	if err == nil {
		var run api.Run
		if run, err = s.b.Run(r.Context(), id); err == nil {
			s.writeJSON(w, http.StatusOK, run)
			return
		}
	}
	s.fail(w, r, err)
}

func (s *server) apiLog(w http.ResponseWriter, r *http.Request) {
	id, task, err := runTaskIDs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	offset, err := offsetParam(r.URL.Query().Get("offset"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.b.Log(r.Context(), id, task, offset)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, c)
}

func offsetParam(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, api.Errorf(api.CodeBadRequest, "offset must be a byte offset (0 or more), not %q", clip(v))
	}
	return n, nil
}

// startRequest is the body of POST /api/v1/recipes/{id}/runs.
type startRequest struct {
	Vars map[string]string `json:"vars"`
}

func (s *server) apiStart(w http.ResponseWriter, r *http.Request) {
	if !s.requireOperator(w, r) {
		return
	}
	id, err := recipeID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req startRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := s.b.Start(r.Context(), id, sets(req.Vars))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/runs/"+run.ID)
	s.writeJSON(w, http.StatusCreated, run)
}

// sets turns var overrides into NAME=VALUE, as --set takes them, in name order.
func sets(vars map[string]string) []string {
	var out []string
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return out
}

// decodeBody reads a small JSON body; an empty body is the zero value.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return api.Errorf(api.CodeBadRequest, "reading the JSON body: %v", err)
	}
	return nil
}

func (s *server) apiResume(w http.ResponseWriter, r *http.Request) {
	if !s.requireOperator(w, r) {
		return
	}
	id, err := runID(r)
	if err == nil {
		var run api.RunSummary
		if run, err = s.b.Resume(r.Context(), id); err == nil {
			s.writeJSON(w, http.StatusAccepted, run)
			return
		}
	}
	s.fail(w, r, err)
}

func (s *server) apiCancel(w http.ResponseWriter, r *http.Request) {
	if !s.requireOperator(w, r) {
		return
	}
	id, err := runID(r)
	if err == nil {
		if err = s.b.Cancel(r.Context(), id); err == nil {
			s.writeJSON(w, http.StatusAccepted, struct {
				ID        string `json:"id"`
				Cancelled bool   `json:"cancelled"`
			}{id, true})
			return
		}
	}
	s.fail(w, r, err)
}

// retryRequest is the body of POST …/tasks/{task}/retry.
type retryRequest struct {
	Downstream bool `json:"downstream"`
}

func (s *server) apiRetry(w http.ResponseWriter, r *http.Request) {
	if !s.requireOperator(w, r) {
		return
	}
	id, task, err := runTaskIDs(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req retryRequest
	if err := decodeBody(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	run, err := s.b.Retry(r.Context(), id, task, req.Downstream)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusAccepted, run)
}

func (s *server) apiFinance(w http.ResponseWriter, r *http.Request) {
	f, err := s.b.Finance(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, http.StatusOK, f)
}

func (s *server) apiBackups(w http.ResponseWriter, r *http.Request) {
	b, err := s.b.Backups(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if b.Sets == nil {
		b.Sets = []api.BackupSet{}
	}
	s.writeJSON(w, http.StatusOK, b)
}
