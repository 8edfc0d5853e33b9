package tasks_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGithubReleaseRunsThroughTheRegistry drafts a release with one asset
// against a minimal fake of the Releases API (tasks/githubrelease has the
// full stateful one), so that the declared outputs are checked.
func TestGithubReleaseRunsThroughTheRegistry(t *testing.T) {
	const token = "ghp_registryTOKEN0123456789"
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		paths = append(paths, r.Method+" "+r.URL.Path)
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		rel := map[string]any{"id": 7, "tag_name": "v1.0.0", "draft": true, "html_url": "https://github.example/o/r/releases/v1.0.0",
			"upload_url": "http://" + r.Host + "/api/uploads/repos/o/r/releases/7/assets{?name,label}"}
		switch r.Method + " " + r.URL.Path {
		case "GET /api/v3/repos/o/r/releases":
			io.WriteString(w, "[]")
		case "POST /api/v3/repos/o/r/releases":
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(rel)
		case "POST /api/uploads/repos/o/r/releases/7/assets":
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(map[string]any{"id": 9, "name": r.URL.Query().Get("name"), "size": len(body), "state": "uploaded"})
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Not Found"}`)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.zip"), []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	environ := []string{"GITHUB_TOKEN=" + token, "GITHUB_API_URL=" + srv.URL + "/api/v3", "GITHUB_REPOSITORY=o/r"}
	out, log, err := runTaskEnv(context.Background(), t, "github_release", dir, environ, map[string]any{"tag": "v1.0.0", "assets": []any{"app.zip"}})
	if err != nil {
		t.Fatalf("%v\n%s\n%v", err, log, paths)
	}
	if out["id"] != int64(7) || strings.Join(out["uploaded"].([]string), ",") != "app.zip" || out["draft"] != true {
		t.Errorf("outputs = %v", out)
	}
	if strings.Contains(log, token) {
		t.Errorf("the token is in the log: %s", log)
	}
}
