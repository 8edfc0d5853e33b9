package export

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/eval"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/internal/quote"
)

// Options say how the exported steps reach runner, the recipe and the
// shared state store.
type Options struct {
	// Recipe is the recipe's path as the steps see it: relative to the
	// folder they start in (the repository's root in a checkout or image).
	Recipe string
	// Image is the container image holding runner and the recipe's files.
	Image string
	// State is the shared state store: s3://bucket/prefix or file://dir.
	State string
	// StateEndpoint, StateRegion and StatePathStyle reach an S3-compatible
	// state store (passed to every runner exec).
	StateEndpoint  string
	StateRegion    string
	StatePathStyle bool
	// Sets and VarFiles are the var overrides every step gets, as for
	// runner apply (--set, --vars).
	Sets     []string
	VarFiles []string
	// IncludeDirs let the recipe's include: read recipes outside its
	// folder, as for runner apply (--include-dir): every step gets them.
	IncludeDirs []string
	// Secrets names environment variables to give every step as secrets,
	// beyond those the recipe's expressions and the state store need.
	Secrets []string
	// RunnerVersion is the version of runner a step without an image
	// installs (`go install …/cmd/runner@RunnerVersion`): a tag such as
	// v1.2.0, or "" for the latest.
	RunnerVersion string
	// KubernetesSecret names the Kubernetes Secret whose keys hold the
	// steps' secrets, for engines on Kubernetes (Argo); "" means "runner".
	KubernetesSecret string
}

// Kind says what a step does.
type Kind int

// The kinds of step.
const (
	// Init records the run in the state store: its start, which every
	// step's now() gives, and the recipe's digest. Every other step needs it.
	Init Kind = iota
	// Single runs a task without for_each.
	Single
	// Plan decides a for_each task (its needs, its if, its list) and
	// prints the indexes of its instances as one JSON array.
	Plan
	// Instances runs one instance per index its Plan step printed.
	Instances
)

// Accept says which endings of a needed step let a step start. It never
// keeps a step from running when runner would run it: runner exec reads
// the store and applies runner's own rules (skipped, always(), failure())
// whatever the engine decided.
type Accept int

// The endings a need accepts.
const (
	// Succeeded: the needed step exited 0 — the task succeeded, was
	// skipped by runner, or failed under continue_on_error. A failed need
	// (exit 1) skips the step, as runner skips a task whose need failed.
	Succeeded Accept = iota
	// SucceededOrEmpty: as Succeeded, or an Instances step that ran no
	// instance (an empty list, or a task runner skipped); engines mark such
	// a fan-out skipped.
	SucceededOrEmpty
	// Finished: however the needed step ended, unless the run was
	// cancelled. For tasks whose if calls always() or failure(): runner
	// decides them after any ending of what they need.
	Finished
)

// Need is an edge of the exported graph.
type Need struct {
	Step   *Step
	Accept Accept
}

// Step is one job of the exported graph: one runner exec per task, per
// planning of a for_each task, or per instance.
type Step struct {
	// Name is runner's name of the step: "init", the task's id, or
	// "<id>.plan". Engines derive their own names from it (Argo's rules
	// differ from GitHub's).
	Name string
	Kind Kind
	Task *recipe.Task // nil for Init
	// Needs are the steps that must end first; Init for a task with no needs.
	Needs []Need
	// Plan is, for an Instances step, the Plan step whose output lists the
	// indexes of the instances.
	Plan *Step
	// Deadline bounds the whole step from outside: every try with its
	// timeout, the waits between tries, and time to move files. Zero when
	// the task has no timeout: runner's own timeout is then the only one.
	Deadline time.Duration
	// Items is the number of instances of an Instances step when it is
	// known before the run (the list depends on no task's outputs); -1
	// when it is known only once the Plan step has run.
	Items int
	// args are the arguments of runner exec after the run, item and state.
	args []string
}

// Workflow is a recipe as a graph of runner exec steps, for an engine to
// render.
type Workflow struct {
	Name        string // the recipe's name
	Description string
	Recipe      *recipe.Recipe
	// Schedules are the recipe's cron lines with their IANA time zone ("" for
	// the machine's).
	Schedules []Schedule
	Options   Options
	// Secrets are the environment variables every step gets from the
	// engine's secret store, sorted: the state store's credentials, those
	// the recipe reads that look secret, and Options.Secrets.
	Secrets []string
	Steps   []*Step // in an order where every step comes after what it needs
}

// Schedule is one cron line of the recipe's schedule.
type Schedule struct {
	Cron string
	Zone string
	// Sets are the entry's var values as "name=value" overrides, sorted:
	// the runs this line starts get them as --set.
	Sets []string
}

// Placeholders stand, in a step's Command, for what only the engine knows.
const (
	RunIDPlaceholder = "\x00run-id\x00"
	ItemPlaceholder  = "\x00item\x00"
)

