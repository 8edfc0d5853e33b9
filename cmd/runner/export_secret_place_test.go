package main

import (
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/secret"
)

// TestSecretPlaceNamesTheLineAndKeyNeverTheValue: the refusal of a
// workflow holding a secret says where it is — in any document of the
// file, a value, a key or a comment — and never what it is.
func TestSecretPlaceNamesTheLineAndKeyNeverTheValue(t *testing.T) {
	m := secret.New()
	m.Add("hunter2hunter2")
	for name, c := range map[string]struct{ data, want string }{
		"a value":                    {"a: 1\nb:\n  c: [x, xhunter2hunter2x]\n", "line 3 (b.c[1])"},
		"a key":                      {"jobs:\n  hunter2hunter2:\n    x: 1\n", "line 2 (jobs.<a key>)"},
		"the second document":        {"a: 1\n---\nspec:\n  args:\n    - --set\n    - v=hunter2hunter2\n", "line 6 (spec.args[1])"},
		"a comment":                  {"# from hunter2hunter2\na: 1\n", "line 1 (a comment)"},
		"a block scalar, at its key": {"run: |\n  echo\n  hunter2hunter2\n", "line 1 (run)"},
	} {
		got := secretPlace([]byte(c.data), m)
		if got != c.want || strings.Contains(got, "hunter2") {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}
