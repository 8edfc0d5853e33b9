package report

import (
	"fmt"
	"io"
	"path/filepath"
	"sync"

	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/regfile"
)

// Formats of runner's output.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// Settings say where and how a Reporter shows runs and plans.
type Settings struct {
	Stdout io.Writer // events, plans and summaries
	Stderr io.Writer // warnings
	Masker *secret.Masker
	Format string // FormatText (the default) or FormatJSON
	// Live draws the live terminal view instead of plain lines (text only).
	Live bool
	// Width reports the terminal's columns, for the live view; 80 when nil.
	Width func() int
	// StepSummary is a file to append the run's summary to as Markdown
	// (GITHUB_STEP_SUMMARY); none when empty.
	StepSummary string
}

// Reporter shows runs and plans to whoever reads runner's output: as text
// — plain timestamped lines, or the live view on a terminal — or as one
// JSON object a line. Warnings go to stderr as text in both formats, and a
// run's summary is also appended to GITHUB_STEP_SUMMARY when asked. It is
// safe for concurrent use.
type Reporter struct {
	s     Settings
	json  *JSON  // FormatJSON
	plain *Plain // FormatText without Live
	mu    sync.Mutex
	live  *Live // FormatText with Live, while a run runs
}

// New returns a Reporter with the given settings.
func New(s Settings) *Reporter {
	if s.Stdout == nil {
		s.Stdout = io.Discard
	}
	if s.Stderr == nil {
		s.Stderr = io.Discard
	}
	if s.Masker == nil {
		s.Masker = secret.New()
	}
	if s.Width == nil {
		s.Width = func() int { return 80 }
	}
	r := &Reporter{s: s}
	switch {
	case s.Format == FormatJSON:
		r.json = NewJSON(s.Stdout, s.Masker)
	case !s.Live:
		r.plain = NewPlain(s.Stdout, s.Masker)
	}
	return r
}

// Event shows what happened in a run. The live view starts with the run
// and stops with it.
func (r *Reporter) Event(e scheduler.Event) {
	switch {
	case r.json != nil:
		r.json.Event(e)
		return
	case r.plain != nil:
		r.plain.Event(e)
		return
	}
	r.mu.Lock()
	if r.live == nil && e.Type == scheduler.RunStarted {
		r.live = NewLive(r.s.Stdout, r.s.Masker, r.s.Width)
	}
	live := r.live
	if e.Type == scheduler.RunFinished {
		r.live = nil
	}
	r.mu.Unlock()
	if live == nil {
		return
	}
	live.Event(e)
	if e.Type == scheduler.RunFinished {
		live.Close() // draws the last lines
	}
}

// Warn shows a warning on stderr.
func (r *Reporter) Warn(msg string) {
	fmt.Fprintln(r.s.Stderr, r.s.Masker.String("warning: "+msg))
}

// Plan shows a dry run's plan of the recipe called name.
func (r *Reporter) Plan(name string, plan []scheduler.PlannedTask) {
	if r.json == nil {
		WritePlan(r.s.Stdout, name, plan, r.s.Masker)
		return
	}
	for _, t := range plan {
		r.json.Write(struct {
			Event string `json:"event"`
			scheduler.PlannedTask
		}{"plan", t})
	}
}

// Finish shows how a run ended: its summary, and where its state and logs
// are (dir); it appends the summary to GITHUB_STEP_SUMMARY when asked.
func (r *Reporter) Finish(run *state.Run, dir string) {
	r.mu.Lock()
	live := r.live
	r.live = nil
	r.mu.Unlock()
	if live != nil {
		live.Close() // a run that ended without its last event
	}
	if r.json != nil {
		r.json.Write(map[string]any{
			"event": "summary", "run": run.ID, "status": run.Status, "tasks": Summarize(run),
			"state": filepath.Join(dir, "state.json"),
		})
	} else {
		fmt.Fprintln(r.s.Stdout)
		WriteSummary(r.s.Stdout, run, r.s.Masker)
		fmt.Fprintf(r.s.Stdout, "\nrun %s %s; state and logs: %s\n", run.ID, run.Status, r.s.Masker.String(dir))
	}
	if r.s.StepSummary == "" {
		return
	}
	f, err := regfile.OpenAppend(r.s.StepSummary, 0o644) // never a pipe: it would block with the lock held
	if err != nil {
		r.Warn(fmt.Sprintf("cannot append to GITHUB_STEP_SUMMARY: %v", err))
		return
	}
	defer f.Close()
	if _, err := io.WriteString(f, Markdown(run, r.s.Masker)); err != nil {
		r.Warn(fmt.Sprintf("cannot append to GITHUB_STEP_SUMMARY: %v", err))
	}
}
