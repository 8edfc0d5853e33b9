package tasktype

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/novelfactory/runner/engine/params"
)

// WriteList prints one line per type: its name and summary.
func (r *Registry) WriteList(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, t := range r.All() {
		fmt.Fprintf(tw, "%s\t%s\n", t.Name, t.Summary)
	}
	fmt.Fprintln(tw, "\nRun `runner tasks TYPE` for a type's params and outputs.")
	return tw.Flush()
}

// WriteDoc prints a type's documentation: what it does, its params with
// types, defaults and docs, its outputs and its examples.
func (t *Type) WriteDoc(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s — %s\n\n%s\n\nParams (with:)\n", t.Name, t.Summary, wrap(t.Doc, 78, ""))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, f := range t.Params.Fields {
		writeField(tw, f, "  ")
	}
	tw.Flush()
	b.WriteString("\nOutputs (tasks.<id>.outputs.<name>)\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, o := range t.Outputs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", o.Name, o.Type, o.Doc)
	}
	tw.Flush()
	for _, ex := range t.Examples {
		fmt.Fprintf(&b, "\nExample: %s\n", ex.Title)
		for _, line := range strings.Split(strings.TrimRight(ex.YAML, "\n"), "\n") {
			b.WriteString(strings.TrimRight("  "+line, " ") + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeField(tw io.Writer, f *params.Field, indent string) {
	var notes []string
	if f.Required {
		notes = append(notes, "required")
	}
	if f.Default != nil {
		notes = append(notes, fmt.Sprintf("default %v", f.Default))
	}
	if len(f.Enum) > 0 {
		notes = append(notes, "one of "+strings.Join(f.Enum, ", "))
	}
	doc := f.Doc
	if len(notes) > 0 {
		doc += " (" + strings.Join(notes, "; ") + ")"
	}
	fmt.Fprintf(tw, "%s%s\t%s\t%s\n", indent, f.Name, f.Type.Describe(), doc)
	if f.Type.Kind == params.Object {
		for _, sub := range f.Type.Fields {
			writeField(tw, sub, indent+"  ")
		}
	}
}

// wrap breaks text into lines of at most width columns.
func wrap(text string, width int, indent string) string {
	var lines []string
	line := indent
	for _, word := range strings.Fields(text) {
		if len(line)+len(word)+1 > width && strings.TrimSpace(line) != "" {
			lines = append(lines, line)
			line = indent
		}
		if strings.TrimSpace(line) != "" {
			line += " "
		}
		line += word
	}
	return strings.Join(append(lines, line), "\n")
}
