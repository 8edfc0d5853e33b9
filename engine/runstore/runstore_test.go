package runstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/novelfactory/runner/engine/runstore"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/objstore"
)

// stores opens a run store in a folder and in an in-process S3 server.
func stores(t *testing.T, m *secret.Masker) map[string]*runstore.Store {
	t.Helper()
	ctx := context.Background()
	file, err := runstore.Open(ctx, "file://"+t.TempDir()+"/runs", objstore.Options{}, m)
	if err != nil {
		t.Fatal(err)
	}
	backend := s3mem.New()
	if err := backend.CreateBucket("factory"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	env := []string{"AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_REGION=us-east-1"}
	s3, err := runstore.Open(ctx, "s3://factory/runs/", objstore.Options{Endpoint: srv.URL, PathStyle: true, Environ: env}, m)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*runstore.Store{"file": file, "s3": s3}
}

func TestRecordsRoundTripMaskedInBothStores(t *testing.T) {
	m := secret.New()
	m.Add("hunter2-secret-value")
	for name, s := range stores(t, m) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			if _, err := s.Run(ctx, "r1"); !errors.Is(err, runstore.ErrNoRun) {
				t.Fatalf("a run never recorded: %v, want ErrNoRun", err)
			}
			started := time.Date(2026, 11, 29, 3, 0, 0, 123, time.UTC)
			run := runstore.Run{ID: "r1", Recipe: "weekly", RecipeDigest: "d1", VarsDigest: "v1", Started: started}
			if _, err := s.Init(ctx, run); err != nil {
				t.Fatal(err)
			}
			again := run
			again.Started = started.Add(time.Hour)
			got, err := s.Init(ctx, again)
			if err != nil || !got.Started.Equal(started) {
				t.Fatalf("a retried init gave %v, %v: want the first start kept", got.Started, err)
			}
			other := run
			other.VarsDigest = "v2"
			var me *runstore.MismatchError
			if _, err := s.Init(ctx, other); !errors.As(err, &me) || me.What != "vars" {
				t.Fatalf("init with other vars: %v, want a vars mismatch", err)
			}

			rec := &runstore.Record{Task: state.Task{ID: "dump", Status: state.Succeeded, Attempts: 2,
				Outputs: map[string]any{"path": "build/x.dump", "token": "hunter2-secret-value", "rows": 3.0}}}
			if err := s.Put(ctx, "r1", rec); err != nil {
				t.Fatal(err)
			}
			back, err := s.Get(ctx, "r1", "dump")
			if err != nil || back == nil {
				t.Fatalf("get: %v %v", back, err)
			}
			out := back.Outputs.(map[string]any)
			if out["path"] != "build/x.dump" || out["token"] != "***" || out["rows"] != 3.0 || back.Attempts != 2 || !back.Masked {
				t.Fatalf("record read back: %+v", back)
			}
			n := 2
			plan := &runstore.Record{Task: state.Task{ID: "fan", Status: state.Running}, Items: []any{"a", "b"}, Count: &n}
			inst := &runstore.Record{Task: state.Task{ID: "fan[1]", Status: state.Succeeded, Item: "b"}}
			for _, r := range []*runstore.Record{plan, inst} {
				if err := s.Put(ctx, "r1", r); err != nil {
					t.Fatal(err)
				}
			}
			gotPlan, _ := s.Get(ctx, "r1", "fan")
			insts, err := s.Instances(ctx, "r1", gotPlan)
			if err != nil || len(insts) != 2 || insts[0] != nil || insts[1] == nil || insts[1].Item != "b" {
				t.Fatalf("instances %v, %v: want [nil, fan[1]]", insts, err)
			}
			if missing, err := s.Get(ctx, "r1", "nope"); missing != nil || err != nil {
				t.Fatalf("a task with no record: %v, %v", missing, err)
			}
		})
	}
}

