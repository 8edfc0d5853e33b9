// Package recipe loads a recipe file into a validated, compiled Recipe:
// YAML with positions, strict keys, includes, vars with their overrides,
// task params checked against each type's spec, expressions compiled once,
// and the graph checked (unknown needs, cycles, reads of tasks not needed).
// Every problem is reported with file:line:col, all at once.
//
// The file's grammar (its keys, their shapes and docs) is written once, as
// the structs of grammar.go; the JSON Schema and the reference tables of
// docs/recipes.md are generated from them.
//
// It runs nothing: scheduling is package scheduler's job.
package recipe

// The grammar's field docs come from its structs' doc comments.
//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go
