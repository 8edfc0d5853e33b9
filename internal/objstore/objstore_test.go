package objstore_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/novelfactory/runner/internal/errclass"
	"github.com/novelfactory/runner/internal/objstore"
)

// s3Server starts an in-process S3 server (gofakes3) over plain HTTP, with
// one bucket, and returns a store that reaches it with the real SDK.
func s3Server(t *testing.T, opt objstore.Options) *objstore.S3Store {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("backups"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	opt.Endpoint = srv.URL
	opt.PathStyle = true
	opt.Environ = append(opt.Environ, "AWS_ACCESS_KEY_ID=test-key", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_REGION=us-east-1")
	s, err := objstore.NewS3(context.Background(), "backups", opt)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type bytesSource struct{ *bytes.Reader }

func (b bytesSource) Size() int64 { return b.Reader.Size() }

func source(data []byte) objstore.Source { return bytesSource{bytes.NewReader(data)} }

func sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func random(n int) []byte {
	rng := rand.New(rand.NewPCG(uint64(n), 9))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestStoresShareSemantics runs the same cases on file:// and on s3://.
func TestStoresShareSemantics(t *testing.T) {
	stores := map[string]func(t *testing.T) objstore.Store{
		"file": func(t *testing.T) objstore.Store { return &objstore.FileStore{Root: t.TempDir()} },
		"s3": func(t *testing.T) objstore.Store {
			return s3Server(t, objstore.Options{PartSize: 5 << 20, Concurrency: 3})
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			s := open(t)
			small := []byte("제1화 첫 번째 문")
			big := random(12<<20 + 7) // three parts of 5 MiB: a multipart upload on S3
			var progress atomic.Int64
			for key, data := range map[string][]byte{"weekly/20261129/a.zip": small, "weekly/20261129/graph.dump": big, "daily/x": small} {
				if err := s.Put(ctx, key, source(data), sum(data), func(n int64) { progress.Store(n) }); err != nil {
					t.Fatalf("put %s: %v", key, err)
				}
			}
			if progress.Load() == 0 {
				t.Error("no progress reported")
			}
			obj, err := s.Stat(ctx, "weekly/20261129/graph.dump")
			if err != nil || obj.Size != int64(len(big)) || obj.SHA256 != sum(big) {
				t.Fatalf("stat: %+v %v", obj, err)
			}
			r, err := s.Open(ctx, "weekly/20261129/graph.dump")
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(r)
			r.Close()
			if !bytes.Equal(got, big) {
				t.Fatalf("read back %d bytes, differ from the %d put", len(got), len(big))
			}
			list, err := s.List(ctx, "weekly/")
			if err != nil || len(list) != 2 || list[0].Key != "weekly/20261129/a.zip" || list[1].Size != int64(len(big)) {
				t.Fatalf("list: %+v %v", list, err)
			}
			if err := s.Delete(ctx, []string{"weekly/20261129/a.zip", "weekly/never-was"}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Stat(ctx, "weekly/20261129/a.zip"); !errors.Is(err, objstore.ErrNotExist) {
				t.Fatalf("stat of a deleted object: %v", err)
			}
			if _, err := s.Open(ctx, "nope"); !errors.Is(err, objstore.ErrNotExist) {
				t.Fatalf("open of a missing object: %v", err)
			}
		})
	}
}

func TestFilePutIsAtomicAndChecked(t *testing.T) {
	root := t.TempDir()
	s := &objstore.FileStore{Root: root}
	ctx := context.Background()
	s.Put(ctx, "set/a.zip", source([]byte("last good")), sum([]byte("last good")), nil)
	err := s.Put(ctx, "set/a.zip", source([]byte("new bytes")), sum([]byte("other bytes")), nil)
	if err == nil || !strings.Contains(err.Error(), "changed while it was copied") {
		t.Fatalf("put with a wrong sum: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "set/a.zip")); string(data) != "last good" {
		t.Fatalf("object = %q after a failed put", data)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "set"))
	if len(entries) != 1 {
		t.Fatalf("temp files left: %v", entries)
	}
	for _, bad := range []string{"../escape", "/abs", "a/../../b"} {
		if err := s.Put(ctx, bad, source(nil), "", nil); err == nil {
			t.Errorf("key %q accepted", bad)
		}
	}
}

func TestS3ErrorsSayWhatToDo(t *testing.T) {
	s := s3Server(t, objstore.Options{})
	ctx := context.Background()
	other, err := objstore.NewS3(ctx, "no-such-bucket", objstore.Options{Endpoint: strings.TrimSuffix(objstore.EndpointOf(t, s), "/"), PathStyle: true,
		Environ: []string{"AWS_ACCESS_KEY_ID=k", "AWS_SECRET_ACCESS_KEY=s", "AWS_REGION=us-east-1"}})
	if err != nil {
		t.Fatal(err)
	}
	err = other.Put(ctx, "x", source([]byte("x")), sum([]byte("x")), nil)
	if err == nil || !strings.Contains(err.Error(), `bucket "no-such-bucket" does not exist`) {
		t.Fatalf("got %v", err)
	}
	if errclass.Of(err) == errclass.Transient {
		t.Error("a missing bucket is not worth retrying")
	}
}

func TestS3ConfigurationMistakesAreCaughtEarly(t *testing.T) {
	ctx := context.Background()
	cases := map[string][]string{
		"AWS_CA_BUNDLE is set to /no/such/ca.pem, which cannot be read": {"AWS_CA_BUNDLE=/no/such/ca.pem", "AWS_REGION=us-east-1"},
		"starts or ends with whitespace":                                {"AWS_ACCESS_KEY_ID=k", "AWS_SECRET_ACCESS_KEY=secret\n", "AWS_REGION=us-east-1"},
	}
	for want, env := range cases {
		if _, err := objstore.NewS3(ctx, "b", objstore.Options{Environ: env}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v: got %v, want …%s…", env, err, want)
		}
	}
}

func TestParseTargets(t *testing.T) {
	cases := map[string]objstore.Location{
		"s3://v11-factory-backup/weekly": {Scheme: "s3", Bucket: "v11-factory-backup", Prefix: "weekly/"},
		"s3://b":                         {Scheme: "s3", Bucket: "b"},
		"file://./offsite":               {Scheme: "file", Dir: "./offsite"},
		"file:///var/backups/":           {Scheme: "file", Dir: "/var/backups/"},
	}
	for in, want := range cases {
		if got, err := objstore.Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"s3:/b", "http://x", "file://", "offsite"} {
		if _, err := objstore.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

// countingSource counts the bytes read from it.
type countingSource struct {
	objstore.Source
	n atomic.Int64
}

func (c *countingSource) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.Source.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// TestS3ReadsEachByteAsFewTimesAsPossible: a single put reads the data once
// (to send it); a multipart put twice (to hash each part, then to send it).
// A third read would mean the SDK hashes the body again for its signature.
func TestS3ReadsEachByteAsFewTimesAsPossible(t *testing.T) {
	s := s3Server(t, objstore.Options{PartSize: 5 << 20, Concurrency: 2})
	ctx := context.Background()
	for _, c := range []struct {
		size  int
		reads int64
	}{{1 << 20, 1}, {11 << 20, 2}} {
		data := random(c.size)
		src := &countingSource{Source: source(data)}
		if err := s.Put(ctx, "k", src, sum(data), nil); err != nil {
			t.Fatal(err)
		}
		if got := src.n.Load(); got != c.reads*int64(c.size) {
			t.Errorf("%d bytes: read %d bytes (%.1f×), want %d×", c.size, got, float64(got)/float64(c.size), c.reads)
		}
	}
}
