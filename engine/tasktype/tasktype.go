package tasktype

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/secret"
)

// Outputs are the named values a task produces, seen by later tasks as
// tasks.<id>.outputs.<name>.
type Outputs = map[string]any

// Output documents one output of a task type.
type Output struct {
	Name string
	Type string // "string", "integer", "list of string", …
	Doc  string
}

// Example is a task of a type as a recipe writes it: shown by `runner
// tasks TYPE`, and loaded and validated by the registry's tests.
type Example struct {
	Title string // what it shows, one line
	// YAML is one entry of a recipe's tasks map: the task's id, then
	// uses, with and any other task key, indented by two spaces.
	YAML string
}

// Plan is what a task would do, computed without side effects.
type Plan struct {
	// Summary says what would happen, e.g. "would upload 2 files, 1.2 GiB, to s3://…".
	Summary string
	// Outputs holds outputs already known before running (a destination path),
	// so that a dry run can resolve downstream params that use them.
	Outputs Outputs
}

// Progress receives progress of long operations, in units of the task's
// choosing (bytes for transfers). Implementations must be cheap to call.
type Progress interface {
	Progress(done, total int64)
}

// Processes hears of the process groups a task starts, so that a run that
// is killed while they run is known on the next start (and its recipe is
// not started again over them).
type Processes interface {
	// Started records the process group pgid running command; the
	// returned function is called once the group has ended.
	Started(pgid int, command string) (ended func())
	// Running reports whether pid leads a command of the run that has not
	// ended: one its starter waits for, which no one else may reap.
	Running(pid int) bool
}

// Env is what a running task may use from its surroundings.
type Env struct {
	RunID  string // the run's id, as in state and logs
	Recipe string // the recipe's name
	TaskID string
	Dir    string // base for relative paths: the recipe's directory or --workdir
	// Started is when the run started, in the recipe's clock (its
	// timezone:): a task's "today", the same as now() in expressions.
	Started  time.Time
	Environ  []string     // environment for child processes (KEY=VALUE)
	Log      io.Writer    // the task's log; secret-masked, safe for concurrent use
	Logger   *slog.Logger // structured log lines, into the same task log
	Progress Progress     // may be used for long transfers; never nil
	Secrets  *secret.Masker
	// Processes records the process groups the task starts; nil keeps no record.
	Processes Processes
}

// Getenv returns the value of name in the task's environment (the last
// one wins, as for a child process), or "".
func (e *Env) Getenv(name string) string {
	v := ""
	for _, kv := range e.Environ {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// Path resolves p against the task's directory unless it is absolute.
func (e *Env) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(e.Dir, p)
}

// Def declares a task type with a typed params struct P.
type Def[P any] struct {
	Name    string // as written after `uses:`
	Summary string // one line for listings
	Doc     string // what it does, in a paragraph or two
	Outputs []Output
	// Examples show the type in use; every type has at least one.
	Examples []Example
	// FieldDocs returns the doc comment of a params field (generated from source).
	FieldDocs params.DocFunc
	// Check validates decoded params beyond their types (optional). It
	// runs once per task instance, before Plan or Run, on the params they
	// then get: what it parses it may keep in the params struct's
	// unexported fields, so that Run does not parse it again. An error
	// about one param is best a params.FieldError (params.Errorf), which
	// validation reports at that param's line.
	Check func(p *P) error
	// Plan says what Run would do. It must not change anything.
	Plan func(ctx context.Context, env *Env, p *P) (Plan, error)
	// Run does the work and returns the outputs.
	Run func(ctx context.Context, env *Env, p *P) (Outputs, error)
}

// Type is a registered task type with its params erased.
type Type struct {
	Name     string
	Summary  string
	Doc      string
	Params   *params.Type
	Outputs  []Output
	Examples []Example

	newParams func() any
	check     func(any) error
	plan      func(context.Context, *Env, any) (Plan, error)
	run       func(context.Context, *Env, any) (Outputs, error)
}

// Decode turns evaluated `with` values into this type's params, resolving
// params of type params.Path against dir (the task's folder), then runs the
// type's Check. Errors are params.FieldErrors whose paths start at "with",
// so that a caller holding the recipe finds each at its own line.
func (t *Type) Decode(with any, dir string) (any, error) {
	p := t.newParams()
	if err := t.Params.Decode(with, p, dir); err != nil {
		return nil, params.Under("with", err)
	}
	if err := t.check(p); err != nil {
		return nil, params.Under("with", err)
	}
	return p, nil
}

// Plan reports what Run would do with decoded params p, changing nothing.
func (t *Type) Plan(ctx context.Context, env *Env, p any) (Plan, error) { return t.plan(ctx, env, p) }

// Run executes the task with decoded params p.
func (t *Type) Run(ctx context.Context, env *Env, p any) (Outputs, error) { return t.run(ctx, env, p) }

// Registry maps type names to types.
type Registry struct {
	mu    sync.RWMutex
	types map[string]*Type
}

// NewRegistry returns an empty registry (tests and benchmarks build their own).
func NewRegistry() *Registry { return &Registry{types: map[string]*Type{}} }

// builtin is the registry of built-in task types, filled by package tasks.
var builtin = NewRegistry()

// Builtin returns the registry of built-in task types.
func Builtin() *Registry { return builtin }

// Register adds a task type to the built-in registry. It panics on a
// malformed definition: that is a programming error caught by any test.
func Register[P any](d Def[P]) { Add(builtin, d) }

// Add adds a task type to r, panicking on a malformed definition.
func Add[P any](r *Registry, d Def[P]) {
	var zero P
	spec, err := params.Of(zero, d.FieldDocs)
	if err != nil {
		panic(fmt.Sprintf("task type %s: %v", d.Name, err))
	}
	if d.Name == "" || d.Run == nil || d.Plan == nil {
		panic(fmt.Sprintf("task type %q: Name, Plan and Run are required", d.Name))
	}
	t := &Type{
		Name: d.Name, Summary: d.Summary, Doc: d.Doc, Params: spec, Outputs: d.Outputs, Examples: d.Examples,
		newParams: func() any { return new(P) },
		check: func(p any) error {
			if d.Check == nil {
				return nil
			}
			return d.Check(p.(*P))
		},
		plan: func(ctx context.Context, env *Env, p any) (Plan, error) { return d.Plan(ctx, env, p.(*P)) },
		run:  func(ctx context.Context, env *Env, p any) (Outputs, error) { return d.Run(ctx, env, p.(*P)) },
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.types[d.Name]; dup {
		panic(fmt.Sprintf("task type %s registered twice", d.Name))
	}
	r.types[d.Name] = t
}

// Lookup returns the type called name.
func (r *Registry) Lookup(name string) (*Type, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.types[name]
	return t, ok
}

// All returns every registered type, sorted by name.
func (r *Registry) All() []*Type {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Type, 0, len(r.types))
	for _, t := range r.types {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Names returns the sorted names of all registered types.
func (r *Registry) Names() []string {
	all := r.All()
	names := make([]string, len(all))
	for i, t := range all {
		names[i] = t.Name
	}
	return names
}
