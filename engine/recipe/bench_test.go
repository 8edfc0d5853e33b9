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

// BenchmarkLoadVars loads recipes of 5,000 and 20,000 vars, each reading
// the one before: the time per var must not grow with their number (each
// reference looked the var up in a list: quadratic; hostile review of
// issue 11, finding 14).
func BenchmarkLoadVars(b *testing.B) {
	for _, n := range []int{5000, 20000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var s strings.Builder
			s.WriteString("version: 1\nvars:\n  v0: x\n")
			for i := 1; i < n; i++ {
				fmt.Fprintf(&s, "  v%d: ${{ vars.v%d }}\n", i, i-1)
			}
			s.WriteString("tasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
			path := filepath.Join(b.TempDir(), "vars.yaml")
			os.WriteFile(path, []byte(s.String()), 0o644)
			reg := testRegistry()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := recipe.Load(path, recipe.Options{Registry: reg}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/var")
		})
	}
}
