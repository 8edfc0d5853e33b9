package web

import (
	"fmt"
	"html/template"
	"strings"

	"github.com/novelfactory/runner/internal/serve/api"
)

// Graph drawing: a layered layout, one column per depth (the longest chain
// of needs above a task), tasks in file order within a column.
const (
	nodeW, nodeH = 168.0, 46.0
	gapX, gapY   = 56.0, 18.0
	pad          = 8.0
)

// baseStatus sums up the status of a recipe task from its instances.
func baseStatus(tasks []api.Task, base string) string {
	seen := map[string]int{}
	n := 0
	for _, t := range tasks {
		if t.Base == base || t.ID == base {
			seen[t.Status]++
			n++
		}
	}
	if n == 0 {
		return "pending"
	}
	for _, st := range []string{"failed", "running", "cancelled", api.StatusInterrupted} {
		if seen[st] > 0 {
			return st
		}
	}
	if seen["succeeded"]+seen["skipped"] == n {
		if seen["succeeded"] > 0 {
			return "succeeded"
		}
		return "skipped"
	}
	if seen["succeeded"] > 0 {
		return "running" // some instances done, others not yet started
	}
	return "pending"
}

// graphSVG draws the task graph with each task's status as a class (the
// colour, in the style sheet) and as words (for those who cannot tell the
// colours apart). Every string is escaped here.
func graphSVG(nodes []api.TaskNode, tasks []api.Task) template.HTML {
	if len(nodes) == 0 {
		return ""
	}
	index := map[string]int{}
	for i, n := range nodes {
		index[n.ID] = i
	}
	depth := make([]int, len(nodes))
	state := make([]int, len(nodes)) // 0 new, 1 visiting, 2 done: a cycle cannot loop
	var visit func(i int) int
	visit = func(i int) int {
		if state[i] != 0 {
			return depth[i]
		}
		state[i] = 1
		d := 0
		for _, need := range nodes[i].Needs {
			if j, ok := index[need]; ok && state[j] != 1 {
				d = max(d, visit(j)+1)
			}
		}
		depth[i], state[i] = d, 2
		return d
	}
	rows := map[int]int{}
	x := make([]float64, len(nodes))
	y := make([]float64, len(nodes))
	cols, maxRows := 0, 0
	for i := range nodes {
		d := visit(i)
		x[i] = pad + float64(d)*(nodeW+gapX)
		y[i] = pad + float64(rows[d])*(nodeH+gapY)
		rows[d]++
		cols, maxRows = max(cols, d+1), max(maxRows, rows[d])
	}
	w := 2*pad + float64(cols)*nodeW + float64(cols-1)*gapX
	h := 2*pad + float64(maxRows)*nodeH + float64(maxRows-1)*gapY
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="graph" xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="task graph">`, w, h, w, h)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker></defs>`)
	for i, n := range nodes {
		for _, need := range n.Needs {
			j, ok := index[need]
			if !ok {
				continue
			}
			x1, y1 := x[j]+nodeW, y[j]+nodeH/2
			x2, y2 := x[i], y[i]+nodeH/2
			mx := (x1 + x2) / 2
			fmt.Fprintf(&b, `<path class="edge" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" marker-end="url(#arrow)"/>`, x1, y1, mx, y1, mx, y2, x2, y2)
		}
	}
	for i, n := range nodes {
		st := baseStatus(tasks, n.ID)
		label := n.ID
		if r := []rune(label); len(r) > 20 {
			label = string(r[:19]) + "…"
		}
		fmt.Fprintf(&b, `<a href="#task-%s"><g class="node st-%s" data-task="%s"><title>%s (%s): %s</title>`, esc(n.ID), esc(st), esc(n.ID), esc(n.ID), esc(n.Uses), esc(st))
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.0f" height="%.0f" rx="6"/>`, x[i], y[i], nodeW, nodeH)
		fmt.Fprintf(&b, `<text class="name" x="%.1f" y="%.1f">%s</text>`, x[i]+10, y[i]+19, esc(label))
		fmt.Fprintf(&b, `<text class="status" x="%.1f" y="%.1f">%s %s</text></g></a>`, x[i]+10, y[i]+37, symbol(st), esc(st))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// symbol is a status's sign, so that a status never rests on colour alone.
func symbol(status string) string {
	switch status {
	case "succeeded":
		return "✓"
	case "failed":
		return "✗"
	case "running":
		return "▶"
	case "cancelled":
		return "⊘"
	case "skipped":
		return "–"
	case api.StatusInterrupted:
		return "!"
	case api.StatusDamaged:
		return "?"
	}
	return "…"
}
