package eval

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/conf"
)

// MaxBuild is how much one evaluation of an expression may build, in
// bytes: the strings it makes, and 16 bytes for each element of a list or
// map. expr-lang's own memory budget counts list elements only, so that
// repeat("x", 1e6) nested once more, or a string doubled in a reduce, asked
// for gigabytes and killed runner. A recipe's expressions pick files, dates
// and names; 32 MiB is far more than any of them needs.
const MaxBuild = 32 << 20

// elemSize is what one element of a list or map counts for.
const elemSize = 16

// budget is what is left of MaxBuild in one evaluation.
type budget struct{ left int64 }

func newBudget() *budget { return &budget{left: MaxBuild} }

// errTooBig is the error of an expression that would build more than
// MaxBuild: what would have gone over, and by how much it asked.
func errTooBig(what string, size float64) error {
	return fmt.Errorf("the expression would build more than the %d MiB an expression may build (%s asked for %s more)",
		MaxBuild>>20, what, sizeText(size))
}

func sizeText(n float64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.0f MiB", n/(1<<20))
	}
	return fmt.Sprintf("%.0f bytes", n)
}

// spend takes size from the budget, or fails naming what asked for it.
func (b *budget) spend(what string, size int64) error {
	if size < 0 || size > b.left {
		return errTooBig(what, float64(size))
	}
	b.left -= size
	return nil
}

// sizeOf is what v counts for: its strings' bytes and 16 bytes an element,
// however deep. It stops counting once over limit.
func sizeOf(v any, limit int64) int64 {
	switch x := v.(type) {
	case nil, bool, int, int64, float64:
		return 0
	case string:
		return int64(len(x))
	case []string:
		n := int64(len(x)) * elemSize
		for _, s := range x {
			if n += int64(len(s)); n > limit {
				return n
			}
		}
		return n
	case []any:
		n := int64(len(x)) * elemSize
		for _, e := range x {
			if n += sizeOf(e, limit-n); n > limit {
				return n
			}
		}
		return n
	case map[string]any:
		n := int64(len(x)) * elemSize
		for k, e := range x {
			if n += int64(len(k)) + sizeOf(e, limit-n); n > limit {
				return n
			}
		}
		return n
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		n := int64(rv.Len()) * elemSize
		switch rv.Type().Elem().Kind() {
		case reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64:
			return n
		}
		for i := 0; i < rv.Len() && n <= limit; i++ {
			n += sizeOf(rv.Index(i).Interface(), limit-n)
		}
		return n
	case reflect.Map:
		return int64(rv.Len()) * 2 * elemSize
	}
	return 0
}

// bound counts what an operation built against the budget (patched around
// every +, call and literal that can make a string or a list).
func (b *budget) bound(v any) (any, error) {
	if err := b.spend(describe(v), sizeOf(v, b.left+1)); err != nil {
		return nil, err
	}
	return v, nil
}

// describe names what an operation built, for errTooBig.
func describe(v any) string {
	switch reflect.ValueOf(v).Kind() {
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map:
		return "a map"
	}
	return "a value"
}

// repeat is expr-lang's repeat, sized before it is built.
func (b *budget) repeat(s string, n int) (string, error) {
	if n < 0 {
		return "", fmt.Errorf("repeat: the count %d is negative", n)
	}
	if len(s) > 0 && n > MaxBuild/len(s) {
		return "", errTooBig("repeat", float64(len(s))*float64(n))
	}
	if err := b.spend("repeat", int64(len(s)*n)); err != nil {
		return "", err
	}
	return strings.Repeat(s, n), nil
}

// replace is expr-lang's replace (3 arguments: all; 4: the first n), sized
// before it is built.
func (b *budget) replace(s, old, new string, n ...int) (string, error) {
	count := strings.Count(s, old)
	if old == "" {
		count = utf8.RuneCountInString(s) + 1
	}
	limit := -1
	if len(n) > 1 {
		return "", fmt.Errorf("replace takes 3 or 4 arguments, got %d", 3+len(n))
	}
	if len(n) == 1 {
		limit = n[0]
		if limit >= 0 && limit < count {
			count = limit
		}
	}
	if grow := int64(len(new)) - int64(len(old)); grow > 0 {
		if err := b.spend("replace", int64(len(s))+int64(count)*grow); err != nil {
			return "", err
		}
	}
	return strings.Replace(s, old, new, limit), nil
}

// join is expr-lang's join, sized before it is built.
func (b *budget) join(list any, glue ...string) (string, error) {
	sep := ""
	switch len(glue) {
	case 0:
	case 1:
		sep = glue[0]
	default:
		return "", fmt.Errorf("join takes 1 or 2 arguments, got %d", 1+len(glue))
	}
	var parts []string
	switch x := list.(type) {
	case []string:
		parts = x
	case []any:
		parts = make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return "", fmt.Errorf("join: element %d is %T, not a string", i, e)
			}
			parts[i] = s
		}
	default:
		return "", fmt.Errorf("join takes a list of strings, got %T", list)
	}
	size := int64(len(sep)) * int64(max(len(parts)-1, 0))
	for _, p := range parts {
		size += int64(len(p))
	}
	if err := b.spend("join", size); err != nil {
		return "", err
	}
	return strings.Join(parts, sep), nil
}

