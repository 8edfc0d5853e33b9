package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/testtools"
)

// s3Server is testtools.S3Server under the names these tests use.
type s3Server struct {
	endpoint string
	dir      string // the posix backend's root: one folder per bucket
	env      []string
}

func startS3(t *testing.T, buckets ...string) *s3Server {
	t.Helper()
	s := testtools.StartS3(t, buckets...)
	return &s3Server{endpoint: s.Endpoint, dir: s.Dir, env: s.Env}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// TestWeeklyBackupToAStrictS3Server runs the shipped recipe as a user
// would, against the server process: one complete, verified set; a second
// run sends nothing that is unchanged.
func TestWeeklyBackupToAStrictS3Server(t *testing.T) {
	s3 := startS3(t, "factory")
	dir := t.TempDir()
	copyTree(t, dir)
	args := []string{"apply", "recipes/weekly-backup.yaml", "--set", "target=s3://factory/weekly", "--set", "endpoint=" + s3.endpoint, "--set", "path_style=true"}
	res := runner(t, dir, baseEnv(s3.env...), args...)
	if res.code != 0 || !strings.Contains(res.stdout, "PASS: backup set s3://factory/weekly/") || !strings.Contains(res.stdout, "3 uploaded, 0 unchanged") {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	sets, _ := filepath.Glob(filepath.Join(s3.dir, "factory/weekly/*/manifest.json"))
	if len(sets) != 1 {
		t.Fatalf("manifests on the server: %v", sets)
	}
	var m struct {
		Objects []struct {
			Key, SHA256 string
			Size        int64
		}
	}
	data, _ := os.ReadFile(sets[0])
	if err := json.Unmarshal(data, &m); err != nil || len(m.Objects) != 3 {
		t.Fatalf("manifest: %s", data)
	}
	for _, o := range m.Objects {
		stored := filepath.Join(filepath.Dir(sets[0]), o.Key)
		if got := fileSum(t, stored); got != o.SHA256 {
			t.Errorf("%s: stored sha256 %s, manifest says %s", o.Key, got, o.SHA256)
		}
	}
	again := runner(t, dir, baseEnv(s3.env...), args...)
	if again.code != 0 || !strings.Contains(again.stdout, "0 uploaded, 3 unchanged") {
		t.Fatalf("second run: exit %d\n%s", again.code, again.stdout)
	}
}

func TestS3ErrorsSayWhatToDo(t *testing.T) {
	s3 := startS3(t, "factory")
	dir := t.TempDir()
	copyTree(t, dir)
	cases := []struct {
		name, target, want string
		env                []string
	}{
		{"wrong secret key", "s3://factory/weekly", "check AWS_SECRET_ACCESS_KEY (a stray space or newline from copy-paste), the machine's clock",
			[]string{"AWS_ACCESS_KEY_ID=e2e-access-key", "AWS_SECRET_ACCESS_KEY=not-the-secret", "AWS_REGION=us-east-1"}},
		{"wrong region", "s3://factory/weekly", `the bucket "factory" is not in region eu-west-1: set AWS_REGION`,
			[]string{"AWS_ACCESS_KEY_ID=e2e-access-key", "AWS_SECRET_ACCESS_KEY=e2e-secret-key-0123", "AWS_REGION=eu-west-1"}},
		{"missing bucket", "s3://nonesuch/weekly", `bucket "nonesuch" does not exist`, s3.env},
		{"unknown access key", "s3://factory/weekly", "S3 does not know this access key",
			[]string{"AWS_ACCESS_KEY_ID=who-is-this", "AWS_SECRET_ACCESS_KEY=e2e-secret-key-0123", "AWS_REGION=us-east-1"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runner(t, dir, baseEnv(c.env...), "apply", "recipes/weekly-backup.yaml", "--only", "upload",
				"--set", "target="+c.target, "--set", "endpoint="+s3.endpoint, "--set", "path_style=true")
			if res.code != 1 || !strings.Contains(res.stdout, c.want) {
				t.Fatalf("exit %d, want 1 and …%s…:\n%s", res.code, c.want, res.stdout)
			}
			if strings.Contains(res.stdout, "e2e-secret-key-0123") {
				t.Error("the secret key reached the output")
			}
		})
	}
}

// faultProxy stands between runner and the S3 server and breaks requests
// as decide says: fail with 503, reset the connection halfway through the
// request body, or answer slowly.
type faultProxy struct {
	proxy  *httputil.ReverseProxy
	n      atomic.Int64
	decide func(n int64, r *http.Request) string // "", "503", "reset", "slow"
}

func newFaultProxy(t *testing.T, target string, decide func(int64, *http.Request) string) string {
	t.Helper()
	u, _ := url.Parse(target)
	p := &faultProxy{proxy: httputil.NewSingleHostReverseProxy(u), decide: decide}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: p}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch p.decide(p.n.Add(1), r) {
	case "503":
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>`)
		return
	case "reset":
		io.CopyN(io.Discard, r.Body, r.ContentLength/2)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			if tcp, ok := conn.(*net.TCPConn); ok {
				tcp.SetLinger(0) // close with RST, as a dropped connection does
			}
			conn.Close()
		}
		return
	case "slow":
		time.Sleep(300 * time.Millisecond)
	}
	p.proxy.ServeHTTP(w, r)
}

const faultRecipe = `version: 1
vars: {endpoint: "", file: ""}
tasks:
  upload:
    uses: s3put
    retry: {attempts: 3, delay: 100ms, on: [transient]}
    with:
      files: ["${{ vars.file }}"]
      to: s3://factory/faults/set1/
      endpoint: ${{ vars.endpoint }}
      path_style: true
      part_size: 5MiB
      concurrency: 2
`

func bigFile(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "graph.dump")
	data := make([]byte, 13<<20)
	for i := range data {
		data[i] = byte(i*7 + i>>11)
	}
	os.WriteFile(path, data, 0o644)
	return path
}

func TestUploadSurvivesFaults(t *testing.T) {
	s3 := startS3(t, "factory")
	dir := t.TempDir()
	src := bigFile(t, dir)
	writeFile(t, filepath.Join(dir, "r.yaml"), faultRecipe)
	var resets atomic.Int64
	endpoint := newFaultProxy(t, s3.endpoint, func(n int64, r *http.Request) string {
		switch {
		case n <= 3:
			return "503" // a burst of 503s at the start
		case r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "2" && resets.Add(1) == 1:
			return "reset" // the connection drops in the middle of a part
		case n%4 == 0:
			return "slow"
		}
		return ""
	})
	res := runner(t, dir, baseEnv(s3.env...), "apply", "r.yaml", "--set", "endpoint="+endpoint, "--set", "file="+src)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	if resets.Load() == 0 {
		t.Fatal("the reset fault was never injected")
	}
	stored := filepath.Join(s3.dir, "factory/faults/set1/graph.dump")
	if fileSum(t, stored) != fileSum(t, src) {
		t.Fatal("the stored bytes differ from the source")
	}
	if _, err := os.Stat(filepath.Join(s3.dir, "factory/faults/set1/manifest.json")); err != nil {
		t.Fatal("no manifest after a successful upload")
	}
}

func TestUploadGivesUpCleanlyWhenFaultsNeverStop(t *testing.T) {
	s3 := startS3(t, "factory")
	dir := t.TempDir()
	src := bigFile(t, dir)
	writeFile(t, filepath.Join(dir, "r.yaml"), faultRecipe)
	endpoint := newFaultProxy(t, s3.endpoint, func(n int64, r *http.Request) string {
		if r.Method == http.MethodPut || r.Method == http.MethodPost {
			return "503"
		}
		return ""
	})
	res := runner(t, dir, baseEnv(s3.env...), "apply", "r.yaml", "--set", "endpoint="+endpoint, "--set", "file="+src)
	if res.code != 1 || !strings.Contains(res.stdout, "✗ upload failed") || !strings.Contains(res.stdout, "3 tries") || !strings.Contains(res.stdout, "503") {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	if _, err := os.Stat(filepath.Join(s3.dir, "factory/faults/set1/manifest.json")); err == nil {
		t.Fatal("a manifest was written for a set whose upload failed")
	}
}
