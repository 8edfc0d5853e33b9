package web

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// slowTask is added to the test's copy of hello.yaml so that a browser can
// watch a log line arrive while the task runs: it prints one line, waits
// for the test to create RELEASE, then prints another.
const slowTask = `
  slow:
    uses: shell
    needs: [report]
    with:
      run: |
        echo "줄 1"
        until [ -e RELEASE ]; do sleep 0.05; done
        echo "줄 2 — 끝"
`

// TestBrowserAgainstRunnerServe runs the real binary on a copy of
// recipes/hello.yaml and a finance CSV, and drives it from Chromium.
func TestBrowserAgainstRunnerServe(t *testing.T) {
	ctx := newBrowser(t)
	root, err := filepath.Abs(filepath.Join("..", "..", "..")) // tests run in their package's folder
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "runner")
	build := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/runner")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	proj := filepath.Join(dir, "factory")
	hello, err := os.ReadFile(filepath.Join(root, "recipes", "hello.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	release := filepath.Join(dir, "release")
	write(t, filepath.Join(proj, "recipes", "hello.yaml"), string(hello)+strings.Replace(slowTask, "RELEASE", release, 1))
	if err := os.CopyFS(filepath.Join(proj, "examples", "factory"), os.DirFS(filepath.Join(root, "examples", "factory"))); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("date,cost,sales,profit\n")
	rows := 0
	for d := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC); !d.After(time.Date(2026, 3, 12, 0, 0, 0, 0, time.UTC)); d = d.AddDate(0, 0, 1) {
		cost, sales := 50000+(rows*7919)%40000, 90000+(rows*104729)%80000
		fmt.Fprintf(&csv, "%s,%d,%d,%d\n", d.Format("2006-01-02"), cost, sales, sales-cost)
		rows++
	}
	write(t, filepath.Join(proj, "metrics", "finance.csv"), csv.String())
	write(t, filepath.Join(proj, "report.yaml"), "version: 1\nname: finance-report\ntasks:\n  report:\n    uses: report\n    with:\n      src: metrics/finance.csv\n      unit: 원\n      dest: out/finance.html\n")
	apply := exec.CommandContext(t.Context(), bin, "apply", "report.yaml")
	apply.Dir = proj
	if out, err := apply.CombinedOutput(); err != nil {
		t.Fatalf("runner apply report.yaml: %v\n%s", err, out)
	}
	report, err := os.ReadFile(filepath.Join(proj, "out", "finance.html"))
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	serve := exec.Command(bin, "serve", "recipes", "--listen", addr, "--finance-csv", "metrics/finance.csv")
	serve.Dir = proj
	serve.Env = append(os.Environ(), EnvOperatorToken+"="+opToken, EnvReadToken+"="+readToken)
	logf, err := os.Create(filepath.Join(t.ArtifactDir(), "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	serve.Stdout, serve.Stderr = logf, logf
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
		logf.Close()
	})
	base := "http://" + addr
	waitHTTP(t, base+"/signin")

	signInAndRunHello(t, ctx, base, opToken, "publish", "true")
	// The log of slow arrives line by line: the second line comes while the page is open.
	run(t, ctx, "the first line", waitJS(`(document.querySelector("#task-slow pre")||{textContent:""}).textContent.includes("줄 1")`))
	if partial := get(t, ctx, "the log so far", chromedp.TextContent(chromedp.CSS("#task-slow pre"))); strings.Contains(partial, "줄 2") {
		t.Fatalf("the task has not printed its second line yet: %q", partial)
	}
	write(t, release, "")
	run(t, ctx, "a live line", waitJS(`document.querySelector("#task-slow pre").textContent.includes("줄 2 — 끝")`))
	for _, task := range []string{"find-episodes", "count", "fetch-greeting", "report", "publish", "slow"} {
		run(t, ctx, task+" turns green", waitJS(fmt.Sprintf(`(document.querySelector('svg.graph g[data-task=%q]')||{classList:{contains(){return false}}}).classList.contains("st-succeeded")`, task)))
	}
	run(t, ctx, "the run succeeds", waitJS(`document.getElementById("run-status").textContent.includes("succeeded")`))
	for sel, want := range map[string]string{"#task-publish pre": "publishing Pilot", "#task-report pre": "안녕하세요!"} {
		if got := get(t, ctx, sel, chromedp.TextContent(chromedp.CSS(sel))); !strings.Contains(got, want) {
			t.Errorf("%s: %q lacks %q", sel, got, want)
		}
	}
	shot(t, ctx, "serve-run")

	run(t, ctx, "finance", chromedp.Navigate(base+"/finance"), chromedp.WaitVisible(chromedp.CSS(".chart svg")))
	points := get(t, ctx, "chart points", chromedp.Evaluate[[]int](`[...document.querySelectorAll(".chart svg polyline")].map(p => p.points.numberOfItems).filter(n => n > 2)`))
	if len(points) != 3 || points[0] != rows || points[1] != rows || points[2] != rows {
		t.Fatalf("the chart's lines have %v points, want 3 × %d", points, rows)
	}
	cards := get(t, ctx, "cards", chromedp.Evaluate[[]string](`[...document.querySelectorAll(".card dd")].map(d => d.textContent)`))
	var want []string
	for _, m := range regexp.MustCompile(`<dd[^>]*>([^<]*)</dd>`).FindAllStringSubmatch(string(report), -1) {
		want = append(want, m[1])
	}
	if len(want) != 9 || strings.Join(cards, "|") != strings.Join(want, "|") {
		t.Fatalf("the page's totals %q, the report task's %q", cards, want)
	}
	shot(t, ctx, "serve-finance")
}

func write(t *testing.T, file, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitHTTP waits until url answers 200; the deadline only guards a hang.
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer within 60 s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
