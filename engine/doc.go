// Package engine ties a recipe's life together: it loads and validates a
// recipe, takes the per-recipe lock, opens the run state, schedules the tasks
// and reports what happened. It knows nothing about what any task type does:
// S3, EPUB and CSV live in package tasks, behind the tasktype registry.
//
// Each step lives in a subpackage with one job: recipe (loading and
// validation), eval (expressions), dag (the graph), scheduler (running it),
// state (run folders, state.json, locks), secret (masking), report (what the
// user sees). This package only wires them together for the CLI.
package engine
