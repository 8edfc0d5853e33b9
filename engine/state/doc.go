// Package state keeps runs on disk: one folder per run under the state dir
// (default .runner/ beside the recipe) with state.json — rewritten
// atomically after every change — and one log file per task; plus a lock per
// recipe so that two runs of it never overlap. It knows nothing about how
// tasks are scheduled.
package state
