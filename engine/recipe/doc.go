// Package recipe loads a recipe file into a validated, compiled Recipe:
// YAML with positions, strict keys, includes, vars with their overrides,
// task params checked against each type's spec, expressions compiled once,
// and the graph checked (unknown needs, cycles, reads of tasks not needed).
// Every problem is reported with file:line:col, all at once.
//
// It runs nothing: scheduling is package scheduler's job.
package recipe
