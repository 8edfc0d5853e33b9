package params

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/internal/quote"
)

// FieldError is a problem with one value, found at Path below the value
// that was checked or decoded: ["retry", "delay"], ["files", "[2]"]. A
// caller that read the value from YAML finds its position by walking the
// same path in the document (Locate), never by reading the message.
type FieldError struct {
	Path []string
	Err  error
	// Node is the YAML node at fault when the value was checked as YAML
	// (a key, for an unknown or repeated one); nil when it was decoded from
	// an evaluated value.
	Node *yaml.Node
	// named says Err's text begins with the value's own name ("level 10:
	// use 0 to 9"): the message names only the value's parent.
	named bool
}

// At returns a FieldError about the param called field whose text already
// names it ("level 10: use 0 (store) to 9"), for a task type's Check: the
// problem is reported at the param's own line and column, in its words.
func At(field string, err error) *FieldError {
	return &FieldError{Path: []string{field}, Err: err, named: true}
}

// Errorf returns a FieldError about the param called field, for a task
// type's Check: a problem Check finds is then reported at the param's own
// line and column.
func Errorf(field, format string, args ...any) *FieldError {
	return &FieldError{Path: []string{field}, Err: fmt.Errorf(format, args...)}
}

func (e *FieldError) Error() string { return e.Message("") }

// Unwrap returns the problem itself.
func (e *FieldError) Unwrap() error { return e.Err }

// Message words the error with subject (`task "a"`) naming the value the
// path starts from; subject may be "".
func (e *FieldError) Message(subject string) string {
	path := e.Path
	if e.named && len(path) > 0 {
		path = path[:len(path)-1]
	}
	name := PathString(path)
	switch {
	case subject == "":
	case name == "":
		name = subject
	default:
		name = subject + ": " + name
	}
	var p predicate
	if errors.As(e.Err, &p) {
		if text, ok := p.predicate(); ok && name != "" {
			return name + " " + text
		}
	}
	var sn selfNamed
	if errors.As(e.Err, &sn) && sn.selfNamed() {
		return e.Err.Error() // "task id \"x\": …" names itself
	}
	if name == "" {
		return e.Err.Error()
	}
	return name + ": " + e.Err.Error()
}

// PathString writes a path as users read it: retry.delay, files[2].
func PathString(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if b.Len() > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// index is the path element of a list's i-th item.
func index(i int) string { return "[" + strconv.Itoa(i) + "]" }

// Under puts err below the value called name: a FieldError's path gets
// name in front, and any other error becomes a FieldError at name.
func Under(name string, err error) error {
	var fe *FieldError
	var list Errors
	switch {
	case err == nil:
		return nil
	case errors.As(err, &list):
		out := make(Errors, len(list))
		for i, e := range list {
			out[i] = &FieldError{Path: append([]string{name}, e.Path...), Err: e.Err, Node: e.Node, named: e.named}
		}
		return out
	case errors.As(err, &fe):
		return &FieldError{Path: append([]string{name}, fe.Path...), Err: fe.Err, Node: fe.Node, named: fe.named}
	}
	return &FieldError{Path: []string{name}, Err: err}
}

// Errors are every problem found in one value, in the order found.
type Errors []*FieldError

func (l Errors) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap returns the problems, for errors.As.
func (l Errors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Report adds each error to out at its position in the document root,
// named after subject. file names the document in diagnostics.
func Report(out *diag.List, file string, root *yaml.Node, subject string, errs []*FieldError) {
	for _, e := range errs {
		n := Locate(root, e)
		out.Add(file, n.Line, n.Column, "%s", e.Message(subject))
	}
}

// Locate returns the node of root that e is about: its own node when it
// was checked as YAML, else the deepest node on its path (for an unknown
// or repeated name, that name's key).
func Locate(root *yaml.Node, e *FieldError) *yaml.Node {
	if e.Node != nil {
		return e.Node
	}
	n := deref(root)
	for _, p := range e.Path {
		next, _ := child(n, p)
		if next == nil {
			break
		}
		n = next
	}
	var ue *UnknownError
	if errors.As(e.Err, &ue) {
		if _, key := child(n, ue.Name); key != nil {
			return key
		}
	}
	return n
}

// child returns the value called p of a map (and its key), or the p-th
// ("[2]") item of a list.
func child(n *yaml.Node, p string) (value, key *yaml.Node) {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == p {
				return deref(n.Content[i+1]), n.Content[i]
			}
		}
	case yaml.SequenceNode:
		if i, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(p, "["), "]")); err == nil && i >= 0 && i < len(n.Content) {
			return deref(n.Content[i]), nil
		}
	}
	return nil, nil
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// predicate is implemented by errors that read after their value's name
// with a space, not a colon: "tasks must be a map, got a list".
type predicate interface {
	predicate() (string, bool)
}

