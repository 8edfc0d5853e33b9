package eval

// Value is a compiled YAML value whose strings may hold templates: the
// `with` block of a task, a var, an env entry.
type Value interface {
	// Eval resolves every template inside the value.
	Eval(s *Scope) (any, error)
	// Exprs lists every expression inside the value.
	Exprs() []*Expr
}

// Literal is a value without templates.
func Literal(v any) Value { return literal{v} }

// TemplateValue is a string value with templates.
func TemplateValue(t *Template) Value { return templateValue{t} }

// MapValue is a mapping with keys in file order.
func MapValue(keys []string, vals []Value) Value { return mapValue{keys, vals} }

// ListValue is a sequence.
func ListValue(items []Value) Value { return listValue(items) }

type literal struct{ v any }

func (l literal) Eval(*Scope) (any, error) { return l.v, nil }
func (literal) Exprs() []*Expr             { return nil }

type templateValue struct{ t *Template }

func (t templateValue) Eval(s *Scope) (any, error) { return t.t.Eval(s) }
func (t templateValue) Exprs() []*Expr             { return t.t.Exprs() }

// Source is the template as written (see Template.Source).
func (t templateValue) Source() string { return t.t.Source() }

type mapValue struct {
	keys []string
	vals []Value
}

func (m mapValue) Eval(s *Scope) (any, error) {
	out := make(map[string]any, len(m.keys))
	for i, k := range m.keys {
		v, err := m.vals[i].Eval(s)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

func (m mapValue) Exprs() []*Expr {
	var out []*Expr
	for _, v := range m.vals {
		out = append(out, v.Exprs()...)
	}
	return out
}

type listValue []Value

func (l listValue) Eval(s *Scope) (any, error) {
	out := make([]any, len(l))
	for i, v := range l {
		x, err := v.Eval(s)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (l listValue) Exprs() []*Expr {
	var out []*Expr
	for _, v := range l {
		out = append(out, v.Exprs()...)
	}
	return out
}

// HasUnknown reports whether an evaluated value contains an Unknown.
func HasUnknown(v any) bool {
	switch x := v.(type) {
	case Unknown:
		return true
	case map[string]any:
		for _, e := range x {
			if HasUnknown(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if HasUnknown(e) {
				return true
			}
		}
	}
	return false
}
