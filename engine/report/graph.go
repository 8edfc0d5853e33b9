package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/novelfactory/runner/engine/recipe"
)

// Graph formats.
const (
	GraphMermaid = "mermaid"
	GraphDOT     = "dot"
)

// WriteGraph draws the recipe's task graph in Mermaid or Graphviz DOT.
// Edges point from a task to the tasks that need it; for_each tasks are
// drawn as stacked boxes and conditional ones say so.
func WriteGraph(w io.Writer, r *recipe.Recipe, format string) error {
	switch format {
	case GraphMermaid:
		var b strings.Builder
		b.WriteString("flowchart TD\n")
		ids := map[string]string{}
		for i, t := range r.Tasks {
			ids[t.ID] = fmt.Sprintf("t%d", i)
			label := mermaidText(nodeLabel(t, "<br/>"))
			if t.ForEach != nil {
				fmt.Fprintf(&b, "  %s[[\"%s\"]]\n", ids[t.ID], label)
			} else {
				fmt.Fprintf(&b, "  %s[\"%s\"]\n", ids[t.ID], label)
			}
		}
		for _, t := range r.Tasks {
			for _, n := range t.Needs {
				fmt.Fprintf(&b, "  %s --> %s\n", ids[n], ids[t.ID])
			}
		}
		_, err := io.WriteString(w, b.String())
		return err
	case GraphDOT:
		var b strings.Builder
		fmt.Fprintf(&b, "digraph %s {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n", strconv.Quote(r.Name))
		for _, t := range r.Tasks {
			attrs := ""
			if t.ForEach != nil {
				attrs = ", peripheries=2"
			}
			if t.If != nil {
				attrs += ", style=\"rounded,dashed\""
			}
			fmt.Fprintf(&b, "  %s [label=%s%s];\n", strconv.Quote(t.ID), strconv.Quote(nodeLabel(t, "\n")), attrs)
		}
		for _, t := range r.Tasks {
			for _, n := range t.Needs {
				fmt.Fprintf(&b, "  %s -> %s;\n", strconv.Quote(n), strconv.Quote(t.ID))
			}
		}
		b.WriteString("}\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	return fmt.Errorf("unknown graph format %q: use mermaid or dot", format)
}

func nodeLabel(t *recipe.Task, br string) string {
	label := t.ID + br + "(" + t.Uses + ")"
	if t.ForEach != nil {
		label += br + "for each item"
	}
	if t.If != nil {
		label += br + "if " + t.If.Source
	}
	return label
}

// mermaidText escapes a label for a quoted Mermaid node.
func mermaidText(s string) string {
	return strings.NewReplacer(`"`, "#quot;").Replace(s)
}