// concat is expr-lang's concat, sized before it is built.
func (b *budget) concat(lists ...any) ([]any, error) {
	total := 0
	for i, l := range lists {
		rv := reflect.ValueOf(l)
		if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
			return nil, fmt.Errorf("concat: argument %d is %T, not a list", i+1, l)
		}
		total += rv.Len()
	}
	if err := b.spend("concat", int64(total)*elemSize); err != nil {
		return nil, err
	}
	out := make([]any, 0, total)
	for _, l := range lists {
		rv := reflect.ValueOf(l)
		for i := 0; i < rv.Len(); i++ {
			out = append(out, rv.Index(i).Interface())
		}
	}
	return out, nil
}

// toJSON is expr-lang's toJSON, sized before it is built (see jsonSize).
func (b *budget) toJSON(v any) (string, error) {
	if size := jsonSize(v, 0, b.left+1); size > b.left {
		return "", errTooBig("toJSON", float64(size))
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("toJSON: %w", err)
	}
	if err := b.spend("toJSON", int64(len(out))); err != nil {
		return "", err
	}
	return string(out), nil
}

// jsonSize is at most how long v is as JSON indented by two spaces at
// depth: every string byte escaped to six, every number 24 bytes, and each
// element of a list or map on a line of its own, indented — so a list of
// empty lists nested deep, which holds nothing, counts for its indentation.
// It stops counting once over limit.
func jsonSize(v any, depth int, limit int64) int64 {
	line := 1 + 2*int64(depth+1) + 1 // newline, indentation, comma
	switch x := v.(type) {
	case nil:
		return 4
	case bool:
		return 5
	case int, int64, float64, int32, uint, uint64, float32:
		return 24
	case string:
		return 2 + 6*int64(len(x))
	case []any:
		n := int64(2) + 1 + 2*int64(depth)
		for _, e := range x {
			if n += line + jsonSize(e, depth+1, limit-n); n > limit {
				return n
			}
		}
		return n
	case map[string]any:
		n := int64(2) + 1 + 2*int64(depth)
		for k, e := range x {
			if n += line + 4 + 6*int64(len(k)) + jsonSize(e, depth+1, limit-n); n > limit {
				return n
			}
		}
		return n
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		n := int64(2) + 1 + 2*int64(depth)
		for i := 0; i < rv.Len(); i++ {
			if n += line + jsonSize(rv.Index(i).Interface(), depth+1, limit-n); n > limit {
				return n
			}
		}
		return n
	case reflect.Map:
		n := int64(2) + 1 + 2*int64(depth)
		iter := rv.MapRange()
		for iter.Next() {
			if n += line + 4 + 6*int64(len(fmt.Sprint(iter.Key().Interface()))) + jsonSize(iter.Value().Interface(), depth+1, limit-n); n > limit {
				return n
			}
		}
		return n
	case reflect.String:
		return 2 + 6*int64(rv.Len())
	}
	// Structs and other values: their text as an upper bound, or the limit
	// when it cannot be sized.
	if data, err := json.Marshal(v); err == nil && int64(len(data)) < limit {
		return 6 * int64(len(data))
	}
	return limit
}

// install gives a scope the builders of one evaluation.
func (b *budget) install(s *Scope) {
	s.Bound = b.bound
	s.Repeat = b.repeat
	s.Replace = b.replace
	s.Join = b.join
	s.ToJSON = b.toJSON
	s.Concat = b.concat
}

// boundedBuiltins are expr-lang's builtins replaced by sized ones.
var boundedBuiltins = []string{"repeat", "replace", "join", "toJSON", "concat"}

// boundName is the helper the patcher wraps around builders.
const boundName = "__bound"

// disableBuilders hands repeat, replace, join, toJSON and concat to the Scope's
// sized versions and wraps everything else that can build a string or a
// list in a count against the budget.
func disableBuilders(c *conf.Config) {
	for _, name := range boundedBuiltins {
		c.Disabled[name] = true
		delete(c.Builtins, name)
	}
	c.Visitors = append(c.Visitors, &boundPatcher{})
}

// boundPatcher wraps every +, call, builtin, list and map literal, slice
// and pipe whose value may be a string, a list or a map in __bound(…).
type boundPatcher struct{}

// Visit implements ast.Visitor.
func (p *boundPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator != "+" {
			return
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == boundName {
			return // patched already
		}
	case *ast.BuiltinNode, *ast.ArrayNode, *ast.MapNode, *ast.SliceNode:
	default:
		return
	}
	if t := (*node).Type(); t != nil {
		switch t.Kind() {
		case reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Float32:
			return // numbers and booleans take no room
		}
	}
	wrapped := &ast.CallNode{Callee: &ast.IdentifierNode{Value: boundName}, Arguments: []ast.Node{*node}}
	ast.Patch(node, wrapped)
}
