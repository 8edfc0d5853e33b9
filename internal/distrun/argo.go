package distrun

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Workflow is the DAG of an Argo Workflow, as the harness walks it.
type Workflow struct {
	// Name is the workflow's metadata name, or its generateName.
	Name  string
	Tasks []*Task // in the order of the DAG's tasks
}

// Task is one task of the DAG with what its container template runs.
type Task struct {
	// Name is the DAG task's name: what depends and withParam name.
	Name string
	// Template names the container template the task runs.
	Template string
	// Step is runner's name of the step (the template's runner/step
	// annotation: init, a task's id, id.plan), or "" when it has none.
	Step string
	// Depends is the task's depends expression as written; "" starts it
	// at once.
	Depends string
	// FanOutOf names the task whose outputs.result (a JSON list) the
	// task's withParam fans it out over: one process per element. "" for
	// a task that runs once.
	FanOutOf string
	// Args are the container's args, before Argo's variables in them are
	// replaced.
	Args []string
	// Env are the container's env entries with a literal value, as
	// "NAME=value"; those from a secretKeyRef come from Options.Env.
	Env []string
	// Deadline is the template's activeDeadlineSeconds: each process is
	// killed after it, and fails. 0 for none.
	Deadline time.Duration

	depends depends
	params  []param // the task's arguments.parameters
	inputs  []string
}

type param struct{ name, value string }

// ReadArgo reads an Argo Workflow or CronWorkflow, as `runner export --to
// argo` writes it, into the graph Run walks: the DAG template that
// spec.entrypoint names, and for each of its tasks the container template
// it runs. It refuses, naming the key, whatever of Argo the harness would
// not do as Argo does (another kind of template, withItems, when, a
// depends beyond TASK.Status terms, a command other than [runner], a
// variable it cannot replace…): a workflow it reads runs as Argo would
// run it, or not at all.
func ReadArgo(r io.Reader) (*Workflow, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read the Argo workflow: %w", err)
	}
	w, err := readArgo(data)
	if err != nil {
		return nil, fmt.Errorf("read the Argo workflow: %w", err)
	}
	return w, nil
}

