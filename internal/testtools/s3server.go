package testtools

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// S3Server is a separate, strict S3 server process: versitygw with its
// posix backend, which checks signatures, regions and checksums as AWS
// does. .ci/run installs it (go install …/versitygw@v1.8.0).
type S3Server struct {
	Endpoint string   // http://127.0.0.1:PORT
	Dir      string   // the posix backend's root: one folder per bucket, one file per object
	Env      []string // the credentials and region a client needs
}

// StartS3 starts versitygw ($RUNNER_TEST_VERSITYGW, else on PATH) with
// the given buckets, and stops it when the test ends.
func StartS3(t testing.TB, buckets ...string) *S3Server {
	t.Helper()
	bin := os.Getenv("RUNNER_TEST_VERSITYGW")
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("versitygw"); err != nil {
			t.Fatal("versitygw not found: go install github.com/versity/versitygw/cmd/versitygw@v1.8.0 (as .ci/run does), or set RUNNER_TEST_VERSITYGW")
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	for _, b := range buckets {
		if err := os.Mkdir(filepath.Join(dir, b), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "--port", addr, "--access", "e2e-access-key", "--secret", "e2e-secret-key-0123", "--region", "us-east-1", "posix", dir)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; ; i++ { // wait until it accepts connections
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("versitygw does not listen on %s: %v", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &S3Server{Endpoint: "http://" + addr, Dir: dir, Env: []string{
		"AWS_ACCESS_KEY_ID=e2e-access-key", "AWS_SECRET_ACCESS_KEY=e2e-secret-key-0123", "AWS_REGION=us-east-1",
	}}
}
