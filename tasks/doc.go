// Package tasks registers runner's built-in task types, one package each
// under this folder (tasks/shell holds `uses: shell`). Each package declares
// a params struct — yaml and json tags, a doc comment per field, defaults
// in tags — and a Register function adding the type with its docs,
// examples, outputs, Plan and Run. Everything users see about a type
// (`runner tasks`, validation, the JSON Schema, the README's table) comes
// from that registration. Helpers shared by several types live in named
// packages under tasks/internal.
//
// Task types know nothing about scheduling, retries or state: they get a
// context, their decoded params and a tasktype.Env, and return outputs.
package tasks

// The field docs come from the params structs' doc comments; the recipe
// schema comes from the registry. Run both with `go generate ./...`.
//go:generate go run ../schema/gen -o ../schema/recipe.schema.json
