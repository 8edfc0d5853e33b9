package params

// JoinDocs looks a field's doc up in each of docs in turn: a type whose
// params inline a struct from another package (shared S3 access params,
// say) joins its own docs with that package's.
func JoinDocs(docs ...DocFunc) DocFunc {
	return func(structName, fieldName string) string {
		for _, d := range docs {
			if s := d(structName, fieldName); s != "" {
				return s
			}
		}
		return ""
	}
}
