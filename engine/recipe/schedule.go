package recipe

import (
	"errors"
	"fmt"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/cron"
	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/internal/quote"
)

// scheduleKeys are the top-level keys about the schedule: only the main
// recipe may set them.
var scheduleKeys = []string{"schedule", "overlap", "catchup", "catchup_window", "catchup_max"}

// schedule reads the main recipe's schedule keys, whose shapes the
// grammar has checked: a cron line, an entry, or a list of either.
func (l *loader) schedule(r *Recipe, file string, doc *yaml.Node, spec fileSpec) {
	s := &Schedule{Overlap: spec.Overlap, Catchup: spec.Catchup, CatchupWindow: spec.CatchupWindow, CatchupMax: spec.CatchupMax}
	fields := grammar.Field
	if s.Overlap == "" {
		s.Overlap = fields("overlap").Default.(string)
	}
	if s.Catchup == "" {
		s.Catchup = fields("catchup").Default.(string)
	}
	if value(doc, "catchup_window") == nil {
		s.CatchupWindow, _ = time.ParseDuration(fields("catchup_window").Default.(string))
	} else if n := value(doc, "catchup_window"); spec.CatchupWindow <= 0 && n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		if _, err := time.ParseDuration(n.Value); err == nil {
			l.at(file, n, "catchup_window must be longer than 0: to catch up nothing, write `catchup: none`")
		}
	}
	if s.CatchupMax == 0 {
		s.CatchupMax = int(fields("catchup_max").Default.(int64))
	}
	n := value(doc, "schedule")
	if n == nil || n.Tag == "!!null" {
		return
	}
	s.Pos = Pos{file, n.Line, n.Column}
	seen := map[string]string{}
	add := func(e *ScheduleEntry, what string) {
		if e == nil {
			return
		}
		if first, ok := seen[e.Key()]; ok {
			l.diags.Add(file, e.Pos.Line, e.Pos.Col, "%s: the same cron line and zone as %s: each time would fire twice", what, first)
			return
		}
		seen[e.Key()] = what
		s.Entries = append(s.Entries, e)
	}
	switch n.Kind {
	case yaml.ScalarNode, yaml.MappingNode:
		add(l.scheduleEntry(r, file, doc, n, []string{"schedule"}), "schedule")
	case yaml.SequenceNode:
		if len(n.Content) == 0 {
			l.at(file, n, "schedule is an empty list: give at least one cron line such as \"0 4 * * 0\", or leave the key out")
			return
		}
		for i, c := range n.Content {
			path := []string{"schedule", fmt.Sprintf("[%d]", i)}
			add(l.scheduleEntry(r, file, doc, deref(c), path), params.PathString(path))
		}
	}
	r.Schedule = s
}

// scheduleEntry reads one entry n of the schedule, at path in the file's
// document doc: a cron line, or a map with cron, timezone and vars.
func (l *loader) scheduleEntry(r *Recipe, file string, doc, n *yaml.Node, path []string) *ScheduleEntry {
	what := params.PathString(path)
	e := &ScheduleEntry{Location: r.Location}
	cronNode := n
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!str" {
			l.at(file, n, "%s: expected a cron line such as \"0 4 * * 0\" or an entry {cron, timezone, vars}, got %s", what, params.NodeKind(n))
			return nil
		}
	case yaml.MappingNode:
		var spec scheduleEntrySpec
		errs := scheduleGrammar.DecodeNode(n, &spec, "")
		for _, fe := range errs {
			fe.Path = append(append([]string(nil), path...), fe.Path...)
		}
		params.Report(&l.diags, file, doc, "", errs)
		if len(errs) > 0 {
			return nil
		}
		cronNode = value(n, "cron")
		if z := value(n, "timezone"); z != nil && z.Tag != "!!null" {
			e.Location = l.timezone(file, z, what+".timezone")
			e.Zone = z.Value
		}
		if !l.scheduleVars(r, file, value(n, "vars"), what, e) {
			return nil
		}
	default:
		l.at(file, n, "%s: expected a cron line such as \"0 4 * * 0\" or an entry {cron, timezone, vars}, got %s", what, params.NodeKind(n))
		return nil
	}
	if e.Zone == "" && r.Location != time.Local {
		e.Zone = r.Location.String()
	}
	if cronNode != n {
		what += ".cron"
	}
	e.Spec, e.Pos = cronNode.Value, Pos{file, cronNode.Line, cronNode.Column}
	expr, err := cron.Parse(cronNode.Value)
	if err != nil {
		var ce *cron.Error
		if !errors.As(err, &ce) {
			l.at(file, cronNode, "%s: %v", what, err)
			return nil
		}
		line, col := offsetPos(cronNode, ce.Col)
		l.diags.Add(file, line, col, "%s: %s", what, ce.Error())
		return nil
	}
	e.Expr = expr
	return e
}

// scheduleVars reads an entry's vars: each a declared var, given one value.
func (l *loader) scheduleVars(r *Recipe, file string, n *yaml.Node, what string, e *ScheduleEntry) bool {
	if n == nil || n.Kind != yaml.MappingNode {
		return true
	}
	ok := true
	e.Vars = map[string]any{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if r.Var(k.Value) == nil {
			names := make([]string, len(r.Vars))
			for j, v := range r.Vars {
				names[j] = v.Name
			}
			l.at(file, k, "%s: vars: the recipe declares no var %s; declare it under the top-level vars: first%s", what, quote.Text(k.Value), diag.DidYouMean(k.Value, names))
			ok = false
			continue
		}
		var val any
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Decode(&val) != nil {
			l.at(file, v, "%s: vars: %s takes a single value (text, number or true/false), as --set does, not %s", what, k.Value, params.NodeKind(v))
			ok = false
			continue
		}
		e.Vars[k.Value] = v.Value // the text as written, as --set takes it: 2026-01-01, not a time
	}
	return ok
}
