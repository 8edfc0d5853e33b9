package tasks_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/novelfactory/runner/internal/backupset"
)

// s3Env starts an in-process S3 server with a bucket and returns the
// environment a task needs to reach it.
func s3Env(t *testing.T) []string {
	t.Helper()
	backend := s3mem.New()
	backend.CreateBucket("factory")
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return []string{"AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_S3=" + srv.URL}
}

// weeklyTarget is the weekly backup prefix in a folder ("file") or in the
// in-process S3 server ("s3"), with the environment that reaches it.
func weeklyTarget(t *testing.T, target string) (string, []string) {
	t.Helper()
	if target == "s3" {
		return "s3://factory/weekly/", s3Env(t)
	}
	return "file://offsite/weekly/", nil
}

func TestS3PutWritesACompleteSetAndSkipsUnchangedObjects(t *testing.T) {
	for _, target := range []string{"file", "s3"} {
		t.Run(target, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "neo4j-20261129.dump"), []byte("graph bytes"), 0o644)
			os.WriteFile(filepath.Join(dir, "Pilot-episodes.zip"), []byte("제1화 zip bytes"), 0o644)
			with := map[string]any{"files": []any{"*.dump", "Pilot-episodes.zip"}, "to": "file://offsite/weekly/20261129/"}
			var env []string
			if target == "s3" {
				env = s3Env(t)
				with["to"], with["path_style"] = "s3://factory/weekly/20261129/", true
			}
			out, _, err := runTaskEnv(context.Background(), t, "s3put", dir, env, with)
			if err != nil {
				t.Fatal(err)
			}
			if out["uploaded"] != 2 || out["unchanged"] != 0 || out["manifest"] != strings.TrimSuffix(with["to"].(string), "/")+"/manifest.json" ||
				out["keys"].([]string)[1] != with["to"].(string)+"Pilot-episodes.zip" {
				t.Fatalf("outputs %v", out)
			}
			if target == "file" {
				data, err := os.ReadFile(filepath.Join(dir, "offsite/weekly/20261129/manifest.json"))
				if err != nil {
					t.Fatal(err)
				}
				var m backupset.Manifest
				json.Unmarshal(data, &m)
				if m.Version != 1 || m.Run != "test-run" || len(m.Objects) != 2 || m.Objects[0].Key != "neo4j-20261129.dump" || m.Objects[0].Size != 11 || len(m.Objects[0].SHA256) != 64 {
					t.Fatalf("manifest %+v", m)
				}
			}
			again, _, err := runTaskEnv(context.Background(), t, "s3put", dir, env, with)
			if err != nil || again["uploaded"] != 0 || again["unchanged"] != 2 {
				t.Fatalf("second upload: %v %v", again, err)
			}
		})
	}
}

func TestS3PutRejectsAmbiguousInput(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "a"), 0o755)
	os.MkdirAll(filepath.Join(dir, "b"), 0o755)
	os.WriteFile(filepath.Join(dir, "a/x.zip"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "b/x.zip"), nil, 0o644)
	_, _, err := runTaskEnv(context.Background(), t, "s3put", dir, nil, map[string]any{"files": []any{"*/x.zip"}, "to": "file://out/"})
	if err == nil || !strings.Contains(err.Error(), `would both be stored as "x.zip"`) {
		t.Fatalf("got %v", err)
	}
	_, _, err = runTaskEnv(context.Background(), t, "s3put", dir, nil, map[string]any{"files": []any{"*.dump"}, "to": "file://out/"})
	if err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Fatalf("got %v", err)
	}
}

// makeSet writes a set under root/weekly/NAME as s3put does — marker,
// object, manifest — complete unless incomplete (a run that stopped
// before its manifest).
func makeSet(t *testing.T, root, name string, created time.Time, incomplete bool) {
	t.Helper()
	dir := filepath.Join(root, "weekly", name)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, backupset.MarkerName), []byte(`{"version":1,"keys":["graph.dump"]}`), 0o644)
	os.WriteFile(filepath.Join(dir, "graph.dump"), []byte(name), 0o644)
	for _, f := range []string{"graph.dump", backupset.MarkerName} {
		os.Chtimes(filepath.Join(dir, f), created, created)
	}
	if !incomplete {
		sum := sha256.Sum256([]byte(name))
		data, _ := json.Marshal(backupset.Manifest{Version: 1, Created: created, Objects: []backupset.Entry{{Key: "graph.dump", Size: int64(len(name)), SHA256: hex.EncodeToString(sum[:])}}})
		os.WriteFile(filepath.Join(dir, "manifest.json"), data, 0o644)
	}
}

func TestPruneDeletesByPolicyAndSaysWhatItWouldDo(t *testing.T) {
	root := t.TempDir()
	now := time.Now()
	for i := 0; i < 6; i++ {
		makeSet(t, root, time.Now().AddDate(0, 0, -7*i).Format("20060102"), now.AddDate(0, 0, -7*i), false)
	}
	makeSet(t, root, "crashed", now.Add(-72*time.Hour), true)
	makeSet(t, root, "running", now.Add(-time.Hour), true)
	with := map[string]any{"target": "file://weekly/", "keep_last": 3}

	plan := planTask(t, "prune", root, with)
	if !strings.HasPrefix(plan, "would delete 4 of 8 sets") || !strings.Contains(plan, "crashed (2 objects)") || strings.Contains(plan, "running") {
		t.Fatalf("plan: %s", plan)
	}
	if entries, _ := os.ReadDir(filepath.Join(root, "weekly")); len(entries) != 8 {
		t.Fatal("the plan deleted something")
	}
	out, _, err := runTaskEnv(context.Background(), t, "prune", root, nil, with)
	if err != nil {
		t.Fatal(err)
	}
	if len(out["kept"].([]string)) != 4 || len(out["deleted"].([]string)) != 4 || out["objects"] != 11 {
		t.Fatalf("outputs %v", out)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "weekly"))
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{now.AddDate(0, 0, -14).Format("20060102"), now.AddDate(0, 0, -7).Format("20060102"), now.Format("20060102"), "running"}
	for _, w := range want {
		if !strings.Contains(strings.Join(names, " "), w) {
			t.Errorf("%s was deleted; left: %v", w, names)
		}
	}
}

func TestPruneRefusesAPolicyThatKeepsNothing(t *testing.T) {
	_, _, err := runTaskEnv(context.Background(), t, "prune", t.TempDir(), nil, map[string]any{"target": "file://weekly/"})
	if err == nil || !strings.Contains(err.Error(), "no keep_* rule is set") {
		t.Fatalf("got %v", err)
	}
}
