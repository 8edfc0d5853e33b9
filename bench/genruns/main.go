// Command genruns writes a history of finished runs of a recipe into a
// state folder, for the serve benchmark: -n runs, one every -every back
// from now, each with the recipe's tasks, a status mix like a factory's
// (mostly succeeded, some failed, a few cancelled) and a short log per task.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/novelfactory/runner/engine/state"
)

func main() {
	recipe := flag.String("recipe", "", "the recipe file the runs are of")
	name := flag.String("name", "", "the recipe's name (the file name without extension when empty)")
	dir := flag.String("state", "", "the state folder (.runner beside the recipe when empty)")
	n := flag.Int("n", 10000, "how many runs")
	every := flag.Duration("every", time.Hour, "time between two runs")
	tasks := flag.Int("tasks", 5, "tasks per run")
	flag.Parse()
	if *recipe == "" {
		log.Fatal("genruns: -recipe is required")
	}
	abs, err := filepath.Abs(*recipe)
	if err != nil {
		log.Fatal(err)
	}
	if *name == "" {
		*name = filepath.Base(abs[:len(abs)-len(filepath.Ext(abs))])
	}
	if *dir == "" {
		*dir = filepath.Join(filepath.Dir(abs), ".runner")
	}
	store := &state.Store{Dir: *dir}
	now := time.Now().Truncate(time.Second)
	for i := 0; i < *n; i++ {
		started := now.Add(-time.Duration(*n-i) * *every)
		run := &state.Run{ID: state.NewRunID(started), Recipe: abs, Name: *name, Digest: "bench", Started: started}
		status := state.Succeeded
		switch {
		case i%50 == 7:
			status = state.Failed
		case i%200 == 13:
			status = state.Cancelled
		}
		at := started
		for t := 0; t < *tasks; t++ {
			begin, end := at, at.Add(time.Duration(1+t%3)*time.Second)
			at = end
			task := &state.Task{ID: fmt.Sprintf("step-%d", t), Status: state.Succeeded, Attempts: 1, Started: &begin, Finished: &end,
				Outputs: map[string]any{"stdout": fmt.Sprintf("step %d of run %d done", t, i), "exit_code": 0}, Log: state.LogPath(fmt.Sprintf("step-%d", t))}
			if t == *tasks-1 && status != state.Succeeded {
				task.Status, task.Error = status, "the last step did not finish"
			}
			run.Tasks = append(run.Tasks, task)
		}
		run.Status, run.Finished = status, &at
		if err := store.Create(run); err != nil {
			log.Fatal(err)
		}
		for _, t := range run.Tasks {
			line := fmt.Sprintf("%s %s: working\n%s %s: done\n", t.Started.Format(time.RFC3339), t.ID, t.Finished.Format(time.RFC3339), t.ID)
			if err := os.WriteFile(filepath.Join(store.RunDir(run.ID), t.Log), []byte(line), 0o644); err != nil {
				log.Fatal(err)
			}
		}
	}
	fmt.Printf("wrote %d runs of %s into %s\n", *n, *name, *dir)
}
