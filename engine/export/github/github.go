package github

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/export"
	"github.com/novelfactory/runner/engine/recipe"
)

// MatrixLimit is the most jobs one matrix may make in GitHub Actions: a
// for_each task fans out over at most this many items.
const MatrixLimit = 256

// The actions every job uses, pinned to a major version.
const (
	checkoutAction = "actions/checkout@v4"
	setupGoAction  = "actions/setup-go@v5"
	runsOn         = "ubuntu-latest"
	// runnerModule is what a job without an image installs.
	runnerModule = "github.com/novelfactory/runner/cmd/runner"
	// installMinutes is added to a job's timeout when it installs runner.
	installMinutes = 10
	// hostedMinutes is the longest a job may run on GitHub's hosted runners.
	hostedMinutes = 360
)

// The engine's expressions for what only a run knows. github.run_id stays
// the same when failed jobs are re-run, so the re-run finds the records of
// the jobs that succeeded and runner exec reuses them.
const (
	runIDExpr = "${{ github.run_id }}"
	itemExpr  = "${{ matrix.index }}"
)

// versionPattern is what --runner-version takes: a tag such as v1.2.0, a
// branch or a commit — text that needs no quoting in a shell.
var versionPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// Render returns the workflow as YAML, with notes for its reader: jobs
// renamed to fit GitHub's rules, a schedule read as UTC, an unpinned
// runner.
func Render(w *export.Workflow) ([]byte, []string, error) {
	return render(w, time.Now())
}

// render is Render at the time now, which decides whether a schedule's
// zone keeps one offset from UTC.
func render(w *export.Workflow, now time.Time) ([]byte, []string, error) {
	// GitHub evaluates ${{ }} in container:; the grammar has no braces.
	if w.Options.Image != "" {
		if err := export.CheckImage(w.Options.Image); err != nil {
			return nil, nil, err
		}
	}
	ids, notes, err := jobIDs(w.Steps)
	if err != nil {
		return nil, nil, err
	}
	for _, s := range w.Steps {
		if s.Kind == export.Instances && s.Items > MatrixLimit {
			return nil, nil, fmt.Errorf("github: task %s fans out over %d items, more than the %d jobs a GitHub Actions matrix may have: split the list between tasks (each a for_each over a part), or export to Argo (--to argo)", s.Task.ID, s.Items, MatrixLimit)
		}
	}
	crons, more, err := schedules(w.Recipe, now)
	if err != nil {
		return nil, nil, err
	}
	notes = append(notes, more...)
	version := w.Options.RunnerVersion
	if w.Options.Image == "" {
		switch {
		case version == "" || version == "latest":
			version = "latest"
			notes = append(notes, fmt.Sprintf("each job installs %s@latest: give --runner-version (a tag such as v1.2.0) so that every job of a run, and every run, uses the same runner", runnerModule))
		case !versionPattern.MatchString(version):
			return nil, nil, fmt.Errorf("github: runner version %q: give a tag such as v1.2.0, a branch or a commit (letters, digits, ., _, + and -)", version)
		}
	}
	if filepath.IsAbs(w.Options.Recipe) {
		notes = append(notes, fmt.Sprintf("the recipe's path %s is absolute: the jobs look for it there in the checkout; give it relative to the repository's root", w.Options.Recipe))
	}
	for _, name := range w.Secrets {
		if strings.HasPrefix(strings.ToUpper(name), "GITHUB_") && name != "GITHUB_TOKEN" {
			notes = append(notes, fmt.Sprintf("the secret %s cannot be created: GitHub reserves names that start with GITHUB_; rename the variable the recipe reads", name))
		}
	}

	jobs := mapping()
	for _, s := range w.Steps {
		j := job(w, s, ids, version)
		if m := timeoutMinutes(w, s); m > hostedMinutes {
			notes = append(notes, fmt.Sprintf("%s may run %d minutes (its tries, timeouts and waits), but a job on GitHub's hosted runners stops at %d: lower its timeout or retries, or run it on a self-hosted runner", describe(s), m, hostedMinutes))
		}
		add(jobs, ids[s], j)
	}
	on := mapping("workflow_dispatch", flow(mapping()))
	if len(crons) > 0 {
		var entries []*yaml.Node
		for _, c := range crons {
			e := mapping("cron", scalar(c.Cron))
			e.HeadComment = export.OneLine(c.Comment)
			entries = append(entries, e)
		}
		add(on, "schedule", sequence(entries...))
	}
	name := w.Name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(w.Options.Recipe), filepath.Ext(w.Options.Recipe))
	}
	// GitHub shows the name as one line, and actionlint reads ${{ in it
	// as an expression.
	doc := mapping("name", scalar(literal(export.OneLine(name))), "on", on)
	// The workflow's GITHUB_TOKEN reads the repository; a recipe that
	// uses it (a github_release task, a push) writes: tags, releases.
	contents := "read"
	if slices.Contains(w.Secrets, "GITHUB_TOKEN") {
		contents = "write"
	}
	add(doc, "permissions", mapping("contents", scalar(contents)))
	if contents == "write" {
		doc.Content[len(doc.Content)-2].HeadComment = "The recipe uses GITHUB_TOKEN: it may write tags and releases."
	}
	add(doc, "concurrency", concurrency(w.Recipe))
	doc.Content[len(doc.Content)-2].HeadComment = overlapComment(w.Recipe)
	if len(w.Secrets) > 0 {
		env := mapping()
		for _, n := range w.Secrets {
			add(env, n, scalar("${{ secrets."+n+" }}"))
		}
		add(doc, "env", env)
	}
	add(doc, "jobs", jobs)

	var buf bytes.Buffer
	buf.WriteString(header(w))
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, nil, fmt.Errorf("github: write the workflow: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, nil, fmt.Errorf("github: write the workflow: %w", err)
	}
	return buf.Bytes(), notes, nil
}

