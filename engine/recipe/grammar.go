package recipe

import (
	"fmt"
	"time"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
)

// The recipe grammar: the shape of a recipe file, written once as Go
// structs. The loader checks and reads a file with them (unknown keys,
// shapes, bounds, positions), the JSON Schema of package schema is built
// from them, and so are the reference tables of docs/recipes.md; their
// field docs are the doc comments below (go generate extracts them).
// What needs more than a shape (an expression that must compile, a task
// type that must exist, an include that must stay in the recipe's folder)
// is the loader's.

// fileSpec is a recipe file: the top-level keys.
type fileSpec struct {
	// The recipe format version: `1`.
	Version int "yaml:\"version\" json:\"version\" required:\"true\" enum:\"1\" hint:\"add `version: 1` at the top\""
	// The recipe's name; the file name without its extension when omitted.
	Name string `yaml:"name" json:"name"`
	// Free text.
	Description string `yaml:"description" json:"description"`
	// The IANA time zone (`Asia/Seoul`, `UTC`) of `now()`, `strftime` and every name built from them; the machine's zone when omitted. Only the main recipe may set it: a run has one clock.
	Timezone string `yaml:"timezone" json:"timezone"`
	// Var defaults: names (letters, digits, `_`) to any YAML value, which may hold `${{ }}` expressions. Vars are evaluated in file order, each seeing the ones before it; `--vars FILE` and `--set name=value` override them.
	Vars map[string]any `yaml:"vars" json:"vars" keys:"^[A-Za-z_][A-Za-z0-9_]*$" keyname:"var name" keyrule:"use letters, digits and _ (it is read as vars.{})" shape:"a map of names to values"`
	// Names of vars whose values are masked as `***` everywhere.
	Secrets []string `yaml:"secrets" json:"secrets" shape:"a list of var names"`
	// Environment variables exported to every task's processes; values may hold expressions. Also visible as `env.NAME` in expressions.
	Env map[string]string `yaml:"env" json:"env" keys:"^[A-Za-z_][A-Za-z0-9_.-]*$" keyname:"env" keyrule:"start with a letter or _, then use letters, digits, _, . and -" shape:"a map of names to values"`
	// Other recipe files whose tasks and vars are merged in, relative to this file; they must lie in the recipe's folder tree (or under `--include-dir`).
	Include []string `yaml:"include" json:"include" shape:"a list of recipe files"`
	// When `runner serve` starts the recipe by itself: a cron line (`0 4 * * 0`: minute hour day-of-month month day-of-week, or @hourly, @daily, @weekly, @monthly, @yearly), one entry `{cron, timezone, vars}`, or a list of entries and cron lines. Only the main recipe may set it. See Schedules.
	Schedule any `yaml:"schedule" json:"schedule" oneof:"string,map,list" shape:"a cron line, an entry {cron, timezone, vars}, or a list of them"`
	// What a scheduled start does while the recipe's last run still runs: `skip` it, `queue` it (run once the other ends; at most one waits), or `cancel_previous` (cancel the running one, leaving it resumable, then start).
	Overlap string `yaml:"overlap" json:"overlap" enum:"skip,queue,cancel_previous" default:"skip"`
	// What `runner serve` does with fire times missed while it was down or the machine slept: run the `latest` one once, run `all` of them (oldest first, at most `catchup_max`), or `none`.
	Catchup string `yaml:"catchup" json:"catchup" enum:"latest,all,none" default:"latest"`
	// How old a missed fire time may be and still be caught up (30 days by default); older ones are dropped.
	CatchupWindow time.Duration `yaml:"catchup_window" json:"catchup_window" default:"720h"`
	// The most missed fire times `catchup: all` runs at once (the newest ones).
	CatchupMax int `yaml:"catchup_max" json:"catchup_max" default:"10" min:"1" shape:"a whole number of runs, at least 1"`
	// The tasks, by id. Ids start with a letter or `_`, then letters, digits, `-` and `_`. Their order in the file is the tie-break order of the graph.
	Tasks map[string]taskSpec `yaml:"tasks" json:"tasks" required:"true" min:"1" keys:"^[A-Za-z_][A-Za-z0-9_-]*$" keyname:"task id" keyrule:"start with a letter or _, then use letters, digits, - and _" shape:"a map of task ids to tasks" hint:"a recipe needs at least one task"`
}

