// Package scheduler walks a validated recipe: it starts every task whose
// needs are done, up to a number of parallel jobs, in file order among
// equals; evaluates `if`, `for_each` and `with`; retries with backoff;
// enforces timeouts; skips what depends on a failure; reuses the outputs of
// succeeded tasks when resuming; and reports every change as an Event.
//
// A dry run is the same walk (Options.DryRun): the same code decides the
// order, the conditions, the skips, the for_each instances and what a
// resumed run reuses; only the action at each instance differs — its
// type's Plan instead of its Run — and what is known only after running
// reads as eval.Unknown. So a plan says what apply then does.
//
// It knows tasks only through tasktype.Type and never interprets params.
package scheduler
