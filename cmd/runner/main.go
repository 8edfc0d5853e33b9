// Command runner runs declarative YAML recipes: a validated graph of tasks
// with conditions, retries, dry runs and resumable state. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	_ "github.com/novelfactory/runner/tasks" // registers the built-in task types
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, a second one stops runner at once.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}
