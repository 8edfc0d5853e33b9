package report

import (
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/engine/secret"
)

// WritePlan prints a dry-run plan for people: the tasks in execution
// order, their resolved params, their conditions and what each would do.
func WritePlan(w io.Writer, name string, plan []scheduler.PlannedTask, m *secret.Masker) {
	var b strings.Builder
	counts := map[string]int{}
	fmt.Fprintf(&b, "Plan for %s (dry run: nothing is changed)\n\n", name)
	for i, p := range plan {
		counts[p.Would]++
		fmt.Fprintf(&b, "%d. %s (%s): would %s", i+1, p.ID, p.Uses, p.Would)
		if p.Reason != "" {
			fmt.Fprintf(&b, ": %s", p.Reason)
		}
		b.WriteByte('\n')
		if len(p.Needs) > 0 {
			fmt.Fprintf(&b, "   needs: %s\n", strings.Join(p.Needs, ", "))
		}
		if p.If != "" {
			fmt.Fprintf(&b, "   if: %s\n", p.If)
		}
		if p.Params != nil && p.Would != scheduler.WouldSkip {
			b.WriteString("   with:\n")
			b.WriteString(indent(paramsYAML(p.Params, m), "     "))
		}
		if p.Summary != "" {
			fmt.Fprintf(&b, "   → %s\n", strings.ReplaceAll(strings.TrimRight(p.Summary, "\n"), "\n", "\n     "))
		}
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "Plan: %d to run, %d to skip", counts[scheduler.WouldRun], counts[scheduler.WouldSkip])
	if n := counts[scheduler.WouldReuse]; n > 0 {
		fmt.Fprintf(&b, ", %d reused from the resumed run", n)
	}
	if n := counts[scheduler.WouldSucceed]; n > 0 {
		fmt.Fprintf(&b, ", %d with nothing to run", n)
	}
	if n := counts[scheduler.WouldFail]; n > 0 {
		fmt.Fprintf(&b, ", %d that would fail", n)
	}
	b.WriteString(".\n")
	io.WriteString(w, m.String(b.String()))
}

// paramsYAML renders resolved params as YAML, unknown values as
// "(known after run)", with secrets masked in each value before it is
// encoded: YAML may quote or escape a value in ways the masker would not
// recognise in the encoded text.
func paramsYAML(v any, m *secret.Masker) string {
	data, err := yaml.Marshal(printable(v, m))
	if err != nil {
		return fmt.Sprintf("%v\n", v)
	}
	return string(data)
}

func printable(v any, m *secret.Masker) any {
	switch x := v.(type) {
	case eval.Unknown:
		return x.String()
	case string:
		return m.String(x)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = printable(e, m)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = printable(e, m)
		}
		return out
	}
	return v
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}
