package argo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

// argoModule is the Argo Workflows release whose JSON Schema the exported
// YAML must satisfy; .ci/run downloads it (test-time only).
const argoModule = "github.com/argoproj/argo-workflows/v4@v4.0.5"

const schemaURL = "https://raw.githubusercontent.com/argoproj/argo-workflows/v4.0.5/api/jsonschema/schema.json"

// argoSchema is Argo's JSON Schema, read and compiled once per test binary.
var argoSchema = sync.OnceValues(func() (*argoSchemaDoc, error) {
	path := os.Getenv("RUNNER_TEST_ARGO_SCHEMA")
	if path == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			return nil, fmt.Errorf("go env GOMODCACHE: %w", err)
		}
		path = filepath.Join(strings.TrimSpace(string(out)), argoModule, "api", "jsonschema", "schema.json")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("Argo's JSON Schema: %w; download it with `go mod download -json %s` (as .ci/run does) or set RUNNER_TEST_ARGO_SCHEMA to its schema.json", err, argoModule)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	s := &argoSchemaDoc{defs: raw["definitions"].(map[string]any), compiled: map[string]*jsonschema.Schema{}}
	for _, kind := range []string{"Workflow", "CronWorkflow"} {
		if s.compiled[kind], err = c.Compile(schemaURL + "#/definitions/" + definition(kind)); err != nil {
			return nil, fmt.Errorf("compile %s: %w", kind, err)
		}
	}
	return s, nil
})

type argoSchemaDoc struct {
	defs     map[string]any
	compiled map[string]*jsonschema.Schema
}

func definition(kind string) string { return "io.argoproj.workflow.v1alpha1." + kind }

// checkArgo returns what is wrong with an exported file: every document
// against Argo's JSON Schema, keys the schema does not declare, and the
// rules Argo's validator applies to names and references.
func checkArgo(t *testing.T, data []byte) []string {
	t.Helper()
	s, err := argoSchema()
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var doc any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			if i == 0 {
				problems = append(problems, "no document")
			}
			break
		} else if err != nil {
			return append(problems, fmt.Sprintf("document %d: %v", i, err))
		}
		j, err := json.Marshal(doc)
		if err != nil {
			return append(problems, fmt.Sprintf("document %d: %v", i, err))
		}
		var m map[string]any
		if err := json.Unmarshal(j, &m); err != nil {
			return append(problems, fmt.Sprintf("document %d is not a map: %v", i, err))
		}
		kind, _ := m["kind"].(string)
		compiled := s.compiled[kind]
		if compiled == nil {
			problems = append(problems, fmt.Sprintf("document %d: kind %q, want Workflow or CronWorkflow", i, kind))
			continue
		}
		inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(j))
		if err := compiled.Validate(inst); err != nil {
			problems = append(problems, fmt.Sprintf("document %d against Argo's schema: %v", i, err))
		}
		s.unknownKeys(m, map[string]any{"$ref": "#/definitions/" + definition(kind)}, kind, &problems)
		problems = append(problems, argoRules(m)...)
	}
	return problems
}

// unknownKeys reports every key of v that schema does not declare: Argo's
// schema allows unknown keys, which Argo would drop silently.
func (s *argoSchemaDoc) unknownKeys(v any, schema map[string]any, path string, problems *[]string) {
	for {
		ref, ok := schema["$ref"].(string)
		if !ok {
			break
		}
		schema = s.defs[strings.TrimPrefix(ref, "#/definitions/")].(map[string]any)
	}
	switch v := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		extra, _ := schema["additionalProperties"].(map[string]any)
		if props == nil && extra == nil {
			return // free-form, such as an Item
		}
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			sub, ok := props[k].(map[string]any)
			if !ok {
				sub = extra
			}
			if sub == nil {
				*problems = append(*problems, fmt.Sprintf("%s: key %q is not in Argo's schema", path, k))
				continue
			}
			s.unknownKeys(v[k], sub, path+"."+k, problems)
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, x := range v {
			if items != nil {
				s.unknownKeys(x, items, fmt.Sprintf("%s[%d]", path, i), problems)
			}
		}
	}
}

var (
	dependsTerm = regexp.MustCompile(`^([a-zA-Z0-9][-a-zA-Z0-9]*)\.(Succeeded|Failed|Errored|Skipped|Omitted|Daemoned)$`)
	argoVar     = regexp.MustCompile(`\{\{([^}]*)\}\}`)
	taskRef     = regexp.MustCompile(`^tasks\.([^.]+)\.outputs\.result$`)
)

