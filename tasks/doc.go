// Package tasks holds runner's built-in task types, one file per type named
// after it (shell.go holds `uses: shell`). Each file declares a params
// struct — yaml and json tags, a doc comment per field, defaults in tags —
// and registers it with its docs, outputs, Plan and Run. Everything users
// see about a type (`runner tasks`, validation, the JSON Schema) comes from
// that registration.
//
// Task types know nothing about scheduling, retries or state: they get a
// context, their decoded params and a tasktype.Env, and return outputs.
package tasks

// The field docs come from the params structs' doc comments; the recipe
// schema comes from the registry. Run both with `go generate ./...`.
//go:generate go run ./internal/gendoc -o zz_fielddocs.go
//go:generate go run ../schema/gen -o ../schema/recipe.schema.json
