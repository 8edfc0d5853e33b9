package recipe_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/recipe"
)

// BenchmarkLoad1000 loads and validates a 1,000-task recipe: YAML, keys,
// params, one expression per task, needs and the graph. "distinct" makes
// every expression different (no compiled program is reused); "shared"
// repeats one, as generated recipes do.
func BenchmarkLoad1000(b *testing.B) {
	for _, distinct := range []bool{true, false} {
		name := "shared"
		if distinct {
			name = "distinct"
		}
		b.Run(name, func(b *testing.B) {
			var s strings.Builder
			s.WriteString("version: 1\nvars: {project: Pilot}\ntasks:\n")
			for i := 0; i < 1000; i++ {
				expr := "vars.project"
				if distinct {
					expr = fmt.Sprintf("vars.project + \\\"-%d\\\"", i)
				}
				fmt.Fprintf(&s, "  t%d:\n    uses: echo\n    with: {message: \"${{ %s }}\"}\n", i, expr)
				if i >= 10 {
					fmt.Fprintf(&s, "    needs: [t%d]\n", i-10)
				}
			}
			path := filepath.Join(b.TempDir(), "big.yaml")
			os.WriteFile(path, []byte(s.String()), 0o644)
			reg := testRegistry()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := recipe.Load(path, recipe.Options{Registry: reg}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
