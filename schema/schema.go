package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/tasktype"
)

// ID is where the schema is published, as recipes refer to it.
const ID = "https://github.com/novelfactory/runner/schema/recipe.schema.json"

// cronPattern is the shape of a cron line: five fields or a macro. What
// each field takes is the loader's to check, with a column. White space is
// what the loader splits at (unicode.IsSpace), written out: \s is ASCII in
// Go's regexp and Unicode in an editor's, and the two must agree.
// Macros are matched in any case (@Daily), as the loader does.
var cronPattern = `^` + space + `*(@(` + anyCase("yearly|annually|monthly|weekly|daily|midnight|hourly") + `)|` +
	field + `(` + space + `+` + field + `){4})` + space + `*$`

// anyCase writes each letter of s as a class of both its cases: JSON
// Schema's regular expressions have no case-insensitive flag.
func anyCase(s string) string {
	var b strings.Builder
	for _, r := range s {
		if u := unicode.ToUpper(r); u != r {
			b.WriteString("[" + string(r) + string(u) + "]")
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

const (
	space = "[" + cronSpace + "]"
	field = "[^" + cronSpace + "]+"
)

// cronSpace is a character class body of every rune unicode.IsSpace accepts.
const cronSpace = "\\t\\n\\v\\f\\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"

// Recipe returns the recipe schema for the types in reg, as indented JSON.
// Its keys, shapes and docs are the recipe grammar's (package recipe); the
// registry adds the task types: uses names one, and with takes its params.
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
	task := recipe.TaskGrammar().JSONSchema()
	props := task["properties"].(map[string]any)
	uses := props["uses"].(map[string]any)
	delete(uses, "type")
	uses["enum"], uses["enumDescriptions"], uses["markdownEnumDescriptions"] = names, descs, descs
	retry := props["retry"].(map[string]any)
	props["retry"] = map[string]any{"$ref": "#/$defs/retry", "description": retry["description"], "markdownDescription": retry["markdownDescription"]}
	delete(retry, "description")
	delete(retry, "markdownDescription")
	defs["retry"] = retry
	task["allOf"] = cases
	defs["task"] = task

	// A schedule is a cron line, an entry, or a list of either: the
	// grammar says "string, map or list"; the schema says which map.
	cronLine := map[string]any{"type": "string", "pattern": cronPattern}
	entry := recipe.ScheduleGrammar().JSONSchema()
	entry["properties"].(map[string]any)["cron"].(map[string]any)["pattern"] = cronPattern
	entry["description"] = "One entry of a schedule: a cron line with its time zone and var values."
	defs["schedule-entry"] = entry
	one := []any{cronLine, map[string]any{"$ref": "#/$defs/schedule-entry"}}

	s := recipe.Grammar().JSONSchema()
	sched := s["properties"].(map[string]any)["schedule"].(map[string]any)
	sched["anyOf"] = append(one, map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"anyOf": one}})
	tasks := s["properties"].(map[string]any)["tasks"].(map[string]any)
	tasks["additionalProperties"] = map[string]any{"$ref": "#/$defs/task"}
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = ID
	s["title"] = "runner recipe"
	s["description"] = "A runner recipe: vars and a graph of tasks. See `runner tasks` for the task types."
	s["$defs"] = defs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode schema: %w", err)
	}
	return buf.Bytes(), nil
}
