package tasks_test

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/novelfactory/runner/internal/backupset"
)

// damage rewrites the manifest of a set in a file:// target.
func damage(t *testing.T, dir, set string, edit func([]byte) []byte) {
	t.Helper()
	p := filepath.Join(dir, "offsite/weekly", set, "manifest.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, edit(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestOneDamagedManifestBlocksNothing: one unreadable manifest.json in the
// oldest set made s3get latest, s3get of a named intact set and prune all
// fail.
func TestOneDamagedManifestBlocksNothing(t *testing.T) {
	damages := map[string]func([]byte) []byte{
		"truncated": func(b []byte) []byte { return b[:len(b)/2] },
		"bit rot":   func(b []byte) []byte { b[10] ^= 0x40; return b },
		"empty":     func([]byte) []byte { return nil },
		"not json":  func([]byte) []byte { return []byte("\x00\x01garbage") },
		"a size that is not the object's": func(b []byte) []byte {
			return []byte(strings.Replace(string(b), `"size": 12582915`, `"size": 12582914`, 1))
		},
	}
	for name, edit := range damages {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			backupSets(t, dir, nil, "file://offsite/weekly/", "20261115", "20261122", "20261129")
			damage(t, dir, "20261115", edit)

			for _, with := range []map[string]any{
				{"from": "file://offsite/weekly/", "latest": true, "dest": "r1"},
				{"from": "file://offsite/weekly/", "set": "20261122", "dest": "r2"},
			} {
				if _, log, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, with); err != nil {
					t.Fatalf("s3get %v: %v\n%s", with, err, log)
				}
			}
			_, _, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "set": "20261115", "dest": "r3"})
			if err == nil || !strings.Contains(err.Error(), "set 20261115 under file://offsite/weekly/ is damaged") {
				t.Fatalf("the damaged set itself: %v", err)
			}
			out, log, err := runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/weekly/", "keep_last": 1})
			if err != nil {
				t.Fatalf("prune: %v", err)
			}
			if d := out["damaged"].([]string); len(d) != 1 || d[0] != "20261115" || !strings.Contains(log, "keep   20261115 (damaged:") {
				t.Fatalf("prune did not report the damaged set: %v\n%s", out, log)
			}
			old := time.Now().Add(-48 * time.Hour)
			filepath.Walk(filepath.Join(dir, "offsite/weekly/20261115"), func(p string, _ os.FileInfo, _ error) error { os.Chtimes(p, old, old); return nil })
			out, _, err = runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/weekly/", "keep_last": 1, "remove_damaged": true, "grace": "1h"})
			if err != nil || !strings.Contains(strings.Join(out["deleted"].([]string), ","), "20261115") {
				t.Fatalf("remove_damaged: %v %v", out, err)
			}
		})
	}
}

// TestAManifestOfANewerRunnerWithAnExtraFieldReads: the compatibility rule
// — fields are only added within a version, and readers ignore the ones
// they do not know.
func TestAManifestOfANewerRunnerWithAnExtraFieldReads(t *testing.T) {
	dir := t.TempDir()
	backupSets(t, dir, nil, "file://offsite/weekly/", "20261122")
	damage(t, dir, "20261122", func(b []byte) []byte {
		return []byte(strings.Replace(string(b), `"version": 1,`, `"version": 1, "compression": "zstd", "signer": {"key": "x"},`, 1))
	})
	if _, log, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "latest": true, "dest": "r"}); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	damage(t, dir, "20261122", func(b []byte) []byte { return []byte(strings.Replace(string(b), `"version": 1,`, `"version": 2,`, 1)) })
	_, _, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "latest": true, "dest": "r"})
	if err == nil || !strings.Contains(err.Error(), "manifest version 2; this runner reads version 1") {
		t.Fatalf("a version-2 manifest: %v", err)
	}
}

