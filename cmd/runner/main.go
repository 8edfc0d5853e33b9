// Command runner runs declarative YAML recipes: a validated graph of tasks
// with conditions, retries, dry runs and resumable state. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // timezone: works on machines without a zone database (slim CI images)

	"github.com/novelfactory/runner/engine"
	_ "github.com/novelfactory/runner/tasks" // registers the built-in task types
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sig := signals{kill: make(chan struct{}), busy: &engine.Busy{}}
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	// A write to a closed pipe (runner apply … | head) fails, instead of
	// killing runner in the middle of a run: the run goes on, unseen.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	go interrupts(sigs, cancel, sig)
	code := run(ctx, sig, os.Args, os.Stdin, os.Stdout, os.Stderr, os.Environ())
	os.Exit(code)
}

// signals is what the signal handler shares with the commands: kill is
// closed on a second interrupt, and busy says whether a run is executing.
type signals struct {
	kill chan struct{}
	busy *engine.Busy
}

// interrupts handles SIGINT, SIGTERM, SIGHUP (a closed terminal) and
// SIGQUIT alike. With no run executing (validating, planning, printing a
// summary), the first ends runner at once. During a run, the first cancels
// it: running tasks get SIGTERM, then SIGKILL 5 s later, and state is
// saved. The second kills the tasks' processes at once; state is still
// saved. A third ends runner at once.
func interrupts(sigs <-chan os.Signal, cancel func(), sig signals) {
	<-sigs
	if !sig.busy.Interrupt() {
		os.Exit(engine.ExitInterrupted)
	}
	cancel()
	<-sigs
	close(sig.kill)
	<-sigs
	os.Exit(engine.ExitInterrupted)
}
