package params

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/internal/quote"
)

// IsExpression reports whether s is exactly one ${{ ... }} expression, whose
// type is known only at run time.
func IsExpression(s string) bool {
	t := strings.TrimSpace(s)
	return strings.HasPrefix(t, "${{") && strings.HasSuffix(t, "}}") && strings.Count(t, "${{") == 1
}

// HasTemplate reports whether s contains a ${{ ... }} expression.
func HasTemplate(s string) bool { return strings.Contains(s, "${{") }

// Check verifies a YAML node written for this type: unknown names, missing
// required ones, wrong shapes, enum values, key patterns and bounds. It
// returns every problem, each with its path and node. Unless the type is
// Literal, values that are expressions are checked only for what is known
// before they are evaluated.
func (t *Type) Check(n *yaml.Node) Errors {
	r := &reader{}
	r.read(t, nil, n, reflect.Value{}, nil)
	return r.errs
}

// Check verifies a YAML node written for this field, with the field's own
// constraints (key patterns, bounds, enum) besides its type's.
func (f *Field) Check(n *yaml.Node) Errors {
	r := &reader{}
	r.read(f.Type, f, n, reflect.Value{}, nil)
	return r.errs
}

// DecodeNode checks n as Check does and fills the value dst points to from
// it, with defaults for what n leaves out and Paths resolved against dir.
// It reads literal YAML (a Literal type's, or params without expressions);
// on errors, dst holds what could be read.
func (t *Type) DecodeNode(n *yaml.Node, dst any, dir string) Errors {
	rv := reflect.ValueOf(dst)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Type() != t.goType {
		return Errors{{Err: fmt.Errorf("decode: destination must be *%s, got %T", t.goType, dst)}}
	}
	r := &reader{dir: dir}
	r.read(t, nil, n, rv.Elem(), nil)
	return r.errs
}

// reader walks a YAML node and a Go value (when decoding) together.
type reader struct {
	errs Errors
	dir  string
}

func (r *reader) fail(n *yaml.Node, path []string, err error) {
	r.errs = append(r.errs, &FieldError{Path: clone(path), Err: err, Node: n})
}

func (r *reader) wrongShape(t *Type, f *Field, n *yaml.Node, path []string) {
	want := t.shape()
	if f != nil && f.Shape != "" {
		want = f.Shape
	}
	r.fail(n, path, &ShapeError{Want: want, Got: nodeKind(n), Must: t.Literal})
}

func clone(path []string) []string { return append([]string(nil), path...) }

// read checks n against t (f is the field n is the value of, for its
// constraints; nil for the root and items) and, when dst is valid, stores
// its value there.
func (r *reader) read(t *Type, f *Field, n *yaml.Node, dst reflect.Value, path []string) {
	n = deref(n)
	if t.Nullable && n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if dst.IsValid() && dst.Kind() == reflect.Pointer {
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		dst = dst.Elem()
	}
	if !t.Literal && n.Kind == yaml.ScalarNode && n.Tag == "!!str" && IsExpression(n.Value) {
		return // typed at run time
	}
	if f != nil && len(f.Enum) > 0 && n.Kind == yaml.ScalarNode && n.Tag != "!!null" && (t.Literal || !HasTemplate(n.Value)) {
		if !contains(f.Enum, n.Value) {
			r.fail(n, path, &EnumError{Value: n.Value, Allowed: f.Enum})
			return
		}
		if t.Kind == Int || t.Kind == Float {
			// version: "1" is version 1: the enum is what counts.
			if dst.IsValid() {
				r.store(t, n.Value, dst, path, n)
			}
			return
		}
	}
	switch t.Kind {
	case Any:
		// Anything goes; a map inside with a key twice, which YAML will not
		// decode, is left out for whoever reads the value to report.
		if dst.IsValid() {
			var v any
			if err := n.Decode(&v); err == nil && v != nil {
				dst.Set(reflect.ValueOf(v))
			}
		}
	case String, PathKind:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			r.wrongShape(t, f, n, path)
			return
		}
		if dst.IsValid() {
			s := n.Value
			if t.Kind == PathKind {
				s = resolve(r.dir, s)
			}
			dst.SetString(s)
		}
	case Int, Float:
		r.number(t, f, n, dst, path)
	case Bool:
		if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
			if dst.IsValid() {
				var b bool
				if err := n.Decode(&b); err == nil {
					dst.SetBool(b)
				}
			}
		} else if !r.templated(t, n) {
			r.wrongShape(t, f, n, path)
		}
	case Duration:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
			r.wrongShape(t, f, n, path)
			return
		}
		if !t.Literal && HasTemplate(n.Value) {
			return
		}
		d, err := parseDuration(n.Value)
		if err != nil {
			r.fail(n, path, err)
		} else if dst.IsValid() {
			dst.SetInt(int64(d))
		}
	case SizeKind:
		r.size(t, f, n, dst, path)
	case List:
		if n.Kind != yaml.SequenceNode {
			r.wrongShape(t, f, n, path)
			return
		}
		r.items(t, f, n, n.Content, dst, path)
	case OneOrList:
		switch {
		case n.Kind == yaml.SequenceNode:
			r.items(t, f, n, n.Content, dst, path)
		case n.Kind == yaml.ScalarNode && n.Tag != "!!null":
			r.items(t, f, n, []*yaml.Node{n}, dst, path)
		default:
			r.wrongShape(t, f, n, path)
		}
	case OneOf:
		r.oneOf(t, f, n, dst, path)
	case Map:
		r.mapping(t, f, n, dst, path)
	case Object:
		r.object(t, f, n, dst, path)
	}
}