// TestAHostileManifestIsCheckedBeforeAnythingIsAllocated: an absurd size
// killed runner with a Go out-of-memory dump; a negative one was accepted
// ("verified (-5 B)").
func TestAHostileManifestIsCheckedBeforeAnythingIsAllocated(t *testing.T) {
	for name, c := range map[string]struct{ from, to, want string }{
		"absurd size":   {`"size": 12582915`, `"size": 4611686018427387904`, "the manifest says 4611686018427387904"},
		"negative size": {`"size": 12582915`, `"size": -5`, "a negative size"},
		"escaping key":  {`"key": "graph.dump"`, `"key": "../../graph.dump"`, "not a key inside the set"},
		"no sha256":     {`"sha256": "`, `"sha256": "zz`, "no SHA-256"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			backupSets(t, dir, nil, "file://offsite/weekly/", "20261122")
			damage(t, dir, "20261122", func(b []byte) []byte { return []byte(strings.Replace(string(b), c.from, c.to, 1)) })
			for _, with := range []map[string]any{
				{"from": "file://offsite/weekly/", "latest": true, "dest": "r"},
				{"from": "file://offsite/weekly/20261122/", "dest": "r"},
			} {
				_, _, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, with)
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("%v: err = %v, want …%s…", with, err, c.want)
				}
			}
			if entries, _ := os.ReadDir(filepath.Join(dir, "r")); len(entries) != 0 {
				t.Fatalf("dest got %v", entries)
			}
		})
	}
}

// TestS3GetNeverWritesThroughALinkInDest: s3get wrote through a link
// planted in its dest.
func TestS3GetNeverWritesThroughALinkInDest(t *testing.T) {
	outside := t.TempDir()
	for name, plant := range map[string]func(dest string){
		"the file":         func(dest string) { os.Symlink(filepath.Join(outside, "graph.dump"), filepath.Join(dest, "graph.dump")) },
		"a folder above":   func(dest string) { os.Symlink(outside, filepath.Join(dest, "sub")) },
		"a relative climb": func(dest string) { os.Symlink("../../..", filepath.Join(dest, "sub")) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			src := filepath.Join(dir, "src")
			os.MkdirAll(filepath.Join(src, "sub"), 0o755)
			os.WriteFile(filepath.Join(src, "graph.dump"), []byte("graph"), 0o644)
			os.WriteFile(filepath.Join(src, "sub/Pilot-episodes.zip"), []byte("zip"), 0o644)
			if _, _, err := runTaskEnv(context.Background(), t, "s3put", dir, nil, map[string]any{"src": "src", "to": "file://offsite/weekly/20261122/"}); err != nil {
				t.Fatal(err)
			}
			dest := filepath.Join(dir, "restore")
			os.Mkdir(dest, 0o755)
			plant(dest)
			_, _, err := runTaskEnv(context.Background(), t, "s3get", dir, nil, map[string]any{"from": "file://offsite/weekly/", "latest": true, "dest": "restore"})
			if err == nil || !strings.Contains(err.Error(), "is a symlink in dest") {
				t.Fatalf("err = %v", err)
			}
			if entries, _ := os.ReadDir(outside); len(entries) != 0 {
				t.Fatalf("written outside dest: %v", entries)
			}
		})
	}
}

// TestPruneNeverDeletesWhatRunnerDidNotWrite: with target one level too
// high, prune deleted unrelated data and whole trees of complete backups,
// and reported success.
func TestPruneNeverDeletesWhatRunnerDidNotWrite(t *testing.T) {
	dir := t.TempDir()
	backupSets(t, dir, nil, "file://offsite/weekly/", "20261115", "20261122")
	os.MkdirAll(filepath.Join(dir, "offsite/photos"), 0o755)
	os.WriteFile(filepath.Join(dir, "offsite/photos/wedding.jpg"), []byte("not a backup"), 0o644)
	old := time.Now().Add(-30 * 24 * time.Hour)
	filepath.Walk(filepath.Join(dir, "offsite"), func(p string, _ os.FileInfo, _ error) error { os.Chtimes(p, old, old); return nil })

	_, _, err := runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/", "keep_last": 1})
	if err == nil || !strings.Contains(err.Error(), "photos/") || !strings.Contains(err.Error(), "is target one level too high") {
		t.Fatalf("err = %v", err)
	}
	for _, f := range []string{"offsite/photos/wedding.jpg", "offsite/weekly/20261115/manifest.json", "offsite/weekly/20261122/graph.dump"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s was deleted", f)
		}
	}
	// Loose objects beside the sets are not runner's either.
	os.WriteFile(filepath.Join(dir, "offsite/weekly/README.txt"), []byte("hands off"), 0o644)
	_, _, err = runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/weekly/", "keep_last": 1})
	if err == nil || !strings.Contains(err.Error(), "README.txt") {
		t.Fatalf("err = %v", err)
	}
}