// Command returns the argv of the step after the runner binary:
// "exec RECIPE --run RUN --state URL …", with runID and item in place of
// the engine's expressions for the run's id and the instance's index.
func (s *Step) Command(w *Workflow, runID, item string) []string {
	o := w.Options
	argv := []string{"exec", o.Recipe, "--run", runID, "--state", o.State}
	if o.StateEndpoint != "" {
		argv = append(argv, "--state-endpoint", o.StateEndpoint)
	}
	if o.StateRegion != "" {
		argv = append(argv, "--state-region", o.StateRegion)
	}
	if o.StatePathStyle {
		argv = append(argv, "--state-path-style")
	}
	for _, d := range o.IncludeDirs {
		argv = append(argv, "--include-dir", d)
	}
	for _, f := range o.VarFiles {
		argv = append(argv, "--vars", f)
	}
	for _, s := range o.Sets {
		argv = append(argv, "--set", s)
	}
	argv = append(argv, s.args...)
	if s.Kind == Instances {
		argv = append(argv, "--item", item)
	}
	return argv
}

// AWSCredentials are the environment variables of the S3 credentials a
// step needs when the state store, or a task, uses S3.
var AWSCredentials = []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}

// s3Types are the task types that reach S3 with the standard credentials.
var s3Types = []string{"s3put", "s3get", "prune"}

// Build turns a loaded recipe into its graph of steps.
func Build(r *recipe.Recipe, opt Options) (*Workflow, error) {
	if opt.Recipe == "" {
		return nil, fmt.Errorf("export: the recipe's path is empty")
	}
	if opt.State == "" {
		return nil, fmt.Errorf("export: no state store: give --state s3://bucket/prefix (or file://dir when every step shares a disk)")
	}
	if err := opt.check(); err != nil {
		return nil, err
	}
	w := &Workflow{Name: r.Name, Description: r.Description, Recipe: r, Options: opt}
	if r.Schedule != nil {
		for _, e := range r.Schedule.Entries {
			w.Schedules = append(w.Schedules, Schedule{Cron: e.Spec, Zone: e.Zone, Sets: e.Sets()})
		}
	}
	secrets, err := secretsOf(r, opt)
	if err != nil {
		return nil, err
	}
	w.Secrets = secrets

	init := &Step{Name: "init", Kind: Init, args: []string{"--init"}, Items: -1}
	w.Steps = append(w.Steps, init)
	last := map[string]*Step{} // the step downstream tasks need, by task id
	for _, t := range r.Tasks {
		accept := Succeeded
		if t.If != nil && (t.If.UsesAlways || t.If.UsesFailure) {
			accept = Finished
		}
		var needs []Need
		for _, id := range t.Needs {
			n := last[id]
			if n == nil {
				return nil, fmt.Errorf("export: task %s needs %s, which comes later in the graph", t.ID, id)
			}
			a := accept
			if a == Succeeded && n.Kind == Instances {
				a = SucceededOrEmpty
			}
			needs = append(needs, Need{Step: n, Accept: a})
		}
		if len(needs) == 0 {
			needs = []Need{{Step: init, Accept: Succeeded}}
		}
		deadline := deadlineOf(t)
		if t.ForEach == nil {
			s := &Step{Name: t.ID, Kind: Single, Task: t, Needs: needs, Deadline: deadline, Items: -1, args: []string{"--task", t.ID}}
			w.Steps = append(w.Steps, s)
			last[t.ID] = s
			continue
		}
		plan := &Step{Name: t.ID + ".plan", Kind: Plan, Task: t, Needs: needs, Items: -1, args: []string{"--task", t.ID, "--plan"}}
		inst := &Step{Name: t.ID, Kind: Instances, Task: t, Plan: plan, Deadline: deadline, Items: -1,
			Needs: []Need{{Step: plan, Accept: Succeeded}}, args: []string{"--task", t.ID}}
		w.Steps = append(w.Steps, plan, inst)
		last[t.ID] = inst
	}
	return w, nil
}

// SetItems records, for the Instances steps whose list is known before the
// run, how many instances they have (for an engine's limits).
func (w *Workflow) SetItems(counts map[string]int) {
	for _, s := range w.Steps {
		if n, ok := counts[s.Name]; ok && s.Kind == Instances {
			s.Items = n
		}
	}
}

// deadlineOf bounds a task's step from outside: every try at its timeout,
// the waits between them, and ten minutes to fetch and upload files.
func deadlineOf(t *recipe.Task) time.Duration {
	if t.Timeout <= 0 {
		return 0
	}
	attempts := max(t.Retry.Attempts, 1)
	total := time.Duration(attempts) * t.Timeout
	delay := t.Retry.Delay
	for i := 1; i < attempts; i++ {
		d := delay
		if t.Retry.MaxDelay > 0 && d > t.Retry.MaxDelay {
			d = t.Retry.MaxDelay
		}
		total += d
		delay = time.Duration(float64(delay) * max(t.Retry.Backoff, 1))
	}
	return total + 10*time.Minute
}

