package recipe_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/recipe"
)

// update rewrites generated text (docs/recipes.md's reference tables)
// instead of comparing it: go test ./engine/recipe -run Reference -update.
var update = flag.Bool("update", false, "rewrite generated files instead of comparing them")

const recipesDoc = "../../docs/recipes.md"

// TestReferenceTablesOfRecipesDocAreFresh: the tables of keys in
// docs/recipes.md are the grammar's; the test fails when a key is added,
// changed or re-documented in grammar.go without regenerating them.
func TestReferenceTablesOfRecipesDocAreFresh(t *testing.T) {
	tables := []struct {
		name string
		typ  *params.Type
	}{
		{"top-level keys", recipe.Grammar()},
		{"task keys", recipe.TaskGrammar()},
		{"retry keys", recipe.RetryGrammar()},
		{"schedule keys", recipe.ScheduleGrammar()},
	}
	data, err := os.ReadFile(recipesDoc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	stale := false
	for _, tb := range tables {
		begin := "<!-- " + tb.name + ": generated from engine/recipe/grammar.go by `go test ./engine/recipe -run Reference -update` -->\n"
		end := "<!-- end of " + tb.name + " -->\n"
		start, stop := strings.Index(text, begin), strings.Index(text, end)
		if start < 0 || stop < start {
			t.Fatalf("docs/recipes.md has no generated table of %s (markers %q … %q)", tb.name, begin, end)
		}
		want := begin + tb.typ.MarkdownTable() + end
		if got := text[start : stop+len(end)]; got != want {
			if !*update {
				t.Errorf("docs/recipes.md's table of %s is stale: run go test ./engine/recipe -run Reference -update\ngot:\n%s\nwant:\n%s", tb.name, got, want)
			}
			stale = true
			text = text[:start] + want + text[stop+len(end):]
		}
	}
	if stale && *update {
		if err := os.WriteFile(recipesDoc, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
