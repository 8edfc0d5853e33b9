// Package proc runs child processes the way every task type should: in
// their own process group, so that cancelling a task (timeout, Ctrl-C)
// stops the command and everything it started, first politely, then not;
// killed with runner (Pdeathsig); recorded while they run, so that a
// killed runner's leftovers are found on the next start; and with nothing
// left running once the task ends.
package proc
