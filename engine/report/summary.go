package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
)

// SummaryRow is one task's line in the end-of-run summary.
type SummaryRow struct {
	Task     string
	Status   state.Status
	Attempts int
	Time     string
	Note     string
}

// Summarize turns a run's state into rows, one per recipe task (for_each
// instances are folded into their task's row).
func Summarize(run *state.Run) []SummaryRow {
	var rows []SummaryRow
	instances := map[string][]*state.Task{}
	for _, t := range run.Tasks {
		if i := strings.IndexByte(t.ID, '['); i > 0 {
			instances[t.ID[:i]] = append(instances[t.ID[:i]], t)
		}
	}
	for _, t := range run.Tasks {
		if strings.IndexByte(t.ID, '[') > 0 {
			continue
		}
		note := t.Reason
		if t.Error != "" {
			note = firstLine(t.Error)
		}
		attempts := t.Attempts
		if inst := instances[t.ID]; len(inst) > 0 {
			ok := 0
			for _, it := range inst {
				if it.Status == state.Succeeded {
					ok++
				}
				if it.Error != "" && t.Status == state.Failed {
					note = fmt.Sprintf("%s (first: %s: %s)", note, it.ID, firstLine(it.Error))
					break
				}
			}
			if t.Status != state.Failed {
				note = strings.TrimSpace(fmt.Sprintf("%d of %d instances succeeded %s", ok, len(inst), note))
			}
			attempts = 0
		}
		d := ""
		if dur := t.Duration(); dur > 0 {
			d = Duration(dur)
		}
		rows = append(rows, SummaryRow{Task: t.ID, Status: t.Status, Attempts: attempts, Time: d, Note: note})
	}
	return rows
}

// WriteSummary prints the summary table.
func WriteSummary(w io.Writer, run *state.Run, m *secret.Masker) {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TASK\tSTATUS\tTRIES\tTIME\tNOTE")
	for _, r := range Summarize(run) {
		tries := ""
		if r.Attempts > 0 {
			tries = fmt.Sprint(r.Attempts)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Task, r.Status, tries, r.Time, r.Note)
	}
	tw.Flush()
	io.WriteString(w, m.String(b.String()))
}

var statusIcon = map[state.Status]string{
	state.Succeeded: "✅", state.Failed: "❌", state.Skipped: "⏭️", state.Cancelled: "⏹️", state.Pending: "⏳", state.Running: "⏳",
}

// Markdown renders the summary for GITHUB_STEP_SUMMARY.
func Markdown(run *state.Run, m *secret.Masker) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s runner: %s — %s\n\n", statusIcon[run.Status], run.Name, run.Status)
	fmt.Fprintf(&b, "Run `%s`", run.ID)
	if run.Finished != nil {
		fmt.Fprintf(&b, ", %s", Duration(run.Finished.Sub(run.Started)))
	}
	b.WriteString(".\n\n| Task | Status | Tries | Time | Note |\n|---|---|---:|---:|---|\n")
	for _, r := range Summarize(run) {
		tries := ""
		if r.Attempts > 0 {
			tries = fmt.Sprint(r.Attempts)
		}
		fmt.Fprintf(&b, "| %s | %s %s | %s | %s | %s |\n", cell(r.Task), statusIcon[r.Status], r.Status, tries, r.Time, cell(r.Note))
	}
	b.WriteString("\n")
	return m.String(b.String())
}

func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ", "\r", "").Replace(s)
}
