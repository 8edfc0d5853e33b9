package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// newBrowser starts a headless Chromium for one test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Fatalf("no %s (%v): run `bash .ci/run`, which installs Debian's chromium", chromiumPath, err)
	}
	if testing.Short() {
		t.Skip("a browser test: skipped with -short")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.WindowSize(1280, 1000),
		chromedp.Flag("lang", "ko-KR"),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancel := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	// A hang guard for the whole test, not a measure of speed.
	ctx, cancel3 := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return ctx
}

// shot saves a full-page screenshot under the test's artifact folder.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", file)
}

// run runs browser actions, failing the test on an error.
func run(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step, cancel := context.WithTimeout(ctx, 60*time.Second) // a hang guard: on it, a screenshot shows why
	defer cancel()
	if err := chromedp.Do(step, actions...); err != nil {
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			os.WriteFile(filepath.Join(t.ArtifactDir(), "failed.png"), png, 0o644)
		}
		t.Fatalf("%s: %v", what, err)
	}
}

// waitJS waits until a JavaScript expression is true.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](expr, chromedp.WithPollingInterval(50*time.Millisecond))(ctx, tg)
		return err
	})
}

// get runs one action that returns a value.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// signInAndRunHello signs in, opens the overview, starts hello from its
// page with vars overridden (name, value, …) and returns the run page's URL.
func signInAndRunHello(t *testing.T, ctx context.Context, base, token string, overrides ...string) string {
	t.Helper()
	run(t, ctx, "sign in",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Submit(chromedp.ID("token")),
		chromedp.WaitVisible(chromedp.CSS("section.recipe")),
	)
	title := get(t, ctx, "title", chromedp.Title())
	if !strings.HasPrefix(title, "Overview") {
		t.Fatalf("after sign-in: %q", title)
	}
	shot(t, ctx, "overview")
	steps := []chromedp.Action[chromedp.Void]{chromedp.Navigate(base + "/recipes/hello"), chromedp.WaitVisible(chromedp.ID("var-project"))}
	for i := 0; i+1 < len(overrides); i += 2 {
		field := chromedp.ID("var-" + overrides[i])
		steps = append(steps, chromedp.Clear(field), chromedp.SendKeys(field, overrides[i+1]))
	}
	run(t, ctx, "run hello now", append(steps,
		chromedp.Click(chromedp.CSS("#run-now button[type=submit]")),
		chromedp.WaitVisible(chromedp.ID("run-status")),
	)...)
	return get(t, ctx, "location", chromedp.Location())
}

func TestBrowserAgainstTheFakeBackend(t *testing.T) {
	ctx := newBrowser(t)
	e := newTestEnv(t, withTokens(), nil)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)

	url := signInAndRunHello(t, ctx, srv.URL, opToken, "project", "파일럿")
	if got := e.fb.started[len(e.fb.started)-1]; strings.Join(got, " ") != "project=파일럿" {
		t.Fatalf("the form sent %q", got)
	}
	id := url[strings.LastIndex(url, "/")+1:]

	// The run goes on: the browser sees log lines arrive and tasks turn green.
	e.fb.setTask(id, "find-episodes", "running")
	e.fb.appendLog(id, "find-episodes", "ep01.md")
	run(t, ctx, "the first log line", waitJS(`(document.querySelector("#task-find-episodes pre")||{}).textContent === "ep01.md\n"`))
	for i := 2; i <= 5; i++ {
		line := fmt.Sprintf("ep%02d.md — 에피소드 %d", i, i)
		e.fb.appendLog(id, "find-episodes", line)
		run(t, ctx, "a live log line", waitJS(fmt.Sprintf(`document.querySelector("#task-find-episodes pre").textContent.includes(%q)`, line)))
	}
	for _, task := range []string{"find-episodes", "count", "fetch-greeting", "report", "publish"} {
		if task != "find-episodes" {
			e.fb.setTask(id, task, "running")
			e.fb.appendLog(id, task, task+": 안녕하세요")
		}
		e.fb.setTask(id, task, "succeeded")
		run(t, ctx, task+" turns green", waitJS(fmt.Sprintf(`(document.querySelector('svg.graph g[data-task=%q]')||{classList:{contains(){return false}}}).classList.contains("st-succeeded")`, task)))
	}
	run(t, ctx, "the run succeeds", waitJS(`document.getElementById("run-status").textContent.includes("succeeded")`))
	log := get(t, ctx, "read the log", chromedp.TextContent(chromedp.CSS("#task-find-episodes pre")))
	if strings.Count(log, "ep0") != 5 {
		t.Fatalf("the log holds %q", log)
	}
	shot(t, ctx, "run")

	// Finance: one point per CSV row and the fake's totals.
	run(t, ctx, "finance", chromedp.Navigate(srv.URL+"/finance"), chromedp.WaitVisible(chromedp.CSS(".chart svg")))
	points := get(t, ctx, "chart points", chromedp.Evaluate[[]int](`[...document.querySelectorAll(".chart svg polyline")].map(p => p.points.numberOfItems).filter(n => n > 2)`))
	cards := get(t, ctx, "cards", chromedp.Evaluate[[]string](`[...document.querySelectorAll(".card dd")].map(d => d.textContent)`))
	if len(points) != 3 || points[0] != 8 || points[1] != 8 || points[2] != 8 {
		t.Fatalf("the chart's lines have %v points, want 3 × 8", points)
	}
	var want []string
	for _, c := range e.fb.finance.Cards {
		for _, tot := range c.Totals {
			want = append(want, tot.Value)
		}
	}
	if strings.Join(cards, "|") != strings.Join(want, "|") {
		t.Fatalf("cards %q, want %q", cards, want)
	}
	shot(t, ctx, "finance")

	run(t, ctx, "backups", chromedp.Navigate(srv.URL+"/backups"), chromedp.WaitVisible(chromedp.CSS("code.cmd")))
	shot(t, ctx, "backups")
	run(t, ctx, "overview again", chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(".warning")))
	overview := get(t, ctx, "overview", chromedp.TextContent(chromedp.CSS("main")))
	if !strings.Contains(overview, "Overdue") || !strings.Contains(overview, "주간 백업") {
		t.Fatalf("overview: %s", overview)
	}
}
