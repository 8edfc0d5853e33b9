package eval

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	"github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/vm"

	"github.com/novelfactory/runner/internal/quote"
)

// Ref is a reference from an expression to a task: tasks.<Task>.<Field>.<Key>.
// Field and Key are empty when the expression does not name them literally.
type Ref struct {
	Task  string
	Field string // "outputs" or "status"
	Key   string // output name
}

// Expr is one compiled expression.
type Expr struct {
	Source string
	Tasks  []Ref    // tasks it reads
	Vars   []string // vars it reads by literal name
	// Env names the environment variables it reads by literal name:
	// env.NAME, env["NAME"] and env_or("NAME", …).
	Env []string
	// UsesItem is true when the expression reads item or index.
	UsesItem bool
	// UsesAlways is true when the expression calls always(): as in GitHub
	// Actions, such a condition is evaluated even when a needed task failed
	// or was skipped.
	UsesAlways bool
	// UsesFailure is true when the expression calls failure(): like
	// always(), it is evaluated even when a needed task failed or was
	// skipped (else it could never hold).
	UsesFailure bool
	// UsesSuccess is true when the expression calls success().
	UsesSuccess bool
	prog        *vm.Program
}

// CompileError is an expression that does not compile, with the 1-based
// column within the expression's source.
type CompileError struct {
	Col int
	Msg string
}

func (e *CompileError) Error() string { return e.Msg }

// Compiler compiles expressions against the Scope type. It builds
// expr-lang's configuration once and reuses the program of a source it has
// already compiled: a 1,000-task recipe repeats the same few expressions.
// A Compiler is not safe for concurrent use.
type Compiler struct {
	config *conf.Config
	cache  map[string]*Expr
}

// NewCompiler returns a compiler for one recipe load.
func NewCompiler() *Compiler {
	config := conf.CreateNew()
	config.WithEnv(Scope{})
	disableBuilders(config)
	config.Check()
	return &Compiler{config: config, cache: map[string]*Expr{}}
}

// Compile compiles one bare expression against the Scope type.
func Compile(src string) (*Expr, error) { return NewCompiler().Compile(src) }

// Compile compiles one bare expression. Each call returns a distinct *Expr,
// so that callers can tell occurrences apart, sharing the compiled program.
func (c *Compiler) Compile(src string) (*Expr, error) {
	if e, ok := c.cache[src]; ok {
		dup := *e
		return &dup, nil
	}
	if strings.TrimSpace(src) == "" {
		return nil, &CompileError{Col: 1, Msg: "empty expression"}
	}
	prog, err := c.compile(src)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, &CompileError{Col: fe.Column + 1, Msg: "bad expression: " + fe.Message}
		}
		return nil, &CompileError{Col: 1, Msg: "bad expression: " + err.Error()}
	}
	e := &Expr{Source: src, prog: prog}
	node := prog.Node()
	if t := node.Type(); t != nil && t.Kind() == reflect.Func {
		// `if: failure` is a function value, which no condition or param
		// can use: the author meant to call it.
		name := strings.TrimSpace(src)
		return nil, &CompileError{Col: 1, Msg: fmt.Sprintf("%s is a function: call it, as %s()", quote.Text(name), name)}
	}
	rc := &refCollector{}
	ast.Walk(&node, rc)
	if rc.err != "" {
		return nil, &CompileError{Col: 1, Msg: rc.err}
	}
	e.Tasks, e.Vars, e.Env, e.UsesItem = rc.tasks, rc.vars, rc.env, rc.usesItem
	e.UsesAlways, e.UsesFailure, e.UsesSuccess = rc.usesAlways, rc.usesFailure, rc.usesSuccess
	c.cache[src] = e
	dup := *e
	return &dup, nil
}

// compile does what expr.Compile does, with the shared configuration.
func (c *Compiler) compile(src string) (*vm.Program, error) {
	tree, err := checker.ParseCheck(src, c.config)
	if err != nil {
		return nil, err
	}
	if err := optimizer.Optimize(&tree.Node, c.config); err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, fe.Bind(tree.Source)
		}
		return nil, err
	}
	return compiler.Compile(tree, c.config)
}

// Unknown is the value of an expression that reads outputs not known yet
// (in a dry run). It prints like Terraform's "(known after apply)".
type Unknown struct {
	Source string // the expression
	Text   string // a template's text with the unknown parts as placeholders
}

func (u Unknown) String() string {
	if u.Text != "" {
		return u.Text
	}
	return "(known after run)"
}

