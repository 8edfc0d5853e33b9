package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/engine/schedule"
	"github.com/novelfactory/runner/engine/secret"
)

// nextCount is how many fire times runner schedule shows per entry.
const nextCount = 5

// scheduleCommand is `runner schedule RECIPE...`: each recipe's schedule
// in words, its next times in its zone and in UTC, and its policies.
func scheduleCommand(p process, includeDir cli.Flag) *cli.Command {
	return &cli.Command{
		Name:      "schedule",
		Usage:     "show when runner serve starts recipes: each schedule in words, its next 5 times, its policies",
		ArgsUsage: "RECIPE...",
		Flags:     []cli.Flag{includeDir},
		Action: action(func(c *cli.Context) error {
			if c.NArg() == 0 {
				return &engine.UsageError{Err: errors.New("schedule takes one or more recipe files")}
			}
			now := time.Now()
			if p.now != nil {
				now = p.now()
			}
			invalid := 0
			for i, path := range c.Args().Slice() {
				r, err := engine.Load(engine.Options{Recipe: path, IncludeDirs: c.StringSlice("include-dir")})
				if err != nil {
					printError(p.stderr, err, p.masker)
					invalid++
					continue
				}
				if i > 0 {
					fmt.Fprintln(p.stdout)
				}
				writeSchedule(p.stdout, path, r, now, p.masker)
			}
			if invalid > 0 {
				return &shownError{&engine.UsageError{Err: fmt.Errorf("%d of %d recipes are invalid", invalid, c.NArg())}}
			}
			return nil
		}),
	}
}

// writeSchedule prints one recipe's schedule as of now.
func writeSchedule(w io.Writer, path string, r *recipe.Recipe, now time.Time, m *secret.Masker) {
	fmt.Fprintf(w, "%s (%s)\n", r.Name, path)
	s := r.Schedule
	if s == nil {
		fmt.Fprintln(w, "  no schedule: runner serve starts it only when asked (add schedule: to start it by itself)")
		return
	}
	for _, e := range s.Entries {
		zone := e.Zone
		if zone == "" {
			zone = "the server's zone, here " + now.In(e.Location).Format("MST")
		}
		fmt.Fprintf(w, "  %s: %s, in %s\n", e.Spec, e.Expr.Describe(), zone)
		if len(e.Vars) > 0 {
			fmt.Fprintf(w, "    with vars %s\n", m.String(strings.Join(e.ShownSets(r.Secrets), " ")))
		}
		times := schedule.NextTimes(e, now, nextCount)
		if len(times) == 0 {
			fmt.Fprintln(w, "    never fires in the next nine years")
		}
		for i, t := range times {
			label := "    next"
			if i > 0 {
				label = "        "
			}
			fmt.Fprintf(w, "%s %s   %s\n", label, t.In(e.Location).Format("Mon 2006-01-02 15:04 MST"), t.UTC().Format("2006-01-02 15:04 MST"))
		}
	}
	fmt.Fprintf(w, "  overlap: %s: %s\n", s.Overlap, overlapWords[s.Overlap])
	fmt.Fprintf(w, "  catchup: %s: %s\n", s.Catchup, catchupWords(s))
}

var overlapWords = map[string]string{
	recipe.OverlapSkip:           "a time that comes while a run still runs starts nothing",
	recipe.OverlapQueue:          "a time that comes while a run still runs starts when it ends",
	recipe.OverlapCancelPrevious: "a time that comes while a run still runs cancels it (resumable), then starts",
}

func catchupWords(s *recipe.Schedule) string {
	switch s.Catchup {
	case recipe.CatchupLatest:
		return fmt.Sprintf("after downtime, the newest time missed within %s runs once", hours(s.CatchupWindow))
	case recipe.CatchupAll:
		return fmt.Sprintf("after downtime, each time missed within %s runs, oldest first, at most %d", hours(s.CatchupWindow), s.CatchupMax)
	}
	return "times missed during downtime do not run"
}

// hours writes a duration as a recipe would: 720h, 90m, 1h30m.
func hours(d time.Duration) string {
	s := d.String()
	for _, zero := range []string{"m0s", "h0m"} {
		s = strings.Replace(s, zero, zero[:1], 1)
	}
	return s
}