// templated accepts, for a task's params, a string that contains an
// expression where a number or bool is expected: its text is converted
// at run time.
func (r *reader) templated(t *Type, n *yaml.Node) bool {
	return !t.Literal && n.Kind == yaml.ScalarNode && n.Tag == "!!str" && HasTemplate(n.Value)
}

func (r *reader) number(t *Type, f *Field, n *yaml.Node, dst reflect.Value, path []string) {
	ok := n.Kind == yaml.ScalarNode && (n.Tag == "!!int" || t.Kind == Float && n.Tag == "!!float")
	if !ok {
		if !r.templated(t, n) {
			r.wrongShape(t, f, n, path)
		}
		return
	}
	var v float64
	if err := n.Decode(&v); err != nil {
		r.wrongShape(t, f, n, path)
		return
	}
	if f != nil && f.Min != nil && v < *f.Min {
		want := f.Shape
		if want == "" {
			want = fmt.Sprintf("%s of at least %v", t.shape(), *f.Min)
		}
		r.fail(n, path, &ShapeError{Want: want, Got: nodeKind(n), Must: t.Literal})
		return
	}
	if dst.IsValid() {
		r.store(t, n.Value, dst, path, n)
	}
}

// store sets a number from its text.
func (r *reader) store(t *Type, text string, dst reflect.Value, path []string, n *yaml.Node) {
	var v any = text
	if t.Kind == Int {
		var i int64
		if err := yaml.Unmarshal([]byte(text), &i); err != nil {
			r.wrongShape(t, nil, n, path)
			return
		}
		v = i
	}
	if err := decodeValue(t, v, dst, path, r.dir); err != nil {
		r.fail(n, path, err.Err)
	}
}

func (r *reader) size(t *Type, f *Field, n *yaml.Node, dst reflect.Value, path []string) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" && n.Tag != "!!str" {
		r.wrongShape(t, f, n, path)
		return
	}
	if n.Tag == "!!str" && !t.Literal && HasTemplate(n.Value) {
		return
	}
	var s Size
	if n.Tag == "!!int" {
		// Only plain decimal digits: YAML's 0x10, 0o10, 010 (octal to
		// yaml.v3) and 1_000 are integers too, and a size written so is
		// more likely a mistake than meant.
		if !decimalRe.MatchString(n.Value) {
			r.fail(n, path, fmt.Errorf("%s is not a size: %s (plain decimal digits for bytes)", quote.Cut(n.Value), sizeHelp))
			return
		}
		var err error
		if s, err = ParseSize(n.Value); err != nil {
			r.fail(n, path, err)
			return
		}
	} else {
		var err error
		if s, err = ParseSize(n.Value); err != nil {
			r.fail(n, path, err)
			return
		}
	}
	if f != nil && f.Min != nil && float64(s) < *f.Min {
		r.fail(n, path, fmt.Errorf("%s is too small: use at least %v", quote.Text(n.Value), Size(*f.Min)))
		return
	}
	if dst.IsValid() {
		dst.SetInt(int64(s))
	}
}

// items reads the items of a list (or the one value of a OneOrList).
func (r *reader) items(t *Type, f *Field, n *yaml.Node, items []*yaml.Node, dst reflect.Value, path []string) {
	if f != nil && f.Min != nil && float64(len(items)) < *f.Min {
		r.fail(n, path, &EmptyError{Min: int(*f.Min), Len: len(items), Hint: f.Hint})
	}
	var out reflect.Value
	if dst.IsValid() {
		out = reflect.MakeSlice(dst.Type(), len(items), len(items))
	}
	ef := elemField(f)
	for i, c := range items {
		var ev reflect.Value
		if out.IsValid() {
			ev = out.Index(i)
		}
		p := path
		if n.Kind == yaml.SequenceNode {
			p = append(path, index(i))
		}
		r.read(t.Elem, ef, c, ev, p)
	}
	if dst.IsValid() {
		dst.Set(out)
	}
}

// elemField passes a list field's enum on to its items.
func elemField(f *Field) *Field {
	if f == nil || len(f.Enum) == 0 {
		return nil
	}
	return &Field{Enum: f.Enum}
}

// oneOf reads n as the first alternative that takes it without a problem;
// when none does, the problems are those of the one alternative of n's
// kind, or that n has none of the shapes.
func (r *reader) oneOf(t *Type, f *Field, n *yaml.Node, dst reflect.Value, path []string) {
	var ofKind *reader
	matches := 0
	for _, alt := range t.Alts {
		sub := &reader{dir: r.dir}
		sub.read(alt, nil, n, reflect.Value{}, path)
		if len(sub.errs) == 0 {
			if dst.IsValid() {
				var v any
				if err := n.Decode(&v); err == nil && v != nil {
					dst.Set(reflect.ValueOf(v))
				}
			}
			return
		}
		if sameKind(alt, n) {
			ofKind = sub
			matches++
		}
	}
	if matches == 1 {
		r.errs = append(r.errs, ofKind.errs...)
		return
	}
	r.wrongShape(t, f, n, path)
}