// Eval evaluates the expression in scope.
func (e *Expr) Eval(s *Scope) (any, error) {
	if s.Known != nil {
		for _, r := range e.Tasks {
			if !s.Known(r) {
				return Unknown{Source: e.Source}, nil
			}
		}
	}
	sc := *s
	newBudget().install(&sc)
	v, err := expr.Run(e.prog, sc)
	if err != nil {
		var fe *file.Error
		// expr-lang's messages hold the values they failed on, whole.
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("evaluate %s: %s", quote.Text(e.Source), quote.Message(fe.Message))
		}
		if msg := err.Error(); len(msg) > quote.MaxMessageRunes {
			return nil, fmt.Errorf("evaluate %s: %s", quote.Text(e.Source), quote.Message(msg))
		}
		return nil, fmt.Errorf("evaluate %s: %w", quote.Text(e.Source), err)
	}
	return v, nil
}

// Bool evaluates a condition. It accepts booleans and the strings "true" and
// "false" (from --set); anything else is an error rather than a guess.
func (e *Expr) Bool(s *Scope) (bool, error) {
	v, err := e.Eval(s)
	if err != nil {
		return false, err
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		switch b {
		case "true":
			return true, nil
		case "false", "":
			return false, nil
		}
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("condition %s gave %s, not true or false", quote.Text(e.Source), quote.Cut(Text(v)))
}

// Text renders a value the way it appears inside a string: strings as they
// are, times as RFC 3339, lists and maps as JSON, nil as nothing.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case time.Time:
		return x.Format(time.RFC3339)
	case time.Duration:
		return x.String()
	case fmt.Stringer:
		return x.String()
	case bool, int, int64, float64, int32, uint, uint64:
		return fmt.Sprint(x)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// refCollector finds literal references to tasks.<id>… and vars.<name>.
type refCollector struct {
	tasks       []Ref
	vars        []string
	env         []string
	usesItem    bool
	usesAlways  bool
	usesFailure bool
	usesSuccess bool
	err         string
}

func (c *refCollector) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok && (id.Value == "item" || id.Value == "index") {
		c.usesItem = true
	}
	if call, ok := (*node).(*ast.CallNode); ok {
		if id, ok := call.Callee.(*ast.IdentifierNode); ok {
			switch id.Value {
			case "always":
				c.usesAlways = true
			case "failure":
				c.usesFailure = true
			case "success":
				c.usesSuccess = true
			case "env_or":
				if len(call.Arguments) > 0 {
					if s, ok := call.Arguments[0].(*ast.StringNode); ok {
						c.env = addName(c.env, s.Value)
					}
				}
			}
		}
	}
	m, ok := (*node).(*ast.MemberNode)
	if !ok {
		return
	}
	chain := memberChain(m)
	if len(chain) == 0 {
		return
	}
	root, ok := chain[0].(*ast.IdentifierNode)
	if !ok {
		return
	}
	// Only the outermost member of a chain is recorded: a Visit for the
	// inner ones comes first and is overwritten below when longer.
	props := make([]string, 0, len(chain)-1)
	for _, p := range chain[1:] {
		s, ok := p.(*ast.StringNode)
		if !ok {
			break
		}
		props = append(props, s.Value)
	}
	switch root.Value {
	case "tasks":
		if len(props) == 0 {
			c.err = "tasks must be indexed by a literal task id, e.g. tasks[\"build\"].outputs.path"
			return
		}
		r := Ref{Task: props[0]}
		if len(props) > 1 {
			r.Field = props[1]
		}
		if len(props) > 2 {
			r.Key = props[2]
		}
		c.addTask(r)
	case "vars":
		if len(props) > 0 {
			c.addVar(props[0])
		}
	case "env":
		if len(props) > 0 {
			c.env = addName(c.env, props[0])
		}
	}
}

// addName appends name to names unless it is there already.
func addName(names []string, name string) []string {
	for _, n := range names {
		if n == name {
			return names
		}
	}
	return append(names, name)
}

// addTask records r, replacing a shorter prefix of it recorded earlier.
func (c *refCollector) addTask(r Ref) {
	for i, old := range c.tasks {
		if old.Task != r.Task {
			continue
		}
		if (old.Field == "" || old.Field == r.Field) && (old.Key == "" || old.Key == r.Key) {
			c.tasks[i] = r
			return
		}
		if (r.Field == "" || r.Field == old.Field) && (r.Key == "" || r.Key == old.Key) {
			return
		}
	}
	c.tasks = append(c.tasks, r)
}

func (c *refCollector) addVar(name string) {
	for _, v := range c.vars {
		if v == name {
			return
		}
	}
	c.vars = append(c.vars, name)
}

// memberChain flattens a.b["c"].d into [a, "b", "c", "d"].
func memberChain(m *ast.MemberNode) []ast.Node {
	var props []ast.Node
	var n ast.Node = m
	for {
		mm, ok := n.(*ast.MemberNode)
		if !ok {
			break
		}
		props = append(props, mm.Property)
		n = mm.Node
	}
	chain := []ast.Node{n}
	for i := len(props) - 1; i >= 0; i-- {
		chain = append(chain, props[i])
	}
	return chain
}

// MarshalJSON renders an Unknown as its placeholder text.
func (u Unknown) MarshalJSON() ([]byte, error) { return json.Marshal(u.String()) }
