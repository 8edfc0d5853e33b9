// Command gen writes the recipe JSON Schema for the built-in task types.
// Run by go generate in package tasks, after the field docs are extracted.
package main

import (
	"flag"
	"log"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/schema"
	_ "github.com/novelfactory/runner/tasks" // registers the built-in types
)

func main() {
	out := flag.String("o", "recipe.schema.json", "file to write")
	flag.Parse()
	data, err := schema.Recipe(tasktype.Builtin())
	if err != nil {
		log.Fatal(err)
	}
	if err := atomicfile.WriteFile(*out, data, 0o644); err != nil {
		log.Fatal(err)
	}
}