// taskSpec is one task of a recipe file.
type taskSpec struct {
	// The task type (`runner tasks` lists them).
	Uses string "yaml:\"uses\" json:\"uses\" required:\"true\" hint:\"name a task type (see `runner tasks`)\""
	// The type's params, checked against its schema before anything runs: unknown params, missing required ones, wrong types, values outside an enum. When `with` holds no `${{ }}` at all, the type's own checks run too, pointing at the value. A value that is one `${{ }}` is checked when it is evaluated.
	With *map[string]any `yaml:"with" json:"with" shape:"a map of params"`
	// Ids of tasks that must finish first; one id may be written without a list (`needs: build`), as in GitHub Actions.
	Needs params.Strings `yaml:"needs" json:"needs" shape:"a task id or a list of them"`
	// An expression; when false the task is `skipped`. It may be wrapped in `${{ }}`, or be a literal `true` or `false`. It must give a boolean (or the text `true`/`false`): anything else is an error rather than a guess.
	If any `yaml:"if" json:"if" oneof:"string,boolean" shape:"an expression or true/false"`
	// How often and how patiently a failed attempt is tried again.
	Retry Retry `yaml:"retry" json:"retry"`
	// Cancel an attempt that runs longer than this (`90s`, `30m`, `1h30m`); a timed-out attempt is retried when `retry.on` allows `timeout`.
	Timeout time.Duration `yaml:"timeout" json:"timeout"`
	// An expression giving a list (a range such as `1..12` and `glob()`'s paths included), or a literal list: one instance per item, named `<id>[<index>]`, with `item` and `index` in scope. At most 10,000 instances.
	ForEach any `yaml:"for_each" json:"for_each" oneof:"string,list" shape:"an expression or a list"`
	// When the task fails, its dependents still run and the run does not fail (as GitHub's `continue-on-error`).
	ContinueOnError bool `yaml:"continue_on_error" json:"continue_on_error" default:"false"`
	// Free text.
	Description string `yaml:"description" json:"description"`
}

// scheduleEntrySpec is one entry of a recipe's schedule.
type scheduleEntrySpec struct {
	// When to start: five fields, minute hour day-of-month month day-of-week (`0 4 * * 0` is Sunday 04:00), with lists (`1,15`), ranges (`1-5`), steps (`*/15`), names (`MON-FRI`, `JAN`); or @hourly, @daily, @weekly, @monthly, @yearly. When both day fields are restricted, a day matching either fires.
	Cron string `yaml:"cron" json:"cron" required:"true" hint:"give a cron line such as \"0 4 * * 0\""`
	// The IANA time zone the cron line is read in (`Asia/Seoul`); the recipe's `timezone:` when omitted, else the server's zone.
	Timezone string `yaml:"timezone" json:"timezone"`
	// Var values for the runs this entry starts, over the recipe's defaults (as `--set` would); each must be a declared var and a single value.
	Vars map[string]any `yaml:"vars" json:"vars" keys:"^[A-Za-z_][A-Za-z0-9_]*$" keyname:"var name" keyrule:"use letters, digits and _ (it is read as vars.{})" shape:"a map of var names to values"`
}

// ParamEnum gives retry.on the error classes.
func (Retry) ParamEnum(field string) []string {
	if field == "on" {
		return tasktype.Classes
	}
	return nil
}

// grammar is the shape of a recipe file.
var grammar = mustGrammar()

// Grammar is the shape of a recipe file, for the JSON Schema and the docs.
func Grammar() *params.Type { return grammar }

func mustGrammar() *params.Type {
	t, err := params.Of(fileSpec{}, fieldDoc, params.Literal())
	if err != nil {
		panic(fmt.Sprintf("recipe grammar: %v", err)) // a programming error any test catches
	}
	return t
}

// taskGrammar and retryGrammar are the shapes of a task and its retry.
var (
	taskGrammar  = grammar.Field("tasks").Type.Elem
	retryGrammar = taskGrammar.Field("retry").Type
)

// scheduleGrammar is the shape of one schedule entry.
var scheduleGrammar = func() *params.Type {
	t, err := params.Of(scheduleEntrySpec{}, fieldDoc, params.Literal())
	if err != nil {
		panic(fmt.Sprintf("schedule grammar: %v", err)) // a programming error any test catches
	}
	return t
}()

// ScheduleGrammar is the shape of one schedule entry, for the JSON Schema
// and the docs.
func ScheduleGrammar() *params.Type { return scheduleGrammar }

// TaskGrammar is the shape of one task, for the JSON Schema and the docs.
func TaskGrammar() *params.Type { return taskGrammar }

// RetryGrammar is the shape of a task's retry, for the docs.
func RetryGrammar() *params.Type { return retryGrammar }
