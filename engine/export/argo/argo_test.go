package argo

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/export"
	"github.com/novelfactory/runner/engine/recipe"
	_ "github.com/novelfactory/runner/tasks" // the built-in types
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// options are the export options of the goldens.
func options(recipePath string) export.Options {
	return export.Options{Recipe: recipePath, Image: "ghcr.io/novelfactory/runner:1.0.0", State: "s3://runner-state/runs"}
}

func loadFile(t *testing.T, path string) *recipe.Recipe {
	t.Helper()
	r, err := recipe.Load(path, recipe.Options{})
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return r
}

func loadText(t *testing.T, src string) *recipe.Recipe {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return loadFile(t, path)
}

// render builds and renders r, failing the test on an error.
func render(t *testing.T, r *recipe.Recipe, opt export.Options) (string, []string) {
	t.Helper()
	w, err := export.Build(r, opt)
	if err != nil {
		t.Fatal(err)
	}
	data, notes, err := Render(w)
	if err != nil {
		t.Fatal(err)
	}
	return string(data), notes
}

// TestGoldens renders every shipped recipe, compares it with its golden
// file, and checks it against Argo's schema and rules.
func TestGoldens(t *testing.T) {
	paths, err := filepath.Glob("../../../recipes/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shipped recipes found (%v)", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".yaml")
		t.Run(name, func(t *testing.T) {
			got, notes := render(t, loadFile(t, path), options("recipes/"+name+".yaml"))
			if len(notes) > 0 {
				got += "# notes:\n#   " + strings.Join(notes, "\n#   ") + "\n"
			}
			golden := filepath.Join("testdata", name+".argo.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./engine/export/argo -update)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the export; run go test ./engine/export/argo -update and read the diff", golden)
			}
			for _, p := range checkArgo(t, want) {
				t.Errorf("%s: %s", golden, p)
			}
		})
	}
}

func TestGoldensComeOneForEachShippedRecipe(t *testing.T) {
	goldens, _ := filepath.Glob("testdata/*.argo.yaml")
	for _, g := range goldens {
		name := strings.TrimSuffix(filepath.Base(g), ".argo.yaml")
		if _, err := os.Stat(filepath.Join("../../../recipes", name+".yaml")); err != nil {
			t.Errorf("%s is the golden of no shipped recipe: remove it", g)
		}
	}
}

// TestTheCheckerCatchesMistakes proves checkArgo can fail: each edit of
// a good export is one mistake it must report.
func TestTheCheckerCatchesMistakes(t *testing.T) {
	good, _ := render(t, loadText(t, fanOut), options("r.yaml"))
	if p := checkArgo(t, []byte(good)); len(p) > 0 {
		t.Fatalf("the good export has problems: %v", p)
	}
	for _, c := range []struct{ name, old, new, want string }{
		{"a typo in a key", "withParam:", "withParams:", `key "withParams" is not in Argo's schema`},
		{"a typo in a container key", "command:", "commands:", `key "commands" is not in Argo's schema`},
		{"a wrong type", "failFast: false", "failFast: \"no\"", "against Argo's schema"},
		{"a name with a dot", "- name: zip\n", "- name: zip.x\n", `"zip.x" breaks Argo's rules`},
		{"an upper-case name", "- name: upload\n", "- name: Upload\n", `"Upload" breaks Argo's rules`},
		{"a depends on no task", "depends: zip-plan.Succeeded", "depends: zap-plan.Succeeded", "depends on zap-plan, which is no task"},
		{"a depends without status", "depends: zip-plan.Succeeded", "depends: zip-plan", `"zip-plan" in depends is not TASK.Status`},
		{"a result of no ancestor", "{{tasks.zip-plan.outputs.result}}", "{{tasks.upload.outputs.result}}", "does not depend on"},
		{"an unknown variable", "'{{workflow.name}}'", "'{{workflow.nam}}'", "{{workflow.nam}}"},
		{"fail fast", "failFast: false", "failFast: true", "failFast: false"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(good, c.old) {
				t.Fatalf("the export has no %q", c.old)
			}
			bad := strings.Replace(good, c.old, c.new, 1)
			problems := strings.Join(checkArgo(t, []byte(bad)), "\n")
			if !strings.Contains(problems, c.want) {
				t.Errorf("problems = %q, want one with %q", problems, c.want)
			}
		})
	}
}

