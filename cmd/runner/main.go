// Command runner runs declarative YAML recipes: a validated graph of tasks
// with conditions, retries, dry runs and resumable state. See README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // timezone: works on machines without a zone database (slim CI images)

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/internal/quote"
	_ "github.com/novelfactory/runner/tasks" // registers the built-in task types
)

func main() {
	checkTZ(os.Stderr)
	ctx, cancel := context.WithCancel(context.Background())
	sig := signals{kill: make(chan struct{}), busy: &engine.Busy{}}
	sigs := make(chan os.Signal, 3)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	// A write to a closed pipe (runner apply … | head) fails, instead of
	// killing runner in the middle of a run: the run goes on, unseen.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	go interrupts(sigs, cancel, sig)
	code := run(ctx, process{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, environ: os.Environ(), sig: sig}, os.Args)
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

// zoneDirs are where Go looks up a relative TZ name on Linux.
var zoneDirs = []string{"/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/", "/etc/zoneinfo/"}

// checkTZ keeps the TZ variable from hanging runner: Go reads the file it
// names the first time a time is shown in local time, and a named pipe (or
// a device) there blocks that read for ever. A TZ naming anything but a
// regular file is dropped with a warning, and local time is UTC, as Go
// makes it for a TZ naming no file at all.
func checkTZ(stderr io.Writer) {
	tz, ok := os.LookupEnv("TZ")
	if !ok || tz == "" {
		return
	}
	name := strings.TrimPrefix(tz, ":")
	paths := []string{name}
	if !filepath.IsAbs(name) {
		paths = paths[:0]
		for _, dir := range zoneDirs {
			paths = append(paths, dir+name)
		}
	}
	for _, p := range paths {
		if fi, err := os.Stat(p); err == nil && !fi.Mode().IsRegular() {
			fmt.Fprintf(stderr, "warning: TZ=%s names %s, which is not a regular file: local time is UTC\n", quote.Cut(tz), p)
			os.Setenv("TZ", "UTC")
			return
		}
	}
	// Go falls back to UTC without a word for a TZ naming no zone
	// (TZ=Asia/Seol): say so, since now() and dated names follow it.
	if !filepath.IsAbs(name) {
		if _, err := time.LoadLocation(name); err != nil {
			fmt.Fprintf(stderr, "warning: TZ=%s names no time zone: local time is UTC\n", quote.Cut(tz))
		}
	}
}
