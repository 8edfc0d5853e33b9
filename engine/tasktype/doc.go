// Package tasktype defines what a task type is — a params struct, docs,
// outputs, a side-effect-free Plan and a Run — and holds the registry of
// built-in types. Registration is the single source of truth: validation of
// `with`, `runner tasks` and the JSON Schema are all derived from it.
//
// The registry is the one piece of global mutable state in runner; it is
// written only by init functions, before main runs.
package tasktype