// argoRules checks one Workflow or CronWorkflow (as JSON values) against
// the rules of Argo's validator that its schema does not hold: names,
// the DAG's references, and the variables used.
func argoRules(doc map[string]any) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	meta, _ := doc["metadata"].(map[string]any)
	spec, _ := doc["spec"].(map[string]any)
	if doc["kind"] == "CronWorkflow" {
		name, _ := meta["name"].(string)
		if !validObjectName(name, maxCronWorkflowName) {
			bad("CronWorkflow name %q: not a Kubernetes name of at most %d characters", name, maxCronWorkflowName)
		}
		if s, _ := spec["schedules"].([]any); len(s) == 0 {
			bad("CronWorkflow %s has no schedule", name)
		}
		spec, _ = spec["workflowSpec"].(map[string]any)
	} else {
		gen, _ := meta["generateName"].(string)
		if !strings.HasSuffix(gen, "-") || !validObjectName(strings.TrimSuffix(gen, "-"), maxGenerateName-1) {
			bad("generateName %q: want a Kubernetes name of at most %d characters and a -", gen, maxGenerateName)
		}
	}
	templates := map[string]map[string]any{}
	list, _ := spec["templates"].([]any)
	for _, x := range list {
		t, _ := x.(map[string]any)
		name, _ := t["name"].(string)
		if !validName(name, maxFieldName) {
			bad("template name %q breaks Argo's rules", name)
		}
		if templates[name] != nil {
			bad("two templates named %q", name)
		}
		templates[name] = t
	}
	entry := templates[fmt.Sprint(spec["entrypoint"])]
	if entry == nil {
		return append(problems, fmt.Sprintf("entrypoint %v names no template", spec["entrypoint"]))
	}
	dag, _ := entry["dag"].(map[string]any)
	if dag == nil || dag["failFast"] != false {
		bad("the entrypoint is not a DAG with failFast: false")
		return problems
	}
	tasks := map[string]map[string]any{}
	deps := map[string][]string{}
	taskList, _ := dag["tasks"].([]any)
	for _, x := range taskList {
		task, _ := x.(map[string]any)
		name, _ := task["name"].(string)
		if !validName(name, maxFieldName) {
			bad("DAG task name %q breaks Argo's rules", name)
		}
		if tasks[name] != nil {
			bad("two DAG tasks named %q", name)
		}
		tasks[name] = task
		if templates[fmt.Sprint(task["template"])] == nil {
			bad("task %s runs template %v, which does not exist", name, task["template"])
		}
	}
	for _, x := range taskList {
		task := x.(map[string]any)
		name := task["name"].(string)
		depends, _ := task["depends"].(string)
		terms := strings.NewReplacer("(", " ", ")", " ", "||", " ", "&&", " ").Replace(depends)
		for _, term := range strings.Fields(terms) {
			m := dependsTerm.FindStringSubmatch(term)
			if m == nil {
				bad("task %s: %q in depends is not TASK.Status", name, term)
				continue
			}
			if tasks[m[1]] == nil {
				bad("task %s depends on %s, which is no task", name, m[1])
			}
			if !slices.Contains(deps[name], m[1]) {
				deps[name] = append(deps[name], m[1])
			}
		}
		if strings.Count(depends, "(") != strings.Count(depends, ")") {
			bad("task %s: unbalanced parentheses in depends %q", name, depends)
		}
	}
	var ancestors func(name string, seen map[string]bool) map[string]bool
	ancestors = func(name string, seen map[string]bool) map[string]bool {
		for _, d := range deps[name] {
			if !seen[d] {
				seen[d] = true
				ancestors(d, seen)
			}
		}
		return seen
	}
	for name, task := range tasks {
		up := ancestors(name, map[string]bool{})
		if up[name] {
			bad("task %s depends on itself", name)
		}
		j, _ := json.Marshal(task)
		for _, m := range argoVar.FindAllStringSubmatch(string(j), -1) {
			v := m[1]
			switch r := taskRef.FindStringSubmatch(v); {
			case v == "item" && task["withParam"] != nil:
			case r != nil:
				if !up[r[1]] {
					bad("task %s reads {{%s}} of a task it does not depend on", name, v)
				}
			default:
				bad("task %s uses {{%s}}, which Argo does not know there", name, v)
			}
		}
		if task["withParam"] != nil {
			if tmpl := templates[fmt.Sprint(task["template"])]; !strings.Contains(fmt.Sprint(tmpl["inputs"]), "name:"+itemParam) {
				bad("task %s fans out to a template without input %s", name, itemParam)
			}
		}
	}
	for name, t := range templates {
		if t["dag"] != nil {
			if t["activeDeadlineSeconds"] != nil {
				bad("template %s: activeDeadlineSeconds is only valid on a leaf template", name)
			}
			continue
		}
		j, _ := json.Marshal(t)
		for _, m := range argoVar.FindAllStringSubmatch(string(j), -1) {
			switch v := m[1]; {
			case v == "workflow.name":
			case v == "inputs.parameters."+itemParam && strings.Contains(fmt.Sprint(t["inputs"]), "name:"+itemParam):
			default:
				bad("template %s uses {{%s}}, which Argo does not know there", name, v)
			}
		}
	}
	return problems
}