type (
	argoDoc struct {
		APIVersion string    `yaml:"apiVersion"`
		Kind       string    `yaml:"kind"`
		Metadata   argoMeta  `yaml:"metadata"`
		Spec       yaml.Node `yaml:"spec"`
	}
	argoMeta struct {
		Name         string `yaml:"name"`
		GenerateName string `yaml:"generateName"`
	}
	argoCronSpec struct {
		WorkflowSpec yaml.Node      `yaml:"workflowSpec"`
		Rest         map[string]any `yaml:",inline"` // the schedule: not the harness's concern
	}
	argoSpec struct {
		Entrypoint string         `yaml:"entrypoint"`
		Templates  []argoTemplate `yaml:"templates"`
		Extra      map[string]any `yaml:",inline"`
	}
	argoTemplate struct {
		Name     string `yaml:"name"`
		Metadata struct {
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"metadata"`
		Inputs struct {
			Parameters []argoParam `yaml:"parameters"`
		} `yaml:"inputs"`
		DAG                   *argoDAG       `yaml:"dag"`
		Container             *argoContainer `yaml:"container"`
		ActiveDeadlineSeconds string         `yaml:"activeDeadlineSeconds"`
		Extra                 map[string]any `yaml:",inline"`
	}
	argoParam struct {
		Name  string         `yaml:"name"`
		Value *string        `yaml:"value"`
		Extra map[string]any `yaml:",inline"`
	}
	argoDAG struct {
		FailFast *bool          `yaml:"failFast"`
		Tasks    []argoTask     `yaml:"tasks"`
		Extra    map[string]any `yaml:",inline"`
	}
	argoTask struct {
		Name      string `yaml:"name"`
		Template  string `yaml:"template"`
		Depends   string `yaml:"depends"`
		WithParam string `yaml:"withParam"`
		Arguments struct {
			Parameters []argoParam `yaml:"parameters"`
		} `yaml:"arguments"`
		Extra map[string]any `yaml:",inline"`
	}
	argoContainer struct {
		Image   string         `yaml:"image"`
		Command []string       `yaml:"command"`
		Args    []string       `yaml:"args"`
		Env     []argoEnv      `yaml:"env"`
		Extra   map[string]any `yaml:",inline"`
	}
	argoEnv struct {
		Name      string         `yaml:"name"`
		Value     *string        `yaml:"value"`
		ValueFrom map[string]any `yaml:"valueFrom"`
	}
)

// unknownKeys refuses, by name, the keys of a template, a DAG task, … that
// the harness does not read: it would not do what they ask of Argo.
func unknownKeys(extra map[string]any, where string) error {
	if len(extra) == 0 {
		return nil
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return fmt.Errorf("%s: the harness does not do what %s asks of Argo", where, strings.Join(keys, ", "))
}

func readArgo(data []byte) (*Workflow, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc argoDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not YAML: %w", err)
	}
	var more argoDoc
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return nil, errors.New("it holds more than one document: give the harness one Workflow or CronWorkflow")
	}
	if doc.APIVersion != "argoproj.io/v1alpha1" {
		return nil, fmt.Errorf("apiVersion %q: want argoproj.io/v1alpha1", doc.APIVersion)
	}
	specNode := &doc.Spec
	switch doc.Kind {
	case "Workflow":
	case "CronWorkflow":
		var cs argoCronSpec
		if err := doc.Spec.Decode(&cs); err != nil {
			return nil, fmt.Errorf("spec: %w", err)
		}
		specNode = &cs.WorkflowSpec
	default:
		return nil, fmt.Errorf("kind %q: want Workflow or CronWorkflow", doc.Kind)
	}
	var spec argoSpec
	if err := specNode.Decode(&spec); err != nil {
		return nil, fmt.Errorf("spec: %w", err)
	}
	if err := unknownKeys(spec.Extra, "spec"); err != nil {
		return nil, err
	}
	w := &Workflow{Name: doc.Metadata.Name}
	if w.Name == "" {
		w.Name = doc.Metadata.GenerateName
	}
	templates := map[string]*argoTemplate{}
	for i := range spec.Templates {
		t := &spec.Templates[i]
		if templates[t.Name] != nil {
			return nil, fmt.Errorf("two templates are named %q", t.Name)
		}
		templates[t.Name] = t
	}
	main := templates[spec.Entrypoint]
	switch {
	case spec.Entrypoint == "":
		return nil, errors.New("spec.entrypoint is empty")
	case main == nil:
		return nil, fmt.Errorf("spec.entrypoint %q names no template", spec.Entrypoint)
	case main.DAG == nil:
		return nil, fmt.Errorf("template %s, the entrypoint, is no dag", main.Name)
	}
	if err := unknownKeys(main.DAG.Extra, "template "+main.Name+": dag"); err != nil {
		return nil, err
	}
	if main.DAG.FailFast == nil || *main.DAG.FailFast {
		return nil, fmt.Errorf("template %s: the harness walks a DAG only with failFast: false (Argo's default is true: it stops starting tasks after a failure)", main.Name)
	}
	byName := map[string]*Task{}
	for _, at := range main.DAG.Tasks {
		where := fmt.Sprintf("task %q of template %s", at.Name, main.Name)
		if err := unknownKeys(at.Extra, where); err != nil {
			return nil, err
		}
		if !validTaskName(at.Name) {
			return nil, fmt.Errorf("%s: a task's name is letters, digits and -", where)
		}
		if byName[at.Name] != nil {
			return nil, fmt.Errorf("two tasks of template %s are named %q", main.Name, at.Name)
		}
		t, err := newTask(at, templates[at.Template])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		byName[t.Name] = t
		w.Tasks = append(w.Tasks, t)
	}
	if len(w.Tasks) == 0 {
		return nil, fmt.Errorf("template %s has no tasks", main.Name)
	}
	if err := w.check(byName); err != nil {
		return nil, err
	}
	return w, nil
}

// newTask reads a DAG task and the template it runs.
func newTask(at argoTask, tmpl *argoTemplate) (*Task, error) {
	t := &Task{Name: at.Name, Template: at.Template, Depends: at.Depends}
	if tmpl == nil {
		return nil, fmt.Errorf("template %q: no template of the workflow has that name", at.Template)
	}
	where := "template " + tmpl.Name
	if err := unknownKeys(tmpl.Extra, where); err != nil {
		return nil, err
	}
	if tmpl.DAG != nil || tmpl.Container == nil {
		return nil, fmt.Errorf("%s: the harness runs only container templates", where)
	}
	c := tmpl.Container
	if err := unknownKeys(c.Extra, where+": container"); err != nil {
		return nil, err
	}
	if !slices.Equal(c.Command, []string{"runner"}) {
		return nil, fmt.Errorf("%s: container command %q: want [runner]", where, c.Command)
	}
	t.Step = tmpl.Metadata.Annotations["runner/step"]
	t.Args = c.Args
	for _, e := range c.Env {
		switch {
		case e.Value != nil && e.ValueFrom == nil:
			t.Env = append(t.Env, e.Name+"="+*e.Value)
		case e.Value == nil && e.ValueFrom != nil:
			// From the engine's secrets: Options.Env holds them.
		default:
			return nil, fmt.Errorf("%s: env %s: want either value or valueFrom", where, e.Name)
		}
	}
	if s := tmpl.ActiveDeadlineSeconds; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%s: activeDeadlineSeconds %q: want a positive number of seconds", where, s)
		}
		t.Deadline = time.Duration(n) * time.Second
	}
	for _, p := range tmpl.Inputs.Parameters {
		if err := unknownKeys(p.Extra, where+": input "+p.Name); err != nil {
			return nil, err
		}
		if p.Value != nil {
			return nil, fmt.Errorf("%s: input %s has a value: the harness takes inputs only from the task's arguments", where, p.Name)
		}
		t.inputs = append(t.inputs, p.Name)
	}
	for _, p := range at.Arguments.Parameters {
		if err := unknownKeys(p.Extra, "argument "+p.Name); err != nil {
			return nil, err
		}
		if p.Value == nil {
			return nil, fmt.Errorf("argument %s has no value", p.Name)
		}
		if !slices.Contains(t.inputs, p.Name) {
			return nil, fmt.Errorf("argument %s: %s has no such input", p.Name, where)
		}
		t.params = append(t.params, param{p.Name, *p.Value})
	}
	for _, in := range t.inputs {
		if !slices.ContainsFunc(t.params, func(p param) bool { return p.name == in }) {
			return nil, fmt.Errorf("%s's input %s is given no argument", where, in)
		}
	}
	if at.WithParam != "" {
		name, ok := strings.CutPrefix(at.WithParam, "{{tasks.")
		name, ok2 := strings.CutSuffix(name, ".outputs.result}}")
		if !ok || !ok2 || !validTaskName(name) {
			return nil, fmt.Errorf("withParam %q: the harness reads only '{{tasks.TASK.outputs.result}}'", at.WithParam)
		}
		t.FanOutOf = name
	}
	if t.Depends != "" {
		d, err := parseDepends(t.Depends)
		if err != nil {
			return nil, err
		}
		t.depends = d
	}
	// Every variable must be one the harness replaces: render once with
	// stand-ins.
	if _, err := t.command("run", "item"); err != nil {
		return nil, err
	}
	return t, nil
}

// check refuses a depends or withParam naming no task, a fan-out over a
// task that is not among what it waits for, and a cycle (Argo's own
// validation refuses them too).
func (w *Workflow) check(byName map[string]*Task) error {
	named := map[*Task][]*Task{}
	for _, t := range w.Tasks {
		var err error
		if t.depends != nil {
			t.depends.tasks(func(n string) {
				dep := byName[n]
				if dep == nil && err == nil {
					err = fmt.Errorf("task %s: depends %q names %s, which is no task of the DAG", t.Name, t.Depends, n)
				}
				if dep != nil && !slices.Contains(named[t], dep) {
					named[t] = append(named[t], dep)
				}
			})
		}
		if err != nil {
			return err
		}
		if t.FanOutOf != "" && byName[t.FanOutOf] == nil {
			return fmt.Errorf("task %s: withParam names %s, which is no task of the DAG", t.Name, t.FanOutOf)
		}
	}
	// Depth-first: a cycle is a task met again while its own needs are
	// being walked.
	const (
		unseen = iota
		walking
		walked
	)
	mark := map[*Task]int{}
	ancestors := map[*Task]map[*Task]bool{}
	var visit func(t *Task, path []string) error
	visit = func(t *Task, path []string) error {
		switch mark[t] {
		case walking:
			return fmt.Errorf("the DAG's depends go round in a cycle: %s", strings.Join(append(path, t.Name), " → "))
		case walked:
			return nil
		}
		mark[t] = walking
		up := map[*Task]bool{}
		for _, d := range named[t] {
			if err := visit(d, append(path, t.Name)); err != nil {
				return err
			}
			up[d] = true
			for a := range ancestors[d] {
				up[a] = true
			}
		}
		ancestors[t], mark[t] = up, walked
		return nil
	}
	for _, t := range w.Tasks {
		if err := visit(t, nil); err != nil {
			return err
		}
	}
	for _, t := range w.Tasks {
		if t.FanOutOf != "" && !ancestors[t][byName[t.FanOutOf]] {
			return fmt.Errorf("task %s: withParam reads the result of %s, which its depends does not wait for", t.Name, t.FanOutOf)
		}
	}
	return nil
}

// command returns the process's args: the container's, with
// {{workflow.name}} the run's id and {{inputs.parameters.NAME}} the task's
// argument, whose {{item}} is the fan-out's element.
func (t *Task) command(runID, item string) ([]string, error) {
	vars := map[string]string{"workflow.name": runID}
	for _, p := range t.params {
		itemVars := map[string]string{}
		if t.FanOutOf != "" {
			itemVars["item"] = item
		}
		v, err := expand(p.value, itemVars)
		if err != nil {
			return nil, fmt.Errorf("argument %s: %w", p.name, err)
		}
		vars["inputs.parameters."+p.name] = v
	}
	args := make([]string, len(t.Args))
	for i, a := range t.Args {
		v, err := expand(a, vars)
		if err != nil {
			return nil, fmt.Errorf("container args %q: %w", a, err)
		}
		args[i] = v
	}
	return args, nil
}

// expand replaces each {{name}} in s by vars[name], in one pass (what it
// puts in is not read again). A name vars lacks is an error: the harness
// must not guess what Argo would put there.
func expand(s string, vars map[string]string) (string, error) {
	var b strings.Builder
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return "", fmt.Errorf("a {{ is not closed")
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		v, ok := vars[name]
		if !ok {
			return "", fmt.Errorf("{{%s}} is no variable the harness replaces (it knows %s)", name, knownVars(vars))
		}
		b.WriteString(s[:i])
		b.WriteString(v)
		s = s[i+j+2:]
	}
}

func knownVars(vars map[string]string) string {
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, "{{"+n+"}}")
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "none here"
	}
	return strings.Join(names, ", ")
}
