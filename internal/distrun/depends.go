package distrun

import (
	"fmt"
	"slices"
	"strings"
)

// Outcome is how a task of the workflow ended: Argo's phase of a DAG task.
type Outcome int

// The outcomes of a task, as Argo names them in depends.
const (
	// Omitted: the task never started: its depends was false once every
	// task it names had ended, or the run was cancelled first.
	Omitted Outcome = iota
	// Succeeded: its process exited 0 (a fan-out: every instance's).
	Succeeded
	// Failed: its process exited non-zero or was killed (a fan-out: any
	// instance's).
	Failed
	// Errored: the harness could not run it: its process could not start,
	// or the result its withParam names is no JSON list (Argo's Error).
	Errored
	// Skipped: a fan-out whose withParam listed no element.
	Skipped
)

// outcomeNames are the words of depends, in Outcome's order.
var outcomeNames = []string{"Omitted", "Succeeded", "Failed", "Errored", "Skipped"}

func (o Outcome) String() string { return outcomeNames[o] }

// depends is a parsed Argo depends expression: terms TASK.Status joined
// by || and &&, with parentheses. Nothing else of Argo's language (!,
// a bare task name, AnySucceeded, …) is read: runner never writes it.
type depends interface {
	eval(ended func(task string) Outcome) bool
	tasks(add func(string))
}

type (
	term struct {
		task   string
		status Outcome
	}
	anyOf []depends // ||
	allOf []depends // &&
)

func (t term) eval(ended func(string) Outcome) bool { return ended(t.task) == t.status }
func (t term) tasks(add func(string))               { add(t.task) }

func (a anyOf) eval(ended func(string) Outcome) bool {
	return slices.ContainsFunc(a, func(d depends) bool { return d.eval(ended) })
}

func (a anyOf) tasks(add func(string)) {
	for _, d := range a {
		d.tasks(add)
	}
}

func (a allOf) eval(ended func(string) Outcome) bool {
	return !slices.ContainsFunc(a, func(d depends) bool { return !d.eval(ended) })
}

func (a allOf) tasks(add func(string)) {
	for _, d := range a {
		d.tasks(add)
	}
}

// parseDepends parses expr, or says where it breaks the grammar the
// harness reads.
func parseDepends(expr string) (depends, error) {
	p := &dependsParser{toks: tokenize(expr)}
	d, err := p.or()
	if err == nil && p.pos < len(p.toks) {
		err = fmt.Errorf("unexpected %q after a whole expression", p.toks[p.pos])
	}
	if err != nil {
		return nil, fmt.Errorf("depends %q: %w; the harness reads only TASK.Status terms (Status one of %s) joined by ||, && and parentheses",
			expr, err, strings.Join(outcomeNames[1:], ", ")+", Omitted")
	}
	return d, nil
}

// tokenize splits expr into "(", ")", "||", "&&" and words (anything
// else between spaces and those).
func tokenize(expr string) []string {
	var toks []string
	word := func(i, j int) {
		if j > i {
			toks = append(toks, expr[i:j])
		}
	}
	start := 0
	for i := 0; i < len(expr); {
		switch {
		case expr[i] == ' ' || expr[i] == '\t' || expr[i] == '\n':
			word(start, i)
			i++
			start = i
		case expr[i] == '(' || expr[i] == ')':
			word(start, i)
			toks = append(toks, expr[i:i+1])
			i++
			start = i
		case strings.HasPrefix(expr[i:], "||") || strings.HasPrefix(expr[i:], "&&"):
			word(start, i)
			toks = append(toks, expr[i:i+2])
			i += 2
			start = i
		default:
			i++
		}
	}
	word(start, len(expr))
	return toks
}

type dependsParser struct {
	toks []string
	pos  int
}

func (p *dependsParser) next() string {
	if p.pos >= len(p.toks) {
		return ""
	}
	return p.toks[p.pos]
}

func (p *dependsParser) or() (depends, error) {
	var terms anyOf
	for {
		d, err := p.and()
		if err != nil {
			return nil, err
		}
		terms = append(terms, d)
		if p.next() != "||" {
			break
		}
		p.pos++
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return terms, nil
}

func (p *dependsParser) and() (depends, error) {
	var terms allOf
	for {
		d, err := p.unary()
		if err != nil {
			return nil, err
		}
		terms = append(terms, d)
		if p.next() != "&&" {
			break
		}
		p.pos++
	}
	if len(terms) == 1 {
		return terms[0], nil
	}
	return terms, nil
}

func (p *dependsParser) unary() (depends, error) {
	tok := p.next()
	switch tok {
	case "":
		return nil, fmt.Errorf("a term is missing at the end")
	case "(":
		p.pos++
		d, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, fmt.Errorf("a ( is not closed")
		}
		p.pos++
		return d, nil
	case ")", "||", "&&":
		return nil, fmt.Errorf("unexpected %q where a term should be", tok)
	}
	p.pos++
	task, status, ok := strings.Cut(tok, ".")
	if !ok || !validTaskName(task) {
		return nil, fmt.Errorf("%q is not TASK.Status", tok)
	}
	i := slices.Index(outcomeNames, status)
	if i < 0 {
		return nil, fmt.Errorf("%q: %s is not a status the harness knows", tok, status)
	}
	return term{task: task, status: Outcome(i)}, nil
}

// validTaskName reports whether s can name a DAG task in a depends term:
// Argo's names, letters, digits and - (and _ or . nowhere).
func validTaskName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
