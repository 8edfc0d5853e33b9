package params

// expressionSchema matches a string that is one ${{ }} expression: it may
// stand wherever a value of any type is expected.
var expressionSchema = map[string]any{
	"type":        "string",
	"pattern":     `^\s*\$\{\{[\s\S]*\}\}\s*$`,
	"description": "An expression, evaluated at run time: ${{ ... }}",
}

// JSONSchema returns a JSON Schema (draft 2020-12) fragment for the type.
func (t *Type) JSONSchema() map[string]any {
	switch t.Kind {
	case String:
		return map[string]any{"type": "string"}
	case Duration:
		return map[string]any{"type": "string", "pattern": `^(\$\{\{[\s\S]*\}\}|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`}
	case Int:
		return orExpression(map[string]any{"type": "integer"})
	case Float:
		return orExpression(map[string]any{"type": "number"})
	case Bool:
		return orExpression(map[string]any{"type": "boolean"})
	case List:
		return orExpression(map[string]any{"type": "array", "items": t.Elem.JSONSchema()})
	case Map:
		return map[string]any{"type": "object", "additionalProperties": t.Elem.JSONSchema()}
	case Object:
		props := map[string]any{}
		var required []string
		for _, f := range t.Fields {
			s := f.Type.JSONSchema()
			if f.Doc != "" {
				s["description"] = f.Doc
				s["markdownDescription"] = f.Doc
			}
			if f.Default != nil {
				s["default"] = f.Default
			}
			if len(f.Enum) > 0 {
				// A literal must be one of the values; an expression is
				// checked when it is evaluated.
				doc, hasDoc := s["description"]
				s = map[string]any{"anyOf": []any{map[string]any{"type": "string", "enum": f.Enum}, expressionSchema}}
				if hasDoc {
					s["description"], s["markdownDescription"] = doc, doc
				}
				if f.Default != nil {
					s["default"] = f.Default
				}
			}
			props[f.Name] = s
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
	return map[string]any{}
}

// orExpression lets a non-string value also be written as an expression.
// The alternatives sit in anyOf so that editors still offer the typed one.
func orExpression(s map[string]any) map[string]any {
	return map[string]any{"anyOf": []any{s, expressionSchema}}
}
