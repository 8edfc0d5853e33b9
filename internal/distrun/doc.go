// Package distrun runs an exported workflow (engine/export) the way a
// workflow engine would, on one machine and without one: every step is a
// separate `runner exec` process started in its own fresh, empty folder
// holding only a copy of the "image" (the folders a container image would
// hold: the repository's recipes and inputs), so steps share nothing but
// the state store their commands name. It walks the graph as Argo or
// GitHub Actions do — a step starts when each of its needs ended as the
// need's Accept says, else it is omitted — with a bound on the processes
// running at once, fans a for_each task out to one process per index its
// planning step printed, and can kill a chosen process mid-task and run
// it again, as an engine's retry would.
//
// It is a test and benchmark harness: it knows nothing of runner's rules
// beyond the exit codes of runner exec, and it keeps nothing but what each
// process printed and how it ended. The state itself lives in the store.
package distrun