// sameKind says whether n is the kind of YAML node t reads: a scalar, a
// sequence or a mapping.
func sameKind(t *Type, n *yaml.Node) bool {
	switch t.Kind {
	case List:
		return n.Kind == yaml.SequenceNode
	case Map, Object:
		return n.Kind == yaml.MappingNode
	case Any, OneOf, OneOrList:
		return true
	}
	return n.Kind == yaml.ScalarNode
}

func (r *reader) mapping(t *Type, f *Field, n *yaml.Node, dst reflect.Value, path []string) {
	if n.Kind != yaml.MappingNode {
		r.wrongShape(t, f, n, path)
		return
	}
	if f != nil && f.Min != nil && float64(len(n.Content)/2) < *f.Min {
		r.fail(n, path, &EmptyError{Min: int(*f.Min), Len: len(n.Content) / 2, Hint: f.Hint})
	}
	var out reflect.Value
	if dst.IsValid() {
		out = reflect.MakeMapWithSize(dst.Type(), len(n.Content)/2)
	}
	var keyName string
	if f != nil {
		keyName = f.KeyName
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if f != nil && f.Keys != nil && !f.Keys.MatchString(k.Value) {
			rule := f.KeyRule
			if rule == "" {
				rule = "must match " + f.Keys.String()
			}
			r.fail(k, path, &KeyError{Key: k.Value, Name: f.KeyName, Rule: rule})
			continue
		}
		if first := seen[k.Value]; first != nil {
			r.fail(k, path, &DuplicateError{Name: k.Value, KeyName: keyName, FirstLine: first.Line})
			continue
		}
		seen[k.Value] = k
		var ev reflect.Value
		if out.IsValid() {
			ev = reflect.New(dst.Type().Elem()).Elem()
		}
		r.read(t.Elem, nil, v, ev, append(path, k.Value))
		if out.IsValid() {
			out.SetMapIndex(reflect.ValueOf(k.Value).Convert(dst.Type().Key()), ev)
		}
	}
	if dst.IsValid() {
		dst.Set(out)
	}
}

func (r *reader) object(t *Type, f *Field, n *yaml.Node, dst reflect.Value, path []string) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" && !t.Literal {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	}
	if n.Kind != yaml.MappingNode {
		r.wrongShape(t, f, n, path)
		return
	}
	member := t.member()
	seen := map[string]*yaml.Node{}
	// A misspelt required param is reported once, not also as missing;
	// the recipe's own keys say both (the missing key's hint helps).
	suggested := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		fld := t.Field(k.Value)
		if fld == nil {
			if !t.Literal {
				suggested[diag.Suggest(k.Value, t.FieldNames())] = true
			}
			r.fail(k, path, &UnknownError{Name: k.Value, Member: member, Known: t.FieldNames()})
			continue
		}
		if first := seen[k.Value]; first != nil {
			r.fail(k, path, &DuplicateError{Name: k.Value, Member: member, FirstLine: first.Line})
			continue
		}
		seen[k.Value] = k
		var fv reflect.Value
		if dst.IsValid() {
			fv = dst.FieldByIndex(fld.index)
		}
		r.read(fld.Type, fld, v, fv, append(path, fld.Name))
	}
	for _, fld := range t.Fields {
		if seen[fld.Name] != nil || suggested[fld.Name] {
			continue
		}
		if fld.Required {
			r.fail(n, path, &MissingError{Name: fld.Name, Member: member, Want: fld.Type.Describe(), Hint: fld.Hint})
		} else if def := fld.defaultValue(); def != nil && dst.IsValid() {
			if err := decodeValue(fld.Type, def, dst.FieldByIndex(fld.index), append(path, fld.Name), r.dir); err != nil {
				r.fail(n, append(path, fld.Name), err.Err)
			}
		}
	}
}

// parseDuration reads a Go duration of 0 or more.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("bad duration %s: use a number and a unit (ns, us, ms, s, m, h), e.g. \"90s\" or \"1h30m\"", quote.Text(s))
	}
	if d < 0 {
		return 0, fmt.Errorf("%s is negative: a duration is 0 or more", quote.Cut(strings.TrimSpace(s)))
	}
	return d, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			return "an empty map"
		}
		return "a map"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing (null)"
		case "!!str":
			return "the string " + quote.Text(n.Value)
		case "!!int":
			return "the integer " + quote.Cut(n.Value)
		case "!!float":
			return "the number " + quote.Cut(n.Value)
		case "!!bool":
			return "the boolean " + n.Value
		}
		return quote.Cut(n.Value)
	}
	return "an unexpected YAML node"
}

// NodeKind describes a YAML node for error messages ("a list", "the string \"x\"").
func NodeKind(n *yaml.Node) string { return nodeKind(n) }
