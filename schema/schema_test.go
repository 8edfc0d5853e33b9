package schema_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/schema"
	_ "github.com/novelfactory/runner/tasks"
)

func TestCheckedInSchemaIsFresh(t *testing.T) {
	want, err := schema.Recipe(tasktype.Builtin())
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("recipe.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatal("schema/recipe.schema.json is stale: run `go generate ./...`")
	}
}

func compile(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("recipe.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schema.ID, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(schema.ID)
	if err != nil {
		t.Fatalf("the schema is not valid draft 2020-12: %v", err)
	}
	return s
}

// yamlToJSON converts a recipe to the JSON value a schema validator sees,
// as editors do.
func yamlToJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(v)
	out, err := jsonschema.UnmarshalJSON(strings.NewReader(string(j)))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestShippedRecipesMatchTheSchemaAndTheValidator(t *testing.T) {
	s := compile(t)
	files, _ := filepath.Glob("../recipes/*.yaml")
	if len(files) == 0 {
		t.Fatal("no shipped recipes")
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			if err := s.Validate(yamlToJSON(t, path)); err != nil {
				t.Errorf("schema rejects it: %v", err)
			}
			if _, err := recipe.Load(path, recipe.Options{}); err != nil {
				t.Errorf("validator rejects it: %v", err)
			}
		})
	}
}

func TestSchemaRejectsWhatTheValidatorRejects(t *testing.T) {
	s := compile(t)
	dir := t.TempDir()
	cases := map[string]string{
		"unknown top-level key": "version: 1\ntask: {}\n",
		"unknown task key":      "version: 1\ntasks:\n  a: {uses: shell, with: {run: x}, need: [b]}\n",
		"unknown task type":     "version: 1\ntasks:\n  a: {uses: shel}\n",
		"unknown param":         "version: 1\ntasks:\n  a: {uses: shell, with: {run: x, shel: bash}}\n",
		"missing required":      "version: 1\ntasks:\n  a: {uses: shell, with: {dir: x}}\n",
		"bad enum":              "version: 1\ntasks:\n  a: {uses: shell, with: {run: x, shell: zsh}}\n",
		"bad duration":          "version: 1\ntasks:\n  a: {uses: shell, with: {run: x}, timeout: 5 minutes}\n",
		"zero attempts":         "version: 1\ntasks:\n  a: {uses: shell, with: {run: x}, retry: {attempts: 0}}\n",
		"wrong version":         "version: 2\ntasks:\n  a: {uses: shell, with: {run: x}}\n",
	}
	for name, text := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".yaml")
			os.WriteFile(path, []byte(text), 0o644)
			if err := s.Validate(yamlToJSON(t, path)); err == nil {
				t.Error("schema accepts it")
			}
			if _, err := recipe.Load(path, recipe.Options{}); err == nil {
				t.Error("validator accepts it")
			}
		})
	}
}

// Cron lines the schema and the validator must agree on, both ways: a
// block scalar's line end and a pasted no-break space are white space for
// both; a macro is read in any case by both.
func TestSchemaAndValidatorAgreeOnCronLines(t *testing.T) {
	s := compile(t)
	dir := t.TempDir()
	for i, c := range []struct {
		schedule string
		valid    bool
	}{
		{"schedule: |\n  0 4 * * 0\n", true},
		{"schedule: >\n  0 4\n  * * 0\n", true},
		{"schedule: \"0 4 * * 0\\n\"\n", true},
		{"schedule: \"0\\u00a04 * * 0\"\n", true},
		{"schedule: \" @daily \"\n", true},
		{"schedule: \"@Daily\"\n", true},
		{"schedule: \"@HOURLY\"\n", true},
		{"schedule: \"@Dai1y\"\n", false},
	} {
		path := filepath.Join(dir, strings.Repeat("c", i+1)+".yaml")
		os.WriteFile(path, []byte("version: 1\n"+c.schedule+"tasks:\n  a: {uses: shell, with: {run: x}}\n"), 0o644)
		serr := s.Validate(yamlToJSON(t, path))
		_, verr := recipe.Load(path, recipe.Options{})
		if (verr == nil) != c.valid {
			t.Errorf("%q: validator says %v, want valid=%v", c.schedule, verr, c.valid)
		}
		if (serr == nil) != c.valid {
			t.Errorf("%q: schema says %v, want valid=%v", c.schedule, serr, c.valid)
		}
	}
}
