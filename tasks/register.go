package tasks

import "github.com/novelfactory/runner/engine/tasktype"

// register adds a built-in type, attaching the field docs generated from
// the params structs' doc comments.
func register[P any](d tasktype.Def[P]) {
	d.FieldDocs = fieldDoc
	tasktype.Register(d)
}

func fieldDoc(structName, fieldName string) string {
	return fieldDocs[structName+"."+fieldName]
}
