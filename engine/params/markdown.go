package params

import (
	"fmt"
	"strings"
)

// MarkdownTable writes an Object's fields as a Markdown table: name, type
// (its shape, where the field words it), whether it is required or its
// default, and its doc. The reference
// tables of docs/ are generated with it, so that they say what the
// checks and the JSON Schema enforce.
func (t *Type) MarkdownTable() string {
	var b strings.Builder
	head := "Param"
	if t.Literal {
		head = "Key"
	}
	fmt.Fprintf(&b, "| %s | Type | Required or default | Meaning |\n|---|---|---|---|\n", head)
	for _, f := range t.Fields {
		var note string
		switch {
		case f.Required:
			note = "required"
		case f.Default != nil:
			note = fmt.Sprintf("`%v`", f.Default)
		}
		typ := f.Type.Describe()
		switch {
		case f.Shape != "":
			typ = f.Shape
		case f.Type.Kind == Object:
			typ = "map"
		}
		switch {
		case len(f.Enum) == 1:
			typ = "`" + f.Enum[0] + "`"
		case len(f.Enum) > 1:
			typ = "one of `" + strings.Join(f.Enum, "`, `") + "`"
			if f.Type.Kind == List {
				typ = "list of " + typ
			}
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Name, cell(typ), note, cell(f.Doc))
	}
	return b.String()
}

// cell escapes text for a table cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}