func TestTheLayoutIsTheDocumentedOne(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := runstore.Open(ctx, "file://"+dir+"/p/", objstore.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Init(ctx, runstore.Run{ID: "r"})
	s.Put(ctx, "r", &runstore.Record{Task: state.Task{ID: "a", Status: state.Succeeded}})
	s.Put(ctx, "r", &runstore.Record{Task: state.Task{ID: "fan[12]", Status: state.Succeeded}})
	work := t.TempDir()
	os.WriteFile(filepath.Join(work, "f"), []byte("x"), 0o644)
	if _, err := s.Upload(ctx, "r", work, map[string]any{"path": filepath.Join(work, "f")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"p/r/run.json", "p/r/tasks/a.json", "p/r/tasks/fan/12.json",
		"p/r/files/sha256/2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestFilesTravelVerifiedAndRelative(t *testing.T) {
	for name, s := range stores(t, nil) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			here := t.TempDir()
			os.MkdirAll(filepath.Join(here, "build", "book"), 0o755)
			os.WriteFile(filepath.Join(here, "build", "a.zip"), []byte("zip bytes"), 0o600)
			os.WriteFile(filepath.Join(here, "build", "book", "1.md"), []byte("# one"), 0o644)
			os.WriteFile(filepath.Join(here, "build", "book", "2.md"), []byte("# two"), 0o644)
			outside := filepath.Join(t.TempDir(), "elsewhere.txt")
			os.WriteFile(outside, []byte("stays"), 0o644)
			outputs := map[string]any{
				"path":  filepath.Join(here, "build", "a.zip"),
				"books": []any{map[string]any{"dir": filepath.Join(here, "build", "book")}},
				"other": outside,
				"text":  "not a path",
			}
			sh, err := s.Upload(ctx, "r", here, outputs)
			if err != nil {
				t.Fatal(err)
			}
			out := sh.Outputs.(map[string]any)
			if out["path"] != "build/a.zip" || out["books"].([]any)[0].(map[string]any)["dir"] != "build/book" || out["other"] != outside {
				t.Fatalf("outputs %v", out)
			}
			if len(sh.Files) != 3 || sh.Files[0].Path != "build/a.zip" || sh.Files[0].Mode != 0o600 || len(sh.Outside) != 1 {
				t.Fatalf("files %+v outside %v", sh.Files, sh.Outside)
			}
			there := t.TempDir()
			if err := s.Download(ctx, "r", sh.Files, there); err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(filepath.Join(there, "build", "book", "2.md")); string(data) != "# two" {
				t.Fatalf("downloaded %q", data)
			}
			local := runstore.Localize(sh.Outputs, sh.Files, there).(map[string]any)
			if local["path"] != filepath.Join(there, "build", "a.zip") || local["text"] != "not a path" ||
				local["books"].([]any)[0].(map[string]any)["dir"] != filepath.Join(there, "build", "book") {
				t.Fatalf("localized %v", local)
			}
			// A second download finds the files in place and leaves them.
			if err := s.Download(ctx, "r", sh.Files, there); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestADamagedBlobLeavesNothingAtItsPath(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	s, _ := runstore.Open(ctx, "file://"+root, objstore.Options{}, nil)
	here := t.TempDir()
	os.WriteFile(filepath.Join(here, "a.txt"), []byte("good bytes"), 0o644)
	sh, err := s.Upload(ctx, "r", here, filepath.Join(here, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(root, "r", "files", "sha256", sh.Files[0].SHA256)
	if err := os.WriteFile(blob, []byte("evil bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	there := t.TempDir()
	err = s.Download(ctx, "r", sh.Files, there)
	var he *runstore.HashError
	if !errors.As(err, &he) || !strings.Contains(err.Error(), "nothing was written") {
		t.Fatalf("download of a damaged blob: %v", err)
	}
	entries, _ := os.ReadDir(there)
	if len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
	// A file already at the path with another hash is replaced only by good bytes.
	os.WriteFile(filepath.Join(there, "a.txt"), []byte("mine"), 0o644)
	s.Download(ctx, "r", sh.Files, there)
	if data, _ := os.ReadFile(filepath.Join(there, "a.txt")); string(data) != "mine" {
		t.Fatalf("a damaged download replaced the file: %q", data)
	}
}

func TestPathsThatLeadOutAreRefused(t *testing.T) {
	root := t.TempDir()
	ctx := context.Background()
	s, _ := runstore.Open(ctx, "file://"+root, objstore.Options{}, nil)
	here := t.TempDir()
	os.WriteFile(filepath.Join(here, "a.txt"), []byte("payload"), 0o644)
	sh, err := s.Upload(ctx, "r", here, filepath.Join(here, "a.txt"))
	if err != nil {
		t.Fatal(err)
	}
	good := sh.Files[0]
	for _, tc := range []struct{ name, path string }{
		{"a path that climbs out", "../escaped.txt"},
		{"a path that climbs out after cleaning", "build/../../escaped.txt"},
		{"an absolute path", "/tmp/escaped.txt"},
		{"a link to a folder outside", "out/escaped.txt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			there := filepath.Join(parent, "work")
			os.Mkdir(there, 0o755)
			victim := t.TempDir()
			os.Symlink(victim, filepath.Join(there, "out"))
			f := good
			f.Path = tc.path
			err := s.Download(ctx, "r", []runstore.File{f}, there)
			var pe *runstore.PathError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a PathError", err)
			}
			for _, p := range []string{filepath.Join(parent, "escaped.txt"), filepath.Join(victim, "escaped.txt"), "/tmp/escaped.txt"} {
				if _, err := os.Stat(p); err == nil {
					t.Fatalf("%s was written", p)
				}
			}
		})
	}
	t.Run("a link to a folder inside is followed", func(t *testing.T) {
		there := t.TempDir()
		os.Mkdir(filepath.Join(there, "real"), 0o755)
		os.Symlink(filepath.Join(there, "real"), filepath.Join(there, "alias"))
		f := good
		f.Path = "alias/a.txt"
		if err := s.Download(ctx, "r", []runstore.File{f}, there); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(filepath.Join(there, "real", "a.txt")); string(data) != "payload" {
			t.Fatalf("got %q", data)
		}
	})
}

// Two execs of one task at once (a retried pod while the first still
// runs) each put whole records: a reader sees one of them, whole.
func TestConcurrentWritersOfOneRecordLeaveAWholeOne(t *testing.T) {
	for name, s := range stores(t, nil) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			big := strings.Repeat("x", 256<<10)
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := range 5 {
						rec := &runstore.Record{Task: state.Task{ID: "dump", Status: state.Succeeded,
							Outputs: map[string]any{"writer": fmt.Sprint(w, "-", i), "pad": big}}}
						if err := s.Put(ctx, "r", rec); err != nil {
							t.Error(err)
						}
						got, err := s.Get(ctx, "r", "dump")
						if err != nil || got == nil || got.Outputs.(map[string]any)["pad"] != big {
							t.Errorf("a reader saw a partial record: %v", err)
						}
					}
				}()
			}
			wg.Wait()
		})
	}
}
