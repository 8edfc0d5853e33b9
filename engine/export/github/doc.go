// Package github renders an exported recipe (export.Workflow) as a GitHub
// Actions workflow: one job per step, each running `runner exec` on its own
// machine, with needs and if expressions that keep runner's skip rules, a
// matrix for each for_each fan-out, the recipe's schedule as UTC cron lines
// and its secrets from the repository's secrets.
//
// It only writes YAML: what a step does is runner exec's business, and the
// graph is package export's. See docs/scale.md, "GitHub Actions".
package github
