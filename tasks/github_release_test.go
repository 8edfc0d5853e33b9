package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/internal/githubfake"
)

// TestGithubReleaseRunsThroughTheRegistry drafts a release with one asset
// against the fake GitHub, so that the declared outputs are checked.
func TestGithubReleaseRunsThroughTheRegistry(t *testing.T) {
	gh := githubfake.New(t, githubfake.WithRepository("o", "r"), githubfake.WithToken("ghp_registryTOKEN0123456789"))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.zip"), []byte("PK"), 0o644); err != nil {
		t.Fatal(err)
	}
	environ := []string{"GITHUB_TOKEN=" + gh.Token(), "GITHUB_API_URL=" + gh.APIURL(), "GITHUB_REPOSITORY=" + gh.Repository()}
	out, log, err := runTaskEnv(context.Background(), t, "github_release", dir, environ, map[string]any{"tag": "v1.0.0", "assets": []any{"app.zip"}})
	if err != nil {
		t.Fatalf("%v\n%s\n%v", err, log, gh.Requests())
	}
	rel := gh.Release("v1.0.0")
	if rel == nil || out["id"] != rel.ID || strings.Join(out["uploaded"].([]string), ",") != "app.zip" || out["draft"] != true {
		t.Errorf("outputs = %v", out)
	}
	if strings.Contains(log, gh.Token()) {
		t.Errorf("the token is in the log: %s", log)
	}
}
