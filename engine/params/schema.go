package params

import "strings"

// expressionSchema matches a string that is one ${{ }} expression: it may
// stand wherever a value of any type is expected.
var expressionSchema = map[string]any{
	"type":        "string",
	"pattern":     `^\s*\$\{\{[\s\S]*\}\}\s*$`,
	"description": "An expression, evaluated at run time: ${{ ... }}",
}

// durationPattern is a Go duration of 0 or more.
const durationPattern = `([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+`

// JSONSchema returns a JSON Schema (draft 2020-12) fragment for the type.
func (t *Type) JSONSchema() map[string]any { return t.schema(nil) }

// schema is the type's schema with the constraints of f, the field whose
// value it is (nil for the root, items and map values).
func (t *Type) schema(f *Field) map[string]any {
	var s map[string]any
	switch t.Kind {
	case String:
		s = map[string]any{"type": "string"}
		if f != nil && len(f.Enum) > 0 {
			s = t.orExpression(map[string]any{"type": "string", "enum": f.Enum})
		}
	case PathKind:
		s = map[string]any{"type": "string"}
	case Duration:
		if t.Literal {
			s = map[string]any{"type": "string", "pattern": "^" + durationPattern + "$"}
		} else {
			s = map[string]any{"type": "string", "pattern": `^(\$\{\{[\s\S]*\}\}|` + durationPattern + `)$`}
		}
	case SizeKind:
		s = t.orExpression(map[string]any{"type": "integer", "minimum": 0}, map[string]any{"type": "string", "pattern": SizePattern})
	case Int, Float:
		typ := map[string]any{"type": "integer"}
		if t.Kind == Float {
			typ["type"] = "number"
		}
		if f != nil && f.Min != nil {
			typ["minimum"] = *f.Min
		}
		if f != nil && len(f.Enum) > 0 {
			var vals []any
			for _, e := range f.Enum {
				vals = append(vals, parseNumber(e))
			}
			typ = map[string]any{"enum": vals}
			if len(vals) == 1 {
				typ = map[string]any{"const": vals[0]}
			}
		}
		s = t.orExpression(typ)
	case Bool:
		s = t.orExpression(map[string]any{"type": "boolean"})
	case List:
		s = t.orExpression(t.array(f))
	case OneOrList:
		s = t.orExpression(t.Elem.schema(elemField(f)), t.array(f))
	case OneOf:
		// One anyOf of every alternative's shapes, with the expression
		// (where allowed) once, at the end.
		var alts []map[string]any
		for _, a := range t.Alts {
			as := a.schema(nil)
			if list, ok := as["anyOf"].([]any); ok && len(as) == 1 {
				for _, x := range list {
					if m := x.(map[string]any); m["pattern"] != expressionSchema["pattern"] {
						alts = append(alts, m)
					}
				}
				continue
			}
			alts = append(alts, as)
		}
		s = t.orExpression(alts...)
	case Map:
		s = map[string]any{"type": "object", "additionalProperties": t.Elem.schema(nil)}
		if f != nil && f.Keys != nil {
			s["propertyNames"] = map[string]any{"pattern": f.Keys.String()}
		}
		if f != nil && f.Min != nil {
			s["minProperties"] = int(*f.Min)
		}
	case Object:
		s = t.object()
	default:
		s = map[string]any{}
	}
	if typ, ok := s["type"].(string); ok && t.Nullable {
		s["type"] = []string{typ, "null"}
	}
	if f != nil {
		if f.Doc != "" {
			// Editors show description as plain text, markdownDescription
			// as Markdown: code spans lose their backquotes in the first.
			s["description"] = strings.ReplaceAll(f.Doc, "`", "")
			s["markdownDescription"] = f.Doc
		}
		if f.Default != nil {
			s["default"] = f.Default
		}
	}
	return s
}

func (t *Type) object() map[string]any {
	props := map[string]any{}
	var required []string
	for _, f := range t.Fields {
		props[f.Name] = f.Type.schema(f)
		if f.Required {
			required = append(required, f.Name)
		}
	}
	s := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		s["required"] = required
	}
	return s
}

func (t *Type) array(f *Field) map[string]any {
	s := map[string]any{"type": "array", "items": t.Elem.schema(elemField(f))}
	if f != nil && f.Min != nil {
		s["minItems"] = int(*f.Min)
	}
	return s
}

// orExpression lets a value also be written as an expression, unless the
// type is literal. The alternatives sit in anyOf so that editors still
// offer the typed ones.
func (t *Type) orExpression(alts ...map[string]any) map[string]any {
	if t.Literal && len(alts) == 1 {
		return alts[0]
	}
	var list []any
	for _, a := range alts {
		list = append(list, a)
	}
	if !t.Literal {
		list = append(list, expressionSchema)
	}
	return map[string]any{"anyOf": list}
}

// parseNumber reads an enum value of a number field for the schema.
func parseNumber(s string) any {
	var v any = s
	if d, err := parseDefault(&Type{Kind: Int}, s); err == nil {
		v = d
	} else if d, err := parseDefault(&Type{Kind: Float}, s); err == nil {
		v = d
	}
	return v
}