// header is the comment at the top of the file.
func header(w *export.Workflow) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Generated by `runner export --to github` from %s. Do not edit: change the\n", export.OneLine(w.Options.Recipe))
	b.WriteString("# recipe and export it again.\n#\n")
	if w.Description != "" {
		fmt.Fprintf(&b, "# %s\n#\n", export.OneLine(w.Description))
	}
	b.WriteString("# Each job runs one step of the recipe with `runner exec`, which keeps runner's\n")
	fmt.Fprintf(&b, "# rules and passes outputs and files between jobs through %s.\n", export.OneLine(w.Options.State))
	var create []string
	for _, n := range w.Secrets {
		if n != "GITHUB_TOKEN" {
			create = append(create, n)
		}
	}
	if len(create) > 0 {
		b.WriteString("#\n# Repository secrets to create (Settings > Secrets and variables > Actions):\n")
		for _, n := range create {
			fmt.Fprintf(&b, "#   %s\n", export.OneLine(n))
		}
	}
	return b.String()
}

// concurrency keeps runs of the recipe from overlapping, as runner's lock
// and the schedule's overlap policy do.
func concurrency(r *recipe.Recipe) *yaml.Node {
	cancel := r.Schedule != nil && r.Schedule.Overlap == recipe.OverlapCancelPrevious
	return mapping("group", scalar("${{ github.workflow }}"), "cancel-in-progress", boolean(cancel))
}

// overlapComment says how the overlap policy maps onto GitHub's groups.
func overlapComment(r *recipe.Recipe) string {
	overlap := recipe.OverlapSkip
	if r.Schedule != nil {
		overlap = r.Schedule.Overlap
	}
	switch overlap {
	case recipe.OverlapCancelPrevious:
		return "overlap: cancel_previous - a new run cancels the running one (runner exec can resume it)."
	case recipe.OverlapQueue:
		return "overlap: queue - a new run waits for the running one; at most one waits."
	default:
		return "overlap: skip - GitHub cannot drop a start: a new run waits for the running one\n(at most one waits), as with queue."
	}
}

