// Package schedule decides, from a recipe's schedule and the last time
// each of its entries fired, which fire times are due now: on time,
// missed (the server was down or the machine slept) and caught up by the
// catch-up policy, or dropped. It also keeps that last time in a ledger
// file, so a restart neither repeats nor loses a run.
//
// Everything here is pure and clock-injected: the server passes now on
// every tick (every few seconds) rather than sleeping until the next fire
// time, so a suspended machine or a clock step loses nothing. It starts
// no run and knows no task: runner serve does that with what Due returns.
package schedule
