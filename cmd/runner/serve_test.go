package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/serve/api"
	"github.com/novelfactory/runner/internal/serve/web"
)

// crashRecipe counts its first task's runs, then blocks in its second
// until the file release exists.
const crashRecipe = `version: 1
vars:
  dir: .
tasks:
  first:
    uses: shell
    with: {run: 'echo x >> ${{ vars.dir }}/first.count'}
  second:
    uses: shell
    needs: [first]
    with:
      run: |
        until [ -e ${{ vars.dir }}/release ]; do sleep 0.02; done
        echo x >> ${{ vars.dir }}/second.count
`

// serveToken is the operator token the servers under test accept.
const serveToken = "serve-test-operator-token-0123456789"

// server is a `runner serve` process under test.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	log  *bytes.Buffer
}

// startServer starts runner serve on dir and waits until it answers.
func startServer(t *testing.T, dir string, env []string) *server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &server{t: t, base: "http://" + addr, log: &bytes.Buffer{}}
	s.cmd = exec.Command(runnerBin, "serve", dir, "--listen", addr, "--grace", "0s")
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = append(env, web.EnvOperatorToken+"="+serveToken), s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.cmd.Process.Kill(); s.cmd.Wait() })
	waitUntil(t, "the server answers", func() bool {
		req, _ := http.NewRequest("GET", s.base+"/api/v1/recipes", nil)
		req.Header.Set("Authorization", "Bearer "+serveToken)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	return s
}

// call sends a request to the API and decodes its JSON answer into out.
func (s *server) call(method, path string, body, out any) int {
	s.t.Helper()
	data, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(data))
	req.Header.Set("Authorization", "Bearer "+serveToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v\n%s", method, path, err, s.log)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp.StatusCode
}

// waitUntil polls cond: what it waits for is another process's doing.
// The deadline only keeps a broken test from hanging.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestAServerKilledDuringARunShowsItInterruptedAndResumesIt(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), strings.Replace(crashRecipe, "dir: .", "dir: "+dir, 1))
	env := baseEnv("XDG_RUNTIME_DIR=" + t.TempDir())

	srv := startServer(t, dir, env)
	var started api.RunSummary
	if code := srv.call("POST", "/api/v1/recipes/r/runs", map[string]any{}, &started); code != 201 || started.ID == "" {
		t.Fatalf("start: %d %+v\n%s", code, started, srv.log)
	}
	waitUntil(t, "the first task ran", func() bool {
		var run api.Run
		srv.call("GET", "/api/v1/runs/"+started.ID, nil, &run)
		return len(run.Tasks) == 2 && run.Tasks[0].Status == "succeeded" && run.Tasks[1].Status == "running"
	})
	srv.cmd.Process.Signal(syscall.SIGKILL)
	srv.cmd.Wait()

	srv = startServer(t, dir, env)
	var run api.Run
	srv.call("GET", "/api/v1/runs/"+started.ID, nil, &run)
	if run.Status != api.StatusInterrupted || !strings.Contains(strings.Join(run.Actions, ","), "resume") {
		t.Fatalf("after kill -9 and a restart the run is %s with actions %v, want interrupted and resumable", run.Status, run.Actions)
	}
	writeFile(t, filepath.Join(dir, "release"), "")
	var resumed api.RunSummary
	// The killed server's last sleep may hold the lock's process group
	// for a moment: a resume refused as locked is tried again.
	waitUntil(t, "the resume is accepted", func() bool {
		code := srv.call("POST", "/api/v1/runs/"+started.ID+"/resume", nil, &resumed)
		return code == 202
	})
	waitUntil(t, "the resumed run succeeded", func() bool {
		srv.call("GET", "/api/v1/runs/"+started.ID, nil, &run)
		return run.Status == "succeeded"
	})
	if n := lines(t, filepath.Join(dir, "first.count")); n != 1 {
		t.Errorf("first ran %d times, want 1: a succeeded task must not run again", n)
	}
	if n := lines(t, filepath.Join(dir, "second.count")); n != 1 {
		t.Errorf("second ran %d times, want 1", n)
	}
	if run.Resumes != 1 {
		t.Errorf("the run was resumed %d times, want 1", run.Resumes)
	}
	var metrics bytes.Buffer
	req, _ := http.NewRequest("GET", srv.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+serveToken) // /metrics needs a token when tokens are set
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics.ReadFrom(resp.Body)
	resp.Body.Close()
	if !strings.Contains(metrics.String(), `runner_runs_total{recipe="r",status="succeeded"} 1`) {
		t.Errorf("/metrics does not count the run:\n%s", grepLines(metrics.String(), "runner_"))
	}
}

func TestServeStopsGracefullyOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "r.yaml"), strings.Replace(crashRecipe, "dir: .", "dir: "+dir, 1))
	srv := startServer(t, dir, baseEnv("XDG_RUNTIME_DIR="+t.TempDir()))
	var started api.RunSummary
	srv.call("POST", "/api/v1/recipes/r/runs", map[string]any{}, &started)
	waitUntil(t, "the second task runs", func() bool {
		var run api.Run
		srv.call("GET", "/api/v1/runs/"+started.ID, nil, &run)
		return len(run.Tasks) == 2 && run.Tasks[1].Status == "running"
	})
	srv.cmd.Process.Signal(syscall.SIGTERM)
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("runner serve after SIGTERM: %v\n%s", err, srv.log)
	}
	run := latestRun(t, filepath.Join(dir, ".runner"))
	if run.ID != started.ID || run.Status != "cancelled" || run.Task("first").Status != "succeeded" {
		t.Errorf("after SIGTERM: run %s %s, first %s; want cancelled with first succeeded", run.ID, run.Status, run.Task("first").Status)
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return fmt.Sprint(strings.Join(out, "\n"))
}
