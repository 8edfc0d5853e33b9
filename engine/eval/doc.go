// Package eval compiles and evaluates runner's expressions: bare expr-lang
// expressions (`if`, `for_each`) and strings with ${{ ... }} templates. Each
// expression is compiled once, when the recipe is loaded; evaluation takes a
// Scope. It also reports which tasks and vars an expression refers to, so the
// validator can insist that a task needs every task it reads.
//
// It knows nothing about recipes, files on disk (beyond the path helpers) or
// scheduling.
package eval
