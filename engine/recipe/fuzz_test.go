package recipe_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/novelfactory/runner/engine/recipe"
)

// FuzzLoad feeds arbitrary bytes to the loader and validator: whatever the
// input, Load must return a recipe or diagnostics, never panic or hang.
// Seeds: every recipe under testdata. CI runs it for a bounded time.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	reg := testRegistry()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.yaml")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		r, err := recipe.Load(path, recipe.Options{Registry: reg})
		if err == nil && r == nil {
			t.Fatal("Load returned neither a recipe nor an error")
		}
		if err == nil {
			// A valid recipe must have a well-formed graph.
			if _, oerr := r.Graph().Order(); oerr != nil {
				t.Fatalf("valid recipe with a bad graph: %v", oerr)
			}
		}
	})
}
