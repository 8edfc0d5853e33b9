// Package scheduler executes a validated recipe: it starts every task whose
// needs are done, up to a number of parallel jobs, in file order among
// equals; evaluates `if`, `for_each` and `with`; retries with backoff;
// enforces timeouts; skips what depends on a failure; reuses the outputs of
// succeeded tasks when resuming; and reports every change as an Event. It
// also computes dry-run plans, which run nothing.
//
// It knows tasks only through tasktype.Type and never interprets params.
package scheduler