// job is the job of one step.
func job(w *export.Workflow, s *export.Step, ids map[*export.Step]string, version string) *yaml.Node {
	j := mapping("name", scalar(jobName(s)))
	if len(s.Needs) > 0 {
		var needs []*yaml.Node
		for _, n := range s.Needs {
			needs = append(needs, scalar(ids[n.Step]))
		}
		add(j, "needs", flow(sequence(needs...)))
		add(j, "if", scalar(condition(s, ids)))
	}
	add(j, "runs-on", scalar(runsOn))
	if w.Options.Image != "" {
		add(j, "container", scalar(w.Options.Image))
	}
	if m := timeoutMinutes(w, s); m > 0 {
		add(j, "timeout-minutes", number(m))
	}
	if s.Kind == export.Instances {
		plan := ids[s.Plan]
		add(j, "strategy", mapping(
			"fail-fast", boolean(false),
			"matrix", mapping("index", scalar("${{ fromJSON(needs."+plan+".outputs.items) }}"))))
	}
	if s.Kind == export.Plan {
		add(j, "outputs", mapping(
			"items", scalar("${{ steps.exec.outputs.items }}"),
			"count", scalar("${{ steps.exec.outputs.count }}")))
	}
	steps := []*yaml.Node{mapping("uses", scalar(checkoutAction))}
	if w.Options.Image == "" {
		steps = append(steps,
			mapping("uses", scalar(setupGoAction), "with", mapping("go-version", scalar("stable"), "cache", boolean(false))),
			mapping("name", scalar("Install runner"), "run", scalar("go install "+runnerModule+"@"+version)))
	}
	steps = append(steps, mapping("id", scalar("exec"), "name", scalar("runner exec"), "run", scalar(command(w, s))))
	add(j, "steps", sequence(steps...))
	return j
}

// timeoutMinutes bounds a step's job: its Deadline, and the time to
// install runner when the job does; 0 for no bound beyond GitHub's.
func timeoutMinutes(w *export.Workflow, s *export.Step) int {
	if s.Deadline <= 0 {
		return 0
	}
	minutes := int(math.Ceil(s.Deadline.Minutes()))
	if w.Options.Image == "" {
		minutes += installMinutes
	}
	return minutes
}

// jobName is what GitHub shows for a step's job: runner's name of it.
func jobName(s *export.Step) string {
	switch s.Kind {
	case export.Init:
		return "init (record the run)"
	case export.Plan:
		return s.Task.ID + " (plan)"
	case export.Instances:
		return s.Task.ID + "[" + itemExpr + "]"
	default:
		return s.Name
	}
}

// condition is a job's if: not when the run is cancelled, and each need
// ended as the step accepts, so that a failed or skipped task skips what
// needs it as runner does. runner exec applies runner's rules again from
// the store, so the check can only let a job start, never decide a task.
func condition(s *export.Step, ids map[*export.Step]string) string {
	parts := []string{"!cancelled()"}
	for _, n := range s.Needs {
		id := ids[n.Step]
		switch n.Accept {
		case export.Succeeded:
			parts = append(parts, "needs."+id+".result == 'success'")
		case export.SucceededOrEmpty:
			parts = append(parts, "(needs."+id+".result == 'success' || needs."+id+".result == 'skipped')")
		}
	}
	if s.Kind == export.Instances {
		// A matrix over no items is an error in GitHub: no job instead.
		parts = append(parts, "needs."+ids[s.Plan]+".outputs.count != '0'")
	}
	return "${{ " + strings.Join(parts, " && ") + " }}"
}

// command is the shell line of a step's runner exec.
func command(w *export.Workflow, s *export.Step) string {
	argv := s.Command(w, export.RunIDPlaceholder, export.ItemPlaceholder)
	if s.Kind == export.Plan {
		argv = append(argv, "--max-items", fmt.Sprint(MatrixLimit))
	}
	words := []string{"runner"}
	for _, a := range argv {
		switch a {
		case export.RunIDPlaceholder:
			words = append(words, runIDExpr)
		case export.ItemPlaceholder:
			words = append(words, itemExpr)
		default:
			words = append(words, literal(export.Quote(a)))
		}
	}
	return strings.Join(words, " ")
}

// literal keeps GitHub from reading ${{ in text (a --set value, a path)
// as the start of one of its expressions: ${{ '${{' }} is the text ${{.
func literal(s string) string {
	return strings.ReplaceAll(s, "${{", "${{ '${{' }}")
}

// mapping makes a YAML mapping of key, value pairs.
func mapping(kv ...any) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for i := 0; i+1 < len(kv); i += 2 {
		add(m, kv[i].(string), kv[i+1].(*yaml.Node))
	}
	return m
}

// add appends key: value to a mapping.
func add(m *yaml.Node, key string, value *yaml.Node) {
	m.Content = append(m.Content, scalar(key), value)
}

func sequence(items ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.SequenceNode, Content: items}
}

func flow(n *yaml.Node) *yaml.Node {
	n.Style = yaml.FlowStyle
	return n
}

func scalar(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
}

func number(n int) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(n)}
}

func boolean(b bool) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(b)}
}