const fanOut = `version: 1
name: fan-out
vars:
  projects: [a, b, c]
tasks:
  dump:
    uses: shell
    timeout: 1m
    retry: {attempts: 3, delay: 10s, backoff: 2}
    with: {run: 'echo "${{ env.NOTIFY_TOKEN }}"'}
  zip:
    uses: shell
    needs: [dump]
    for_each: ${{ vars.projects }}
    with: {run: "echo ${{ item }}"}
  upload:
    uses: shell
    needs: [zip, dump]
    with: {run: echo up}
  report:
    uses: shell
    needs: [upload]
    if: always()
    with: {run: echo report}
`

// workflowOf decodes a rendered Workflow into the shapes Render writes.
func workflowOf(t *testing.T, data string) (manifest, workflowSpec) {
	t.Helper()
	var doc struct {
		APIVersion string       `yaml:"apiVersion"`
		Kind       string       `yaml:"kind"`
		Metadata   objectMeta   `yaml:"metadata"`
		Spec       workflowSpec `yaml:"spec"`
	}
	dec := yaml.NewDecoder(strings.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return manifest{APIVersion: doc.APIVersion, Kind: doc.Kind, Metadata: doc.Metadata}, doc.Spec
}

func TestDependsSaysWhichEndingsLetAStepStart(t *testing.T) {
	out, notes := render(t, loadText(t, fanOut), options("recipes/fan-out.yaml"))
	if len(notes) != 0 {
		t.Errorf("notes = %q, want none: every id is a valid Argo name", notes)
	}
	m, spec := workflowOf(t, out)
	if m.Kind != "Workflow" || m.Metadata.GenerateName != "fan-out-" || m.Metadata.Annotations[RecipeAnnotation] != "recipes/fan-out.yaml" {
		t.Errorf("metadata = %+v", m)
	}
	tasks := map[string]dagTask{}
	for _, task := range spec.Templates[0].DAG.Tasks {
		tasks[task.Name] = task
	}
	for name, want := range map[string]string{
		"init":     "",
		"dump":     "init.Succeeded",
		"zip-plan": "dump.Succeeded",
		"zip":      "zip-plan.Succeeded",
		// An empty fan-out is Skipped in Argo: upload runs, as under apply.
		"upload": "(zip.Succeeded || zip.Skipped) && dump.Succeeded",
		"report": "(upload.Succeeded || upload.Failed || upload.Errored || upload.Skipped || upload.Omitted)",
	} {
		if got := tasks[name].Depends; got != want {
			t.Errorf("%s depends %q, want %q", name, got, want)
		}
	}
	if got := tasks["zip"].WithParam; got != "{{tasks.zip-plan.outputs.result}}" {
		t.Errorf("zip withParam = %q", got)
	}
	if a := tasks["zip"].Arguments; a == nil || len(a.Parameters) != 1 || a.Parameters[0] != (parameter{Name: "item", Value: "{{item}}"}) {
		t.Errorf("zip passes %+v, want the item", a)
	}
	byName := map[string]template{}
	for _, tmpl := range spec.Templates {
		byName[tmpl.Name] = tmpl
	}
	zip := byName["zip"].Container.Args
	if got := strings.Join(zip[len(zip)-4:], " "); got != "--task zip --item {{inputs.parameters.item}}" {
		t.Errorf("zip runs %q", zip)
	}
	if got := byName["dump"].ActiveDeadlineSeconds; got != "810" { // 3×1m + 10s + 20s + 10m
		t.Errorf("dump's activeDeadlineSeconds = %q, want 810", got)
	}
	if got := byName["upload"].ActiveDeadlineSeconds; got != "" {
		t.Errorf("upload has no timeout but activeDeadlineSeconds %q", got)
	}
	if strings.Contains(out, "retryStrategy") {
		t.Error("the export has a retryStrategy: runner retries inside the step")
	}
	for name, tmpl := range byName {
		if tmpl.Container == nil {
			continue
		}
		if tmpl.Container.Command[0] != "runner" || tmpl.Container.Args[0] != "exec" || tmpl.Container.Image != "ghcr.io/novelfactory/runner:1.0.0" {
			t.Errorf("template %s runs %q %q in %s", name, tmpl.Container.Command, tmpl.Container.Args, tmpl.Container.Image)
		}
		var env []string
		for _, e := range tmpl.Container.Env {
			if e.ValueFrom.SecretKeyRef != (secretKeyRef{Name: "runner", Key: e.Name}) {
				t.Errorf("template %s: env %s comes from %+v", name, e.Name, e.ValueFrom)
			}
			env = append(env, e.Name)
		}
		if got := strings.Join(env, ","); got != "AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,NOTIFY_TOKEN" {
			t.Errorf("template %s gets env %s", name, got)
		}
	}
	if p := checkArgo(t, []byte(out)); len(p) > 0 {
		t.Errorf("problems: %v", p)
	}
}

func TestSecretsComeFromTheNamedKubernetesSecretNeverAsValues(t *testing.T) {
	t.Setenv("NOTIFY_TOKEN", "s3cr3t-token-value")
	opt := options("r.yaml")
	opt.KubernetesSecret = "factory-runner"
	out, _ := render(t, loadText(t, fanOut), opt)
	if strings.Contains(out, "s3cr3t-token-value") {
		t.Error("the export holds the secret's value")
	}
	if !strings.Contains(out, `# Every step reads these keys of the Kubernetes Secret "factory-runner"`) ||
		!strings.Contains(out, "kubectl create secret generic factory-runner --from-literal=AWS_ACCESS_KEY_ID=…") {
		t.Errorf("the header does not name the secret:\n%s", out[:strings.Index(out, "apiVersion")])
	}
	if n := strings.Count(out, "name: factory-runner\n"); n != 3*6 { // 3 secrets × 6 steps
		t.Errorf("%d secretKeyRefs name factory-runner, want 18", n)
	}

	opt.KubernetesSecret = "Factory_Runner"
	w, _ := export.Build(loadText(t, fanOut), opt)
	if _, _, err := Render(w); err == nil || !strings.Contains(err.Error(), "Kubernetes Secret name") {
		t.Errorf("err = %v, want one about the Secret's name", err)
	}
}

func TestArgoVariablesInArgumentsAreRefused(t *testing.T) {
	opt := options("r.yaml")
	opt.Sets = []string{"projects={{workflow.uid}}"}
	w, err := export.Build(loadText(t, fanOut), opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Render(w); err == nil || !strings.Contains(err.Error(), "{{") {
		t.Errorf("err = %v, want one about {{", err)
	}
}

func TestIdsArgoCannotNameGetAHashSuffix(t *testing.T) {
	out, notes := render(t, loadText(t, `version: 1
name: names
tasks:
  Zip_Episodes: {uses: shell, with: {run: echo}}
  zip_episodes: {uses: shell, with: {run: echo}}
  zip-episodes: {uses: shell, with: {run: echo}}
  ZIP-EPISODES: {uses: shell, with: {run: echo}}
  _hidden: {uses: shell, with: {run: echo}}
  in: {uses: shell, with: {run: echo}}
  init: {uses: shell, with: {run: echo}}
  `+strings.Repeat("a", 130)+`: {uses: shell, with: {run: echo}}
`), options("r.yaml"))
	if p := checkArgo(t, []byte(out)); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	_, spec := workflowOf(t, out)
	byID := map[string]string{}
	seen := map[string]bool{}
	for _, tmpl := range spec.Templates[1:] {
		id := tmpl.Metadata.Annotations[StepAnnotation]
		if seen[tmpl.Name] {
			t.Errorf("two steps are named %s", tmpl.Name)
		}
		seen[tmpl.Name] = true
		if tmpl.Metadata.Annotations[TaskAnnotation] != "" {
			byID[id] = tmpl.Name
		}
	}
	if byID["zip-episodes"] != "zip-episodes" || byID["init"] != "init" {
		t.Errorf("valid ids were renamed: %v", byID)
	}
	if got := byID["Zip_Episodes"]; got != "zip-episodes-"+shortHash("Zip_Episodes") {
		t.Errorf("Zip_Episodes is %s", got)
	}
	for _, id := range []string{"Zip_Episodes", "zip_episodes", "ZIP-EPISODES", "_hidden", "in", strings.Repeat("a", 130)} {
		name := byID[id]
		if name == id || !strings.HasSuffix(name, "-"+shortHash(id)) || len(name) > maxFieldName {
			t.Errorf("%s is %s in Argo, want a clean name with the suffix %s", id, name, shortHash(id))
		}
		found := false
		for _, n := range notes {
			found = found || strings.HasPrefix(n, "task "+id+" is "+name+" in Argo: ")
		}
		if !found {
			t.Errorf("no note says %s is %s: %q", id, name, notes)
		}
	}
	if want := "task Zip_Episodes is zip-episodes-" + shortHash("Zip_Episodes") + " in Argo: Argo names are lowercase a-z, 0-9 and -, starting with a letter"; notes[0] != want {
		t.Errorf("note = %q, want %q", notes[0], want)
	}
	if len(notes) != 6 {
		t.Errorf("%d notes, want one per renamed id (6): %q", len(notes), notes)
	}
	// runner's own init step gives way to the task named init.
	for _, tmpl := range spec.Templates {
		if tmpl.Metadata != nil && tmpl.Metadata.Annotations[StepAnnotation] == "init" && tmpl.Metadata.Annotations[TaskAnnotation] == "" {
			if tmpl.Name == "init" || !strings.HasPrefix(tmpl.Name, "init-") {
				t.Errorf("runner's init step is %s", tmpl.Name)
			}
		}
	}
}

func TestArgoName(t *testing.T) {
	for in, want := range map[string]string{
		"upload":         "upload",
		"dump-graph":     "dump-graph",
		"Zip_Episodes":   "zip-episodes-" + shortHash("Zip_Episodes"),
		"zip.plan":       "zip-plan-" + shortHash("zip.plan"),
		"__a__b":         "a-b-" + shortHash("__a__b"),
		"9lives":         "t-9lives-" + shortHash("9lives"),
		"not":            "not-" + shortHash("not"),
		"trailing-":      "trailing-",
		"x" + "\u00e9y":  "x-y-" + shortHash("x\u00e9y"),
		"_":              "t-" + shortHash("_"),
		"Upper":          "upper-" + shortHash("Upper"),
		"upload-":        "upload-",
		"a--b":           "a--b",
		"A--B":           "a-b-" + shortHash("A--B"),
		"t":              "t",
		"Tasks-Are-Fine": "tasks-are-fine-" + shortHash("Tasks-Are-Fine"),
	} {
		got := argoName(in, maxFieldName)
		if got != want {
			t.Errorf("argoName(%q) = %q, want %q", in, got, want)
		}
		if !validName(got, maxFieldName) {
			t.Errorf("argoName(%q) = %q, which is not valid", in, got)
		}
	}
	long := strings.Repeat("Ab_", 60)
	if got := argoName(long, 52); len(got) > 52 || !validName(got, 52) {
		t.Errorf("argoName of a long id = %q (%d characters)", got, len(got))
	}
}

const scheduled = `version: 1
name: weekly
timezone: Asia/Seoul
schedule:
  - "0 4 * * 0"
  - {cron: "0 5 * * 3", timezone: Asia/Seoul}
  - {cron: "0 6 * * *", timezone: Europe/Paris}
  - {cron: "0 7 * * *", timezone: Asia/Seoul, vars: {project: Other}}
overlap: %s
catchup: %s
vars: {project: Pilot}
tasks:
  a: {uses: shell, with: {run: echo}}
`

func TestAScheduleMakesCronWorkflows(t *testing.T) {
	for _, c := range []struct {
		overlap, catchup, policy string
		deadline                 *int64
		note                     string
	}{
		{"skip", "latest", "Forbid", ptr(int64(30 * 24 * 3600)), ""},
		{"queue", "none", "Forbid", nil, "overlap: queue is Forbid in Argo"},
		{"cancel_previous", "all", "Replace", ptr(int64(30 * 24 * 3600)), "catchup: all is latest in Argo"},
	} {
		t.Run(c.overlap+" and catch-up "+c.catchup, func(t *testing.T) {
			out, notes := render(t, loadText(t, strings.NewReplacer("%s", c.overlap).Replace(strings.Replace(scheduled, "catchup: %s", "catchup: "+c.catchup, 1))), options("r.yaml"))
			if p := checkArgo(t, []byte(out)); len(p) > 0 {
				t.Fatalf("problems: %v", p)
			}
			var docs []struct {
				Kind     string     `yaml:"kind"`
				Metadata objectMeta `yaml:"metadata"`
				Spec     cronSpec   `yaml:"spec"`
			}
			dec := yaml.NewDecoder(strings.NewReader(out))
			for {
				var d struct {
					Kind     string     `yaml:"kind"`
					Metadata objectMeta `yaml:"metadata"`
					Spec     cronSpec   `yaml:"spec"`
				}
				if dec.Decode(&d) != nil {
					break
				}
				docs = append(docs, d)
			}
			if len(docs) != 3 {
				t.Fatalf("%d documents, want 3 CronWorkflows (Seoul, Paris, Seoul with project=Other)", len(docs))
			}
			want := []struct {
				name, zone, crons, set string
			}{
				{"weekly-1", "Asia/Seoul", "0 4 * * 0|0 5 * * 3", ""},
				{"weekly-2", "Europe/Paris", "0 6 * * *", ""},
				{"weekly-3", "Asia/Seoul", "0 7 * * *", "project=Other"},
			}
			for i, d := range docs {
				w := want[i]
				if d.Kind != "CronWorkflow" || d.Metadata.Name != w.name || d.Spec.Timezone != w.zone || strings.Join(d.Spec.Schedules, "|") != w.crons {
					t.Errorf("document %d = %s %s %s %q, want CronWorkflow %s %s %s", i, d.Kind, d.Metadata.Name, d.Spec.Timezone, d.Spec.Schedules, w.name, w.zone, w.crons)
				}
				if d.Spec.ConcurrencyPolicy != c.policy {
					t.Errorf("%s: concurrencyPolicy %s, want %s", w.name, d.Spec.ConcurrencyPolicy, c.policy)
				}
				if (d.Spec.StartingDeadlineSeconds == nil) != (c.deadline == nil) || c.deadline != nil && *d.Spec.StartingDeadlineSeconds != *c.deadline {
					t.Errorf("%s: startingDeadlineSeconds %v, want %v", w.name, d.Spec.StartingDeadlineSeconds, c.deadline)
				}
				args := strings.Join(d.Spec.WorkflowSpec.Templates[1].Container.Args, " ")
				if hasSet := strings.Contains(args, "--set project=Other"); hasSet != (w.set != "") {
					t.Errorf("%s runs %s", w.name, args)
				}
			}
			joined := strings.Join(notes, "\n")
			if !strings.Contains(joined, "written as 3 CronWorkflows") {
				t.Errorf("no note on the 3 CronWorkflows: %q", notes)
			}
			if c.note != "" && !strings.Contains(joined, c.note) {
				t.Errorf("notes = %q, want %q", notes, c.note)
			}
		})
	}
}

func TestAScheduleInOneZoneIsOneCronWorkflowNamedAsTheRecipe(t *testing.T) {
	out, notes := render(t, loadText(t, `version: 1
name: nightly
schedule: "0 4 * * *"
tasks:
  a: {uses: shell, with: {run: echo}}
`), options("r.yaml"))
	if p := checkArgo(t, []byte(out)); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	if strings.Count(out, "kind: CronWorkflow") != 1 || !strings.Contains(out, "\n  name: nightly\n") {
		t.Errorf("want one CronWorkflow named nightly:\n%s", out)
	}
	if strings.Contains(out, "timezone:") || !strings.Contains(out, "# No time zone: Argo reads 0 4 * * * in the workflow controller's zone.") {
		t.Errorf("a schedule without zone should say whose zone Argo uses:\n%s", out)
	}
	if len(notes) != 0 {
		t.Errorf("notes = %q", notes)
	}
}

func TestWorkflowNamesFitKubernetes(t *testing.T) {
	long := strings.Repeat("Backup_", 12)
	out, notes := render(t, loadText(t, "version: 1\nname: "+long+"\ntasks:\n  a: {uses: shell, with: {run: echo}}\n"), options("r.yaml"))
	if p := checkArgo(t, []byte(out)); len(p) > 0 {
		t.Fatalf("problems: %v", p)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "the workflow is named backup-backup") {
		t.Errorf("notes = %q", notes)
	}
}

func ptr[T any](v T) *T { return &v }
