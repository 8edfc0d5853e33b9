package report

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/testtools"
)

func TestFitCountsWideCharactersAsTwoColumns(t *testing.T) {
	cases := map[string]string{
		"abcdef":    "abcd…",
		"abcde":     "abcde",
		"에피소드 처리 중": "에피…", // two columns each: two fit in four, then the ellipsis
	}
	for in, want := range cases {
		if got := fit(in, 5); got != want {
			t.Errorf("fit(%q, 5) = %q, want %q", in, got, want)
		}
	}
}

func TestBar(t *testing.T) {
	if got := Bar(50, 100, 10); got != "[█████░░░░░]  50%" {
		t.Errorf("got %q", got)
	}
	if got := Bar(200, 100, 10); got != "[██████████] 100%" {
		t.Errorf("over 100%%: got %q", got)
	}
}

func TestLiveViewEndsWithOnlyFinishedLines(t *testing.T) {
	var out testtools.SyncBuffer
	m := secret.New()
	m.Add("hunter2-secret")
	l := NewLive(&out, m, func() int { return 40 })
	now := time.Now()
	l.Event(scheduler.Event{Type: scheduler.TaskStarted, Task: "upload", Time: now})
	l.Event(scheduler.Event{Type: scheduler.TaskLog, Task: "upload", Line: "using hunter2-secret"})
	l.Event(scheduler.Event{Type: scheduler.TaskProgress, Task: "upload", Done: 1, Total: 4})
	l.mu.Lock()
	l.redraw() // what the ticker does ten times a second
	l.mu.Unlock()
	l.Event(scheduler.Event{Type: scheduler.TaskFinished, Task: "upload", Status: state.Succeeded, Duration: 2 * time.Second, Attempt: 1})
	l.Close()
	s := out.String()
	if !strings.Contains(s, "upload") || !strings.Contains(s, "25%") {
		t.Errorf("no live line with progress in %q", s)
	}
	if strings.Contains(s, "hunter2") {
		t.Errorf("secret on the terminal: %q", s)
	}
	// The last frame erases the live line and prints the finished one.
	last := s[strings.LastIndex(s, "\x1b[J"):]
	if !strings.Contains(last, "✓ upload succeeded in 2.0s") || strings.Contains(last, "25%") {
		t.Errorf("last frame %q", last)
	}
}

func TestSummaryFoldsInstancesIntoTheirTask(t *testing.T) {
	now := time.Now()
	later := now.Add(1500 * time.Millisecond)
	run := &state.Run{ID: "r", Name: "weekly | backup", Status: state.Failed, Started: now, Finished: &later, Tasks: []*state.Task{
		{ID: "zip", Status: state.Failed, Error: "1 of 2 instances failed", Started: &now, Finished: &later},
		{ID: "zip[0]", Status: state.Succeeded},
		{ID: "zip[1]", Status: state.Failed, Error: "disk full\nmore"},
		{ID: "upload", Status: state.Skipped, Reason: "needs zip, which failed"},
	}}
	rows := Summarize(run)
	if len(rows) != 2 || rows[0].Note != "1 of 2 instances failed (first: zip[1]: disk full …)" || rows[0].Time != "1.5s" {
		t.Fatalf("rows %+v", rows)
	}
	md := Markdown(run, secret.New())
	if !strings.Contains(md, "| zip | ❌ failed |") || !strings.Contains(md, "| upload | ⏭️ skipped |  |  | needs zip, which failed |") {
		t.Errorf("markdown:\n%s", md)
	}
}

func TestPlanShowsUnknownsAndMasksSecrets(t *testing.T) {
	var out bytes.Buffer
	m := secret.New()
	m.Add("AKIA-very-secret")
	WritePlan(&out, "backup", []scheduler.PlannedTask{
		{ID: "dump", Uses: "shell", Would: scheduler.WouldRun, Params: map[string]any{"run": "dump --key AKIA-very-secret"}, Summary: "would run a\nb"},
		{ID: "upload", Uses: "shell", Would: scheduler.WouldRun, Needs: []string{"dump"}, Params: map[string]any{"file": eval.Unknown{Text: "x/(known after run)"}}},
		{ID: "notify", Uses: "shell", Would: scheduler.WouldSkip, Reason: "if: vars.notify is false"},
	}, m)
	s := out.String()
	for _, want := range []string{"dump --key ***", "file: x/(known after run)", "→ would run a\n     b", "would skip: if: vars.notify is false", "Plan: 2 to run, 1 to skip."} {
		if !strings.Contains(s, want) {
			t.Errorf("plan lacks %q:\n%s", want, s)
		}
	}
}