// secretsOf lists the environment variables every step needs from the
// engine's secret store. A name the recipe reads that would be one of them
// but that no engine can hold (env_or("A_TOKEN||toJSON(secrets)", ""))
// is an error: written as a key, or into GitHub's ${{ secrets.NAME }}, it
// would be code.
func secretsOf(r *recipe.Recipe, opt Options) ([]string, error) {
	set := map[string]bool{}
	if strings.HasPrefix(opt.State, "s3://") {
		for _, n := range AWSCredentials {
			set[n] = true
		}
	}
	// where says, for an error, where each expression is.
	type sourced struct {
		where string
		expr  *eval.Expr
	}
	var exprs []sourced
	for _, v := range r.Vars {
		for _, e := range v.Value.Exprs() {
			exprs = append(exprs, sourced{"var " + v.Name, e})
		}
	}
	for _, e := range r.Env {
		for _, x := range e.Value.Exprs() {
			exprs = append(exprs, sourced{"env " + e.Name, x})
		}
	}
	for _, t := range r.Tasks {
		if slices.Contains(s3Types, t.Uses) {
			for _, n := range AWSCredentials {
				set[n] = true
			}
		}
		// A param that names the variable holding a credential
		// (github_release's token_env): its default is a secret the step needs.
		if t.Type != nil && t.Type.Params != nil {
			for _, f := range t.Type.Params.Fields {
				if name, ok := f.Default.(string); ok && strings.HasSuffix(f.Name, "_env") && secret.IsSecretName(name) {
					if !ValidEnvName(name) {
						return nil, fmt.Errorf("export: task %s: the default of %s, %s, is not an environment variable's name an engine can hold", t.ID, f.Name, quote.Text(name))
					}
					set[name] = true
				}
			}
		}
		for _, e := range t.Exprs() {
			exprs = append(exprs, sourced{"task " + t.ID, e})
		}
	}
	for _, e := range exprs {
		for _, name := range e.expr.Env {
			if !secret.IsSecretName(name) {
				continue // not given to the steps: they read their own environment
			}
			if !ValidEnvName(name) {
				return nil, fmt.Errorf("export: %s reads the environment variable %s in the expression %s: its name looks secret, so every step would get it from the engine's secrets, but a secret's name is letters, digits and _, not starting with a digit: rename it", e.where, quote.Text(name), quote.Text(strings.TrimSpace(e.expr.Source)))
			}
			set[name] = true
		}
	}
	for _, n := range opt.Secrets {
		set[n] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Quote quotes an argument for a POSIX shell when it needs it.
func Quote(s string) string {
	if s == "" {
		return "''"
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=,@+%", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}

// CountItems evaluates, in scope (the run's vars), the for_each list of
// every task whose list reads no task's outputs, and returns how many
// items each has, by task id. A list that cannot be evaluated before the
// run is left out; runner exec --plan reports it then.
func CountItems(r *recipe.Recipe, scope *eval.Scope) map[string]int {
	counts := map[string]int{}
	envVars := varsReadingEnv(r)
	for _, t := range r.Tasks {
		if t.ForEach == nil {
			continue
		}
		static := true
		for _, e := range t.ForEach.Exprs() {
			// The environment is the step's, not the exporting machine's:
			// a list that reads it is known only at run time.
			if len(e.Tasks) > 0 || e.UsesSuccess || e.UsesFailure || e.UsesAlways || readsEnv(e, envVars) {
				static = false
			}
		}
		if !static {
			continue
		}
		v, err := t.ForEach.Eval(scope)
		if err != nil {
			continue
		}
		if n, ok := length(v); ok {
			counts[t.ID] = n
		}
	}
	return counts
}

// varsReadingEnv returns the vars whose value reads the environment, by
// itself or through other vars.
func varsReadingEnv(r *recipe.Recipe) map[string]bool {
	reads := map[string]bool{}
	for changed := true; changed; {
		changed = false
		for _, v := range r.Vars {
			if reads[v.Name] {
				continue
			}
			for _, e := range v.Value.Exprs() {
				if readsEnv(e, reads) {
					reads[v.Name] = true
					changed = true
					break
				}
			}
		}
	}
	return reads
}

// readsEnv reports whether e reads the environment, or a var in envVars.
// It errs towards yes: env named at all (env[vars.name] names no variable
// by literal) counts.
func readsEnv(e *eval.Expr, envVars map[string]bool) bool {
	if len(e.Env) > 0 || envWord.MatchString(e.Source) {
		return true
	}
	for _, v := range e.Vars {
		if envVars[v] {
			return true
		}
	}
	return false
}

// envWord finds env or env_or as a word of an expression.
var envWord = regexp.MustCompile(`\benv(_or)?\b`)

// length is the number of items of a list value of any slice type.
func length(v any) (int, bool) {
	if v == nil {
		return 0, true
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return 0, false
	}
	return rv.Len(), true
}
