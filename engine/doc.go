// Package engine ties a recipe's life together: it loads and validates a
// recipe, takes the per-recipe lock, opens the run state, walks the tasks
// (or plans them) and hands what happened to a Reporter. It knows nothing
// about what any task type does — S3, EPUB and CSV live in package tasks,
// behind the tasktype registry — nor about the terminal: how a run is
// shown (plain lines, the live view, JSON, GITHUB_STEP_SUMMARY) is
// package report's, chosen by the CLI. Why runner stops is an error whose
// type carries the exit code (ExitCoder).
//
// Each step lives in a subpackage with one job: recipe (loading and
// validation), eval (expressions), dag (the graph), scheduler (walking it),
// state (run folders, state.json, locks), secret (masking), report (what
// the user sees). This package only wires them together for the CLI.
package engine