// TestJSONEventsMaskValuesNotTheirEncoding: a secret that reads like a
// status, a number or a key must not break the stream, and a secret a task
// printed as JSON (so escaped twice in the event) must still be masked.
// Before, the masker ran over the encoded line: "succeeded" became "***" in
// every status, and `{\"pw\":\"a\\\"b…\"}` kept the secret in clear (hostile
// review of issue 11, findings 6 and 11).
func TestJSONEventsMaskValuesNotTheirEncoding(t *testing.T) {
	m := secret.New()
	m.Add("succeeded", `pa"ss-word`, "task")
	var out bytes.Buffer
	j := NewJSON(&out, m)
	j.Event(scheduler.Event{Type: scheduler.TaskFinished, Task: "upload", Status: state.Succeeded, Attempt: 1,
		Error: `login with pa"ss-word failed: succeeded nowhere`})
	j.Write(map[string]any{"summary": `{"body":"{\"pw\":\"pa\\\"ss-word\"}"}`, "n": 12})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %q", out.String())
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatalf("event line is not JSON: %v: %s", err, lines[0])
	}
	if ev["status"] != "succeeded" || ev["event"] != "task_finished" || ev["attempt"] != 1.0 {
		t.Errorf("structural fields changed: %s", lines[0])
	}
	if ev["error"] != "login with *** failed: *** nowhere" {
		t.Errorf("error = %q", ev["error"])
	}
	if !strings.HasPrefix(lines[0], `{"time":`) {
		t.Errorf("keys lost their order: %s", lines[0])
	}
	if strings.Contains(lines[1], "ss-word") {
		t.Errorf("a twice-escaped secret survives: %s", lines[1])
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(lines[1]), &doc); err != nil || doc["n"] != 12.0 {
		t.Errorf("second line: %v %s", err, lines[1])
	}
}

// TestTheLiveViewLastsAsLongAsTheRun: the reporter starts the live view
// with the run's first event and stops it with its last, so that the
// summary is printed below a view that no longer redraws.
func TestTheLiveViewLastsAsLongAsTheRun(t *testing.T) {
	var out testtools.SyncBuffer
	m := secret.New()
	m.Add("hunter2-secret")
	r := New(Settings{Stdout: &out, Stderr: &out, Masker: m, Live: true, Width: func() int { return 60 }})
	now := time.Now()
	r.Event(scheduler.Event{Type: scheduler.TaskStarted, Task: "early", Time: now})
	if out.String() != "" {
		t.Fatalf("a view before the run started: %q", out.String())
	}
	r.Event(scheduler.Event{Type: scheduler.RunStarted, Run: "r1", Time: now})
	r.Event(scheduler.Event{Type: scheduler.TaskStarted, Task: "upload", Time: now})
	r.Event(scheduler.Event{Type: scheduler.TaskFinished, Task: "upload", Status: state.Succeeded, Duration: time.Second, Attempt: 1})
	r.Event(scheduler.Event{Type: scheduler.RunFinished, Run: "r1", Status: state.Succeeded, Duration: time.Second})
	drawn := out.String()
	if !strings.Contains(drawn, "✓ upload succeeded in 1.0s") || !strings.Contains(drawn, "run r1 succeeded in 1.0s") {
		t.Fatalf("the last frame was not drawn: %q", drawn)
	}
	later := now.Add(time.Second)
	r.Finish(&state.Run{ID: "r1", Status: state.Succeeded, Started: now, Finished: &later}, "/state/hunter2-secret")
	r.Warn("the token hunter2-secret")
	rest := strings.TrimPrefix(out.String(), drawn)
	if strings.Contains(rest, "\x1b[") {
		t.Errorf("the view redrew after the run: %q", rest)
	}
	if !strings.Contains(rest, "run r1 succeeded; state and logs: /state/***") || !strings.Contains(rest, "warning: the token ***") {
		t.Errorf("summary and warning: %q", rest)
	}
}

func TestAJSONReporterPrintsOnePlanObjectPerTask(t *testing.T) {
	var out bytes.Buffer
	r := New(Settings{Stdout: &out, Format: FormatJSON})
	r.Plan("backup", []scheduler.PlannedTask{
		{ID: "dump", Uses: "shell", Would: scheduler.WouldRun},
		{ID: "each", Uses: "shell", Would: scheduler.WouldSucceed, Reason: "for_each gave an empty list"},
	})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines:\n%s", out.String())
	}
	var p struct{ Event, ID, Would string }
	if err := json.Unmarshal([]byte(lines[1]), &p); err != nil || p.Event != "plan" || p.ID != "each" || p.Would != "succeed" {
		t.Errorf("%v %+v", err, p)
	}
}
