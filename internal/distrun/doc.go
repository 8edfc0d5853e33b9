// Package distrun runs an exported Argo workflow the way Argo would, on
// one machine and without a cluster. It reads the YAML `runner export --to
// argo` writes (ReadArgo) — the DAG, each task's depends and withParam,
// each container template's args — and starts every process as a
// separate `runner exec` in its own fresh, empty folder holding only a
// copy of the "image" (the folders a container image would hold: the
// repository's recipes and inputs), so processes share nothing but the
// state store their args name. It walks the DAG as Argo does: a task
// starts once every task its depends names has ended and the expression
// is true, else it is Omitted; a withParam task runs one process per
// element of the JSON list its planning task printed; at most Workers
// processes run at once; a chosen process can be killed mid-task and run
// again, as an engine's retry would.
//
// It is a test and benchmark harness: it knows nothing of runner's rules
// beyond the exit codes of runner exec, and keeps nothing but what each
// process printed and how it ended. The state itself lives in the store.
// What of Argo it does not do (another kind of template, when, withItems,
// failFast, a depends beyond TASK.Status terms, a variable other than
// {{workflow.name}}, {{item}} and the template's inputs) it refuses when
// reading, rather than guess.
package distrun
