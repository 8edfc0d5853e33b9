package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/recipe"
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

// TestGithubReleaseNeedsATagUnlessCheck: tag is required, reported at the with
// block's params, except for check: true, which needs only the token.
func TestGithubReleaseNeedsATagUnlessCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.yaml")
	for body, want := range map[string]string{
		"    uses: github_release\n    with:\n      assets: [a.zip]\n": `r.yaml:6:7: task "t": with.tag: the tag is empty: it is required (only check: true goes without one)`,
		"    uses: github_release\n    with:\n      check: true\n":     "",
	} {
		if err := os.WriteFile(path, []byte("version: 1\ntasks:\n  t:\n"+body), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := recipe.Load(path, recipe.Options{})
		switch {
		case want == "" && err != nil:
			t.Errorf("check: true without a tag: %v", err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), strings.Replace(want, "r.yaml", path, 1))):
			t.Errorf("got %v\nwant …%s…", err, want)
		}
	}
}
