// Package serve is the core of `runner serve`: it keeps a catalog of the
// recipes in the served folders (reloaded when a file changes; an invalid
// recipe is kept with its errors while the others run), fires their
// schedules on a short tick (never one long timer: a suspended machine or
// a clock step loses no run, and the last fire of each schedule entry is
// persisted so a restart neither repeats nor loses one), starts runs in
// process through engine.Apply — ordinary runs, in the same state folders
// and under the same recipe lock as `runner apply` — and keeps an index of
// every run for fast lists. It implements api.Backend for the HTTP layer
// (package web) and exposes Prometheus metrics.
//
// It draws nothing and parses no request: pages, routes, auth and the
// event stream are package web's. It does not know what a task does:
// that is the engine's and the task types'.
//
// Which files are recipes: every *.yaml and *.yml directly in a served
// folder (not below) whose top level is a mapping with a `version:` or a
// `tasks:` key. Other YAML files (a compose file, a vars file) are left
// out silently; a file that is not even valid YAML is shown as an invalid
// recipe, since it may be a recipe with a typo.
//
// Overlap policies when a schedule fires while a run of the recipe holds
// its lock: skip drops the fire (logged); queue keeps it and starts it
// when the lock is free (at most one waiting fire per entry, besides a
// catch-up's); cancel_previous cancels the server's own run and starts
// when it has stopped — a run started from a shell is not signalled (it
// is someone's terminal): the fire waits as with queue.
package serve
