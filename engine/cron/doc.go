// Package cron reads five-field cron expressions (minute hour day-of-month
// month day-of-week, as Vixie cron, plus @hourly, @daily, @weekly,
// @monthly and @yearly) and computes when they fire in a time zone,
// daylight-saving changes included. It also says an expression in words.
//
// It keeps no clock and starts nothing: deciding what is due is package
// schedule's job, running it the server's.
//
// Written here rather than taken from robfig/cron: a recipe's errors point
// at the column of the bad field inside the string, and the DST rules below
// are ours (robfig/cron's differ and cannot be changed from outside).
//
// Daylight-saving time: wall-clock times are matched in the expression's
// zone. A time that does not exist (the hour skipped when clocks spring
// forward) fires once, at the first instant after the gap (02:30 fires at
// 03:00 on the day New York springs forward). A time that occurs twice
// (the hour repeated when clocks fall back) fires once, at its first
// occurrence, unless the hour field starts with `*` (`*/15 * * * *`,
// `30 * * * *`): such an expression follows elapsed time and fires in both
// occurrences of the repeated hour, as Vixie cron runs its wildcard jobs,
// and reads a skipped time with the offset from before the jump (so
// `5 * * * *` fires at 01:05 and 03:05, with no extra run at 03:00).
package cron