// selfNamed is implemented by errors that name their value themselves
// ("task id \"x\" is already used at line 4").
type selfNamed interface {
	selfNamed() bool
}

// ShapeError is a value of the wrong kind: a list where a string belongs.
type ShapeError struct {
	Want string // "a string", "a map of task ids to tasks"
	Got  string // "a list", "the string \"x\""
	// Must words it "X must be …" (the recipe's keys) rather than
	// "X: expected …" (a task type's params).
	Must bool
}

func (e *ShapeError) Error() string { return "expected " + e.Want + ", got " + e.Got }

func (e *ShapeError) predicate() (string, bool) {
	return "must be " + e.Want + ", got " + e.Got, e.Must
}

// EmptyError is a list or map with fewer entries than it needs.
type EmptyError struct {
	Min  int
	Len  int
	Hint string
}

func (e *EmptyError) Error() string {
	s, _ := e.predicate()
	return s
}

func (e *EmptyError) predicate() (string, bool) {
	s := fmt.Sprintf("has %d entries: it needs at least %d", e.Len, e.Min)
	if e.Len == 0 {
		s = "is empty"
	}
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s, true
}

// UnknownError is a name the type does not declare.
type UnknownError struct {
	Name   string
	Member string // "param" or "key"
	Known  []string
}

func (e *UnknownError) Error() string {
	list := "known params"
	if e.Member == "key" {
		list = "allowed keys"
	}
	return fmt.Sprintf("unknown %s %s%s; %s: %s", e.Member, quote.Text(e.Name), diag.DidYouMean(e.Name, e.Known), list, strings.Join(e.Known, ", "))
}

// MissingError is a required value that is not given.
type MissingError struct {
	Name   string
	Member string // "param" or "key"
	Want   string // the type, as Describe says it
	Hint   string // what to write, when the type has one
}

func (e *MissingError) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("missing required %s %q: %s", e.Member, e.Name, e.Hint)
	}
	return fmt.Sprintf("missing required %s %q (%s)", e.Member, e.Name, e.Want)
}

// DuplicateError is a name given twice in one map.
type DuplicateError struct {
	Name      string
	Member    string // "param" or "key" for an object; "" for a map
	KeyName   string // what a map's keys are ("task id"), when known
	FirstLine int
}

func (e *DuplicateError) Error() string {
	s, _ := e.predicate()
	return s
}

func (e *DuplicateError) predicate() (string, bool) {
	switch {
	case e.KeyName != "":
		return fmt.Sprintf("%s %q is already used at line %d", e.KeyName, e.Name, e.FirstLine), false
	case e.Member != "":
		return fmt.Sprintf("%s %q appears twice (first at line %d)", e.Member, e.Name, e.FirstLine), false
	}
	return fmt.Sprintf("%s appears twice (first at line %d)", e.Name, e.FirstLine), true
}

func (e *DuplicateError) selfNamed() bool { return e.KeyName != "" }

// KeyError is a map key that does not match the map's key pattern.
type KeyError struct {
	Key  string
	Name string // what a key is ("task id"); "" when the map does not say
	Rule string // what the pattern asks, or the pattern itself
}

func (e *KeyError) Error() string {
	if e.Name != "" {
		return fmt.Sprintf("%s %s: %s", e.Name, quote.Text(e.Key), strings.ReplaceAll(e.Rule, "{}", e.Key))
	}
	return fmt.Sprintf("key %s: %s", quote.Text(e.Key), e.Rule)
}

func (e *KeyError) selfNamed() bool { return e.Name != "" }

// EnumError is a value outside the values a field allows.
type EnumError struct {
	Value   string
	Allowed []string
}

func (e *EnumError) Error() string {
	return fmt.Sprintf("%s is not one of %s%s", quote.Text(e.Value), strings.Join(e.Allowed, ", "), diag.DidYouMean(e.Value, e.Allowed))
}
