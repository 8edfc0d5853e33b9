// Package proc runs child processes the way every task type should: in
// their own process group, so that cancelling a task (timeout, Ctrl-C)
// stops the command and everything it started, first politely, then not.
package proc
