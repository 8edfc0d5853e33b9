// Package export turns a recipe into a graph of `runner exec` steps for an
// engine that runs jobs on many machines — Argo Workflows, GitHub Actions —
// without runner growing a distributed scheduler of its own. Each task
// becomes one step (a for_each task a planning step and a fan-out of
// instances); every step runs `runner exec`, which reads what it needs
// from the shared state store and applies runner's own rules, so a task
// behaves as under `runner apply` whichever engine starts it.
//
// Build makes the engine-neutral graph; the subpackages render it for
// each engine.
package export
