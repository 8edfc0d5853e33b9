package params

import (
	"fmt"
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
// required params, wrong shapes and enum values. Values that are expressions
// are checked only for shape where that is known. what names the value in
// messages ("param \"files\"").
func (t *Type) Check(file string, n *yaml.Node, what string, out *diag.List) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && IsExpression(n.Value) {
		return // typed at run time
	}
	switch t.Kind {
	case Any:
		return
	case String:
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			out.Add(file, n.Line, n.Column, "%s: expected a string, got %s", what, nodeKind(n))
		}
	case Int:
		if !scalarWithTag(n, "!!int") && !templatedString(n) {
			out.Add(file, n.Line, n.Column, "%s: expected an integer, got %s", what, nodeKind(n))
		}
	case Float:
		if !scalarWithTag(n, "!!int") && !scalarWithTag(n, "!!float") && !templatedString(n) {
			out.Add(file, n.Line, n.Column, "%s: expected a number, got %s", what, nodeKind(n))
		}
	case Bool:
		if !scalarWithTag(n, "!!bool") && !templatedString(n) {
			out.Add(file, n.Line, n.Column, "%s: expected true or false, got %s", what, nodeKind(n))
		}
	case Duration:
		if !scalarWithTag(n, "!!str") {
			out.Add(file, n.Line, n.Column, "%s: expected a duration such as \"30s\" or \"5m\", got %s", what, nodeKind(n))
		} else if !HasTemplate(n.Value) {
			if d, err := time.ParseDuration(n.Value); err != nil {
				out.Add(file, n.Line, n.Column, "%s: bad duration %s: use a number and a unit (ns, us, ms, s, m, h), e.g. \"90s\" or \"1h30m\"", what, quote.Text(n.Value))
			} else if d < 0 {
				out.Add(file, n.Line, n.Column, "%s: %s is negative: a duration is 0 or more", what, n.Value)
			}
		}
	case List:
		if n.Kind != yaml.SequenceNode {
			out.Add(file, n.Line, n.Column, "%s: expected a list, got %s", what, nodeKind(n))
			return
		}
		for i, c := range n.Content {
			t.Elem.Check(file, c, fmt.Sprintf("%s[%d]", what, i), out)
		}
	case Map:
		if n.Kind != yaml.MappingNode {
			out.Add(file, n.Line, n.Column, "%s: expected a map, got %s", what, nodeKind(n))
			return
		}
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if seen[k.Value] {
				out.Add(file, k.Line, k.Column, "%s: key %q appears twice", what, k.Value)
			}
			seen[k.Value] = true
			t.Elem.Check(file, v, fmt.Sprintf("%s.%s", what, k.Value), out)
		}
	case Object:
		t.checkObject(file, n, what, out)
	}
}

func (t *Type) checkObject(file string, n *yaml.Node, what string, out *diag.List) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line, Column: n.Column}
	}
	if n.Kind != yaml.MappingNode {
		out.Add(file, n.Line, n.Column, "%s: expected a map of params, got %s", what, nodeKind(n))
		return
	}
	seen := map[string]bool{}
	suggested := map[string]bool{} // a misspelt required param is reported once, not also as missing
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		f := t.Field(k.Value)
		switch {
		case f == nil:
			suggested[diag.Suggest(k.Value, t.FieldNames())] = true
			out.Add(file, k.Line, k.Column, "%s: unknown param %s%s; known params: %s",
				what, quote.Text(k.Value), diag.DidYouMean(k.Value, t.FieldNames()), strings.Join(t.FieldNames(), ", "))
			continue
		case seen[k.Value]:
			out.Add(file, k.Line, k.Column, "%s: param %q appears twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		name := what + "." + f.Name
		f.Type.Check(file, v, name, out)
		if len(f.Enum) > 0 && v.Kind == yaml.ScalarNode && !HasTemplate(v.Value) && !contains(f.Enum, v.Value) {
			out.Add(file, v.Line, v.Column, "%s: %s is not one of %s%s", name, quote.Text(v.Value),
				strings.Join(f.Enum, ", "), diag.DidYouMean(v.Value, f.Enum))
		}
	}
	for _, f := range t.Fields {
		if f.Required && !seen[f.Name] && !suggested[f.Name] {
			out.Add(file, n.Line, n.Column, "%s: missing required param %q (%s)", what, f.Name, f.Type.Describe())
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func scalarWithTag(n *yaml.Node, tag string) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == tag
}

// templatedString accepts a string that contains an expression where a number
// or bool is expected: its text is converted at run time.
func templatedString(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!str" && HasTemplate(n.Value)
}

func nodeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
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
