package schema

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/novelfactory/runner/engine/tasktype"
)

// ID is where the schema is published, as recipes refer to it.
const ID = "https://github.com/novelfactory/runner/schema/recipe.schema.json"

var (
	duration = map[string]any{
		"type":        "string",
		"pattern":     `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`,
		"description": `A Go duration: "500ms", "30s", "5m", "1h30m".`,
	}
	expression = map[string]any{
		"type":        "string",
		"description": "An expr-lang expression, e.g. vars.target != \"\". Wrapping it in ${{ }} is allowed.",
	}
	stringList = map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
)

// Recipe returns the recipe schema for the types in reg, as indented JSON.
func Recipe(reg *tasktype.Registry) ([]byte, error) {
	types := reg.All()
	names := make([]string, len(types))
	descs := make([]string, len(types))
	defs := map[string]any{}
	var cases []any
	for i, t := range types {
		names[i] = t.Name
		descs[i] = t.Summary
		with := t.Params.JSONSchema()
		with["description"] = fmt.Sprintf("Params of the %s task type. %s", t.Name, t.Summary)
		defs["with-"+t.Name] = with
		then := map[string]any{"properties": map[string]any{"with": map[string]any{"$ref": "#/$defs/with-" + t.Name}}}
		if req, _ := with["required"].([]string); len(req) > 0 {
			then["required"] = []string{"with"}
		}
		cases = append(cases, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"uses": map[string]any{"const": t.Name}}, "required": []string{"uses"}},
			"then": then,
		})
	}
	defs["retry"] = map[string]any{
		"type":                 "object",
		"additionalProperties": false,
		"properties": map[string]any{
			"attempts":  map[string]any{"type": "integer", "minimum": 1, "default": 1, "description": "Total number of tries, the first included."},
			"delay":     withDesc(duration, "Wait before the second try."),
			"backoff":   map[string]any{"type": "number", "minimum": 1, "default": 2, "description": "Factor applied to the wait after each try."},
			"max_delay": withDesc(duration, "Upper bound of the wait between tries; 1h (or the delay, if longer) when omitted."),
			"on": map[string]any{"type": "array", "items": map[string]any{"enum": tasktype.Classes},
				"description": "Error classes worth a retry; all when omitted."},
		},
	}
	defs["task"] = map[string]any{
		"type":                 "object",
		"required":             []string{"uses"},
		"additionalProperties": false,
		"properties": map[string]any{
			"uses": map[string]any{"enum": names, "enumDescriptions": descs, "markdownEnumDescriptions": descs,
				"description": "The built-in task type (see `runner tasks`)."},
			"with":     map[string]any{"type": "object", "description": "The task type's params."},
			"needs":    withDesc(map[string]any{"anyOf": []any{stringList, map[string]any{"type": "string"}}}, "Tasks that must finish first."),
			"if":       withDesc(map[string]any{"anyOf": []any{expression, map[string]any{"type": "boolean"}}}, "Run only when this expression is true; otherwise the task is skipped."),
			"retry":    map[string]any{"$ref": "#/$defs/retry"},
			"timeout":  withDesc(duration, "Cancel an attempt that runs longer than this."),
			"for_each": withDesc(map[string]any{"anyOf": []any{expression, map[string]any{"type": "array"}}}, "A list (or an expression giving one): one instance per item, with item and index in scope."),
			"continue_on_error": map[string]any{"type": "boolean", "default": false,
				"description": "A failure of this task does not skip its dependents or fail the run."},
			"description": map[string]any{"type": "string"},
		},
		"allOf": cases,
	}
	s := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  ID,
		"title":                "runner recipe",
		"description":          "A runner recipe: vars and a graph of tasks. See `runner tasks` for the task types.",
		"type":                 "object",
		"required":             []string{"version", "tasks"},
		"additionalProperties": false,
		"properties": map[string]any{
			"version":     map[string]any{"const": 1, "description": "The recipe format version: 1."},
			"name":        map[string]any{"type": "string", "description": "The recipe's name; the file name when omitted."},
			"description": map[string]any{"type": "string"},
			"timezone": map[string]any{"type": "string", "examples": []string{"Asia/Seoul", "UTC"},
				"description": "The IANA time zone of now(), strftime and dated names; the machine's zone when omitted."},
			"vars": map[string]any{"type": "object", "propertyNames": map[string]any{"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
				"description": "Var defaults; --vars FILE and --set name=value override them."},
			"secrets": withDesc(stringList, "Names of vars whose values are masked as *** everywhere."),
			"env": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"},
				"description": "Environment variables exported to every task's processes."},
			"include": withDesc(stringList, "Other recipe files whose tasks and vars are merged in."),
			"tasks": map[string]any{
				"type":                 "object",
				"minProperties":        1,
				"propertyNames":        map[string]any{"pattern": "^[A-Za-z_][A-Za-z0-9_-]*$"},
				"additionalProperties": map[string]any{"$ref": "#/$defs/task"},
				"description":          "The tasks, by id. Their order is the tie-break order of the graph.",
			},
		},
		"$defs": defs,
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	return buf.Bytes(), nil
}

func withDesc(s map[string]any, desc string) map[string]any {
	out := make(map[string]any, len(s)+1)
	for k, v := range s {
		out[k] = v
	}
	out["description"] = desc
	return out
}
