// Command gendag writes the engine-overhead workload in two equivalent
// forms: a runner recipe (dag.yaml) and a go-task Taskfile (Taskfile.yml).
// width×depth tasks each run `true`; every task of a layer needs every task
// of the layer before, or, with -chains, only the task of its own chain in
// the layer before (width independent chains of depth tasks).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	dir := flag.String("dir", ".", "where to write dag.yaml and Taskfile.yml")
	width := flag.Int("width", 10, "tasks per layer")
	depth := flag.Int("depth", 100, "layers")
	chains := flag.Bool("chains", false, "independent chains: each task needs only the one before it in its chain")
	shell := flag.String("shell", "", "the recipe's `shell:` param (builtin when empty, as runner's default)")
	flag.Parse()
	var recipe, taskfile strings.Builder
	recipe.WriteString("version: 1\nname: dag\ntasks:\n")
	taskfile.WriteString("version: '3'\nrun: once\ntasks:\n")
	id := func(d, w int) string { return fmt.Sprintf("t%d_%d", d, w) }
	layer := func(d int) []string {
		ids := make([]string, *width)
		for w := range ids {
			ids[w] = id(d, w)
		}
		return ids
	}
	for d := 0; d < *depth; d++ {
		for w := 0; w < *width; w++ {
			with := `run: "true"`
			if *shell != "" {
				with += ", shell: " + *shell
			}
			fmt.Fprintf(&recipe, "  %s:\n    uses: shell\n    with: {%s}\n", id(d, w), with)
			fmt.Fprintf(&taskfile, "  %s:\n    cmds: [\"true\"]\n", id(d, w))
			if d > 0 {
				needs := strings.Join(layer(d-1), ", ")
				if *chains {
					needs = id(d-1, w)
				}
				fmt.Fprintf(&recipe, "    needs: [%s]\n", needs)
				fmt.Fprintf(&taskfile, "    deps: [%s]\n", needs)
			}
		}
	}
	fmt.Fprintf(&taskfile, "  all:\n    deps: [%s]\n", strings.Join(layer(*depth-1), ", "))
	for name, text := range map[string]string{"dag.yaml": recipe.String(), "Taskfile.yml": taskfile.String()} {
		if err := os.WriteFile(filepath.Join(*dir, name), []byte(text), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}