func TestPruneRefusesAGraceShorterThanAnUpload(t *testing.T) {
	for _, grace := range []string{"0s", "59m"} {
		_, _, err := runTaskEnv(context.Background(), t, "prune", t.TempDir(), nil, map[string]any{"target": "file://weekly/", "keep_last": 1, "grace": grace})
		if err == nil || !strings.Contains(err.Error(), "may still be uploading; use at least 1h") {
			t.Fatalf("grace %s: %v", grace, err)
		}
	}
}

// TestPruneRemovesWhatKilledUploadsLeft: a killed s3put to file:// left
// its partial object, and a killed multipart upload its parts, for ever.
func TestPruneRemovesWhatKilledUploadsLeft(t *testing.T) {
	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		backupSets(t, dir, nil, "file://offsite/weekly/", "20261122")
		// A killed s3put: its marker (written first) and a partial object;
		// beside it a user's file that only looks like a temp file.
		partial := filepath.Join(dir, "offsite/weekly/20261129/.graph.dump.tmp-2854021aa0bc")
		os.MkdirAll(filepath.Dir(partial), 0o755)
		os.WriteFile(filepath.Join(filepath.Dir(partial), backupset.MarkerName), []byte(`{"version":1,"keys":["graph.dump"]}`), 0o644)
		os.WriteFile(partial, make([]byte, 1<<20), 0o644)
		lookalike := filepath.Join(dir, "offsite/weekly/20261129/.notes.txt.tmp-0123456789ab")
		os.WriteFile(lookalike, []byte("a user's"), 0o644)
		out, _, err := runTaskEnv(context.Background(), t, "prune", dir, nil, map[string]any{"target": "file://offsite/weekly/", "keep_last": 1})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(partial); err == nil || len(out["abandoned"].([]string)) != 1 {
			t.Fatalf("the partial object is still there: %v", out)
		}
		if _, err := os.Stat(lookalike); err != nil {
			t.Fatal("a file of no object runner writes was removed as a killed run's")
		}
	})
	t.Run("s3", func(t *testing.T) {
		// The server's clock is two days behind, so that an upload started
		// now counts as started two days ago.
		backend := s3mem.New()
		backend.CreateBucket("factory")
		srv := httptest.NewServer(gofakes3.New(backend, gofakes3.WithTimeSource(lagging{48 * time.Hour}), gofakes3.WithTimeSkewLimit(0)).Server())
		t.Cleanup(srv.Close)
		env := []string{"AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_REGION=us-east-1", "AWS_ENDPOINT_URL_S3=" + srv.URL}
		dir := t.TempDir()
		backupSets(t, dir, env, "s3://factory/weekly/", "20261122")
		cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"))
		if err != nil {
			t.Fatal(err)
		}
		client := s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.BaseEndpoint, o.UsePathStyle = aws.String(srv.URL), true
			o.Credentials = aws.AnonymousCredentials{}
		})
		if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("factory"), Key: aws.String("weekly/20261129/" + backupset.MarkerName),
			Body: strings.NewReader(`{"version":1,"keys":["graph.dump"]}`)}); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"weekly/20261129/graph.dump", "weekly/20261129/someone-elses.bin"} {
			if _, err := client.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: aws.String("factory"), Key: aws.String(key)}); err != nil {
				t.Fatal(err)
			}
		}
		out, log, err := runTaskEnv(context.Background(), t, "prune", dir, env, map[string]any{"target": "s3://factory/weekly/", "keep_last": 1, "path_style": true})
		if err != nil {
			t.Fatal(err)
		}
		if a := out["abandoned"].([]string); len(a) != 1 || !strings.Contains(a[0], "weekly/20261129/graph.dump") {
			t.Fatalf("abandoned %v\n%s", a, log)
		}
		left, _ := client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("factory")})
		if len(left.Uploads) != 1 || aws.ToString(left.Uploads[0].Key) != "weekly/20261129/someone-elses.bin" {
			t.Fatalf("uploads left: %v: only the one runner did not start should be", left.Uploads)
		}
	})
}

// lagging is a clock behind the real one.
type lagging struct{ by time.Duration }

func (l lagging) Now() time.Time                  { return time.Now().Add(-l.by) }
func (l lagging) Since(t time.Time) time.Duration { return l.Now().Sub(t) }
