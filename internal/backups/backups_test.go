package backups_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/backups"
	"github.com/novelfactory/runner/internal/testtools"
	_ "github.com/novelfactory/runner/tasks" // registers s3put, which makes the sets
)

type nopProgress struct{}

func (nopProgress) Progress(int64, int64) {}

// upload makes a backup set named set under target with s3put, as the
// weekly backup does, from files of the given sizes.
func upload(t *testing.T, dir, target, set string, environ []string, sizes ...int) {
	t.Helper()
	var files []any
	for i, n := range sizes {
		name := filepath.Join(dir, set+"-"+string(rune('a'+i))+".bin")
		if err := os.WriteFile(name, []byte(strings.Repeat("x", n)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, name)
	}
	typ, _ := tasktype.Builtin().Lookup("s3put")
	with := map[string]any{"files": files, "to": target + set + "/"}
	if strings.HasPrefix(target, "s3://") {
		with["path_style"] = true
	}
	p, err := typ.Decode(with, dir)
	if err != nil {
		t.Fatal(err)
	}
	env := &tasktype.Env{RunID: "run-" + set, Recipe: "weekly-backup", TaskID: "upload", Dir: dir, Environ: environ,
		Log: &testtools.SyncBuffer{}, Secrets: secret.New(), Progress: nopProgress{}}
	if _, err := typ.Run(context.Background(), env, p); err != nil {
		t.Fatal(err)
	}
}

func TestListingAFolderTarget(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "off site's") // a space and an apostrophe, to be quoted
	target := "file://" + root + "/weekly/"
	upload(t, dir, target, "20261122", nil, 10, 20)
	upload(t, dir, target, "20261129", nil, 5, 6, 7)
	upload(t, dir, target, "20261206", nil, 100)
	// 20261206's manifest goes missing (an upload that did not finish);
	// 20261129's no longer matches its objects; a folder of someone else's
	// is no backup set.
	os.Remove(filepath.Join(root, "weekly/20261206/manifest.json"))
	os.WriteFile(filepath.Join(root, "weekly/20261129/20261129-a.bin"), []byte("xxxxxx"), 0o644)
	os.MkdirAll(filepath.Join(root, "weekly/notes"), 0o755)
	os.WriteFile(filepath.Join(root, "weekly/notes/readme.txt"), []byte("hi"), 0o644)

	sets, err := backups.List(context.Background(), target, backups.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 3 {
		t.Fatalf("%d sets: %+v", len(sets), sets)
	}
	byName := map[string]backups.Set{}
	for _, s := range sets {
		byName[s.Name] = s
	}
	good := byName["20261122"]
	if !good.Complete || good.Objects != 2 || good.Size != 30 || good.Problem != "" || good.Date.IsZero() {
		t.Errorf("20261122: %+v", good)
	}
	wantCmd := `runner apply recipes/restore.yaml --set 'source=file://` + root[:strings.Index(root, "'")] + `'\''s/weekly' --set set=20261122`
	if good.RestoreCommand != wantCmd {
		t.Errorf("command\n%s\nwant\n%s", good.RestoreCommand, wantCmd)
	}
	if s := byName["20261129"]; s.Complete || !strings.HasPrefix(s.Problem, "damaged: ") || s.RestoreCommand != "" || s.Objects != 3 {
		t.Errorf("20261129: %+v", s)
	}
	if s := byName["20261206"]; s.Complete || !strings.HasPrefix(s.Problem, "incomplete: no manifest.json") || s.Objects != 1 || s.Size != 100 {
		t.Errorf("20261206: %+v", s)
	}
	for i := 1; i < len(sets); i++ {
		if sets[i].Date.After(sets[i-1].Date) {
			t.Errorf("not newest first: %s before %s", sets[i-1].Name, sets[i].Name)
		}
	}
}

func TestARelativeFolderTargetIsNamedAbsoluteInTheCommand(t *testing.T) {
	dir := t.TempDir()
	upload(t, dir, "file://offsite/", "20261129", nil, 1)
	sets, err := backups.List(context.Background(), "file://offsite", backups.Options{Dir: dir, Recipe: "/srv/factory/recipes/restore.yaml"})
	if err != nil || len(sets) != 1 {
		t.Fatalf("%v %+v", err, sets)
	}
	if want := "runner apply /srv/factory/recipes/restore.yaml --set source=file://" + dir + "/offsite --set set=20261129"; sets[0].RestoreCommand != want {
		t.Errorf("command %s, want %s", sets[0].RestoreCommand, want)
	}
}

func TestListingAnS3Target(t *testing.T) {
	backend := s3mem.New()
	backend.CreateBucket("factory")
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	environ := []string{"AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_REGION=us-east-1"}
	dir := t.TempDir()
	upload(t, dir, "s3://factory/weekly/", "20261122", append(environ, "AWS_ENDPOINT_URL_S3="+srv.URL), 3)
	upload(t, dir, "s3://factory/weekly/", "20261129", append(environ, "AWS_ENDPOINT_URL_S3="+srv.URL), 4, 5)

	sets, err := backups.List(context.Background(), "s3://factory/weekly", backups.Options{Endpoint: srv.URL, PathStyle: true, Region: "us-east-1", Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 || sets[0].Name != "20261129" || sets[0].Objects != 2 || sets[0].Size != 9 || !sets[0].Complete || sets[1].Name != "20261122" {
		t.Fatalf("sets %+v", sets)
	}
	want := "runner apply recipes/restore.yaml --set source=s3://factory/weekly --set set=20261129 --set region=us-east-1 --set endpoint=" + srv.URL + " --set path_style=true"
	if sets[0].RestoreCommand != want {
		t.Errorf("command\n%s\nwant\n%s", sets[0].RestoreCommand, want)
	}
	if _, err := backups.List(context.Background(), "ftp://x", backups.Options{}); err == nil {
		t.Error("ftp:// gave no error")
	}
}
