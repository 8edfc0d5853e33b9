// Package shellrun runs the shell task's scripts in runner's own POSIX
// shell interpreter (mvdan.cc/sh), so that builtins such as `true`, `[`,
// `test` and `echo` start no process. Every other command is started the
// way tasks/internal/proc starts one: in a session of its own, recorded
// with the task's tasktype.Processes, SIGTERM then SIGKILL on cancellation,
// killed with runner; what a command leaves running in the background is
// stopped when the script ends.
//
// It also says which scripts the interpreter cannot run as /bin/sh would
// (Script.System): those that use process ids, job control, signal traps,
// file descriptors above 2 and the like run in /bin/sh instead. It bounds
// what a script can take from runner itself: function nesting, goroutines
// (background jobs and pipelines), command substitution output.
//
// It must not know about recipes, state or scheduling: it gets a script,
// a directory, an environment and writers.
package shellrun
