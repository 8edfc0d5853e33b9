package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/report"
	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/interruptible"
	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/schema"
)

// version, commit and date are stamped in by a release build:
//
//	-ldflags "-X main.version=1.0.0 -X main.commit=SHA -X main.date=2026-12-03T10:00:00Z"
//
// date is the commit's date, never the build's, so that two builds of one
// commit are the same bytes. A build without them (go build, go run) reads
// what the go command recorded: the module version, vcs.revision, vcs.time
// and vcs.modified.
var version, commit, date = "", "", ""

// The reporter of runner's output is the engine's Reporter.
var _ engine.Reporter = (*report.Reporter)(nil)

// process is what runner takes from the process it runs in: its streams,
// environment, signals and clock. Tests make their own, to run runner
// in-process with a fixed clock.
type process struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	environ        []string
	sig            signals
	now            func() time.Time // time.Now when nil
	// masker masks the secrets of the environment and, once a recipe is
	// loaded, the recipe's, in everything printed. run sets it.
	masker *secret.Masker
}

// run is main without the process: testable in-process.
func run(ctx context.Context, p process, args []string) int {
	p.masker = secret.New()
	p.masker.AddEnviron(p.environ)
	err := newApp(p).RunContext(ctx, normalizeArgs(args))
	if err != nil && !shown(err) {
		printError(p.stderr, err, p.masker)
	}
	return exitCode(err)
}

// exitCode is runner's exit code for what a command returned, decided
// here and nowhere else: 0 for nil; the code an error of runner's carries
// (engine.ExitCoder), or ExitFailed when it carries none; and ExitUsage
// for urfave/cli's own errors (a flag or a command it does not know).
func exitCode(err error) int {
	if err == nil {
		return engine.ExitOK
	}
	var ce *commandError
	if !errors.As(err, &ce) {
		return engine.ExitUsage
	}
	return codeOf(err)
}

// codeOf is the exit code of an error of runner's.
func codeOf(err error) int {
	var ec engine.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return engine.ExitFailed
}

// commandError is an error returned by one of runner's commands, as
// opposed to one of urfave/cli's (whose exit codes are not runner's).
type commandError struct{ err error }

func (e *commandError) Error() string { return e.err.Error() }
func (e *commandError) Unwrap() error { return e.err }

// action marks the errors of a command as runner's.
func action(f cli.ActionFunc) cli.ActionFunc {
	return func(c *cli.Context) error {
		if err := f(c); err != nil {
			return &commandError{err}
		}
		return nil
	}
}

// shownError is an error the command has already shown (each invalid
// recipe of `runner validate`); it is returned for its exit code only.
type shownError struct{ err error }

func (e *shownError) Error() string { return e.err.Error() }
func (e *shownError) Unwrap() error { return e.err }

// shown reports whether the user has already seen err: a run's failure
// is in its summary, a plan's in the plan.
func shown(err error) bool {
	var se *shownError
	var re *engine.RunError
	var pe *engine.PlanError
	return errors.As(err, &se) || errors.As(err, &re) || errors.As(err, &pe)
}

// writeErrorEvent reports an error that ended apply or plan before or
// after a run (a broken recipe, the recipe's lock held by another run) as
// one JSON event, so that a program reading -o json sees it on stdout: its
// exit code, its message and, for a broken recipe, each problem's place.
func writeErrorEvent(w io.Writer, code int, err error, m *secret.Masker) {
	type problem struct {
		File    string `json:"file,omitempty"`
		Line    int    `json:"line,omitempty"`
		Col     int    `json:"col,omitempty"`
		Message string `json:"message"`
	}
	ev := struct {
		Event    string    `json:"event"`
		Code     int       `json:"exit_code"`
		Error    string    `json:"error"`
		Problems []problem `json:"problems,omitempty"`
	}{Event: "error", Code: code, Error: err.Error()}
	var list diag.List
	if errors.As(err, &list) {
		for _, d := range list {
			ev.Problems = append(ev.Problems, problem{d.File, d.Line, d.Col, d.Msg})
		}
	}
	report.NewJSON(w, m).Write(ev)
}

func printError(w io.Writer, err error, m *secret.Masker) {
	var list diag.List
	if errors.As(err, &list) {
		for _, d := range list {
			fmt.Fprintln(w, m.String(d.Error()))
		}
		noun := "problem"
		if len(list) > 1 {
			noun = "problems"
		}
		fmt.Fprintf(w, "%d %s found; nothing was run.\n", len(list), noun)
		return
	}
	fmt.Fprintln(w, m.String("runner: "+err.Error()))
}

func newApp(p process) *cli.App {
	stdin, stdout, stderr, environ, masker := p.stdin, p.stdout, p.stderr, p.environ, p.masker
	runFlags := []cli.Flag{
		&cli.StringSliceFlag{Name: "set", Usage: "override a var: `NAME=VALUE` (repeatable; later wins)"},
		&cli.StringSliceFlag{Name: "vars", Usage: "read var values from a YAML `FILE` (repeatable; --set wins)"},
		&cli.StringSliceFlag{Name: "include-dir", Usage: "let include: read recipes under `DIR` too, outside the recipe's folder (repeatable)"},
		&cli.IntFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "run at most `N` tasks at once (default: number of CPUs)"},
		&cli.StringSliceFlag{Name: "only", Usage: "run only task `ID` and what it needs (repeatable)"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: report.FormatText, Usage: "`FORMAT` of the output: text or json"},
		&cli.StringFlag{Name: "workdir", Usage: "resolve relative paths against `DIR` instead of the recipe's directory"},
		&cli.StringFlag{Name: "state-dir", Usage: "keep run state in `DIR` (default: .runner beside the recipe)"},
	}
	applyFlags := append([]cli.Flag{
		&cli.BoolFlag{Name: "dry-run", Usage: "show what would happen; change nothing"},
		&cli.StringFlag{Name: "resume", Usage: "continue an interrupted or failed run (the latest, or `RUN_ID`); succeeded tasks are not run again"},
		&cli.StringSliceFlag{Name: "rerun", Usage: "with --resume: run task `ID` again even if it succeeded (repeatable)"},
		&cli.BoolFlag{Name: "rerun-downstream", Usage: "with --rerun: run every task that needs those again too"},
	}, runFlags...)
	apply := func(dry bool) cli.ActionFunc {
		return func(c *cli.Context) error {
			if c.NArg() != 1 {
				return &engine.UsageError{Err: fmt.Errorf("%s takes exactly one recipe file, got %d arguments", c.Command.Name, c.NArg())}
			}
			if r := c.String("resume"); c.IsSet("resume") && r != "latest" && !state.IsRunID(r) {
				return &engine.UsageError{Err: fmt.Errorf("--resume %s: give a run id as `runner runs` lists it (20261125T195851Z-3fa2c1), or --resume alone for the latest unfinished run", quote.Text(r))}
			}
			if c.IsSet("jobs") && c.Int("jobs") < 1 {
				return &engine.UsageError{Err: fmt.Errorf("--jobs %d: give a number of tasks at once, 1 or more (leave --jobs out for the number of CPUs)", c.Int("jobs"))}
			}
			output := c.String("output")
			if output != report.FormatText && output != report.FormatJSON {
				return &engine.UsageError{Err: fmt.Errorf("--output %s: use text or json", quote.Text(output))}
			}
			// A pipe nobody reads must not keep an interrupted run from
			// winding down and saving its state.
			settings := report.Settings{
				Stdout: interruptible.Writer(c.Context, stdout), Stderr: interruptible.Writer(c.Context, stderr),
				Masker: masker, Format: output, StepSummary: lookup(environ, "GITHUB_STEP_SUMMARY"),
			}
			if f, ok := stdout.(*os.File); ok && term.IsTerminal(int(f.Fd())) && output == report.FormatText &&
				lookup(environ, "CI") == "" && lookup(environ, "TERM") != "dumb" {
				settings.Live = true
				settings.Width = func() int {
					w, _, err := term.GetSize(int(f.Fd()))
					if err != nil {
						return 80
					}
					return w
				}
			}
			_, err := engine.Apply(c.Context, engine.Options{
				Recipe: c.Args().First(), VarFiles: c.StringSlice("vars"), Sets: c.StringSlice("set"),
				DryRun: dry || c.Bool("dry-run"), Jobs: c.Int("jobs"), Only: c.StringSlice("only"),
				Resume: c.String("resume"), Rerun: c.StringSlice("rerun"), RerunDownstream: c.Bool("rerun-downstream"),
				Workdir: c.String("workdir"), StateDir: c.String("state-dir"),
				IncludeDirs: c.StringSlice("include-dir"),
				Environ:     environ, Kill: p.sig.kill, Busy: p.sig.busy, Now: p.now,
				Masker: masker, Reporter: report.New(settings),
			})
			if err != nil && output == report.FormatJSON && !shown(err) {
				writeErrorEvent(stdout, codeOf(err), err, masker)
			}
			return err
		}
	}
	return &cli.App{
		Name:                      "runner",
		Usage:                     "run declarative YAML recipes: a validated graph of tasks, with dry runs, retries and resume",
		Version:                   versionString(),
		Reader:                    stdin,
		Writer:                    stdout,
		ErrWriter:                 stderr,
		HideHelpCommand:           true,
		DisableSliceFlagSeparator: true,
		ExitErrHandler:            func(*cli.Context, error) {},
		Commands: []*cli.Command{
			{
				Name:      "apply",
				Usage:     "validate a recipe, then run it",
				ArgsUsage: "RECIPE",
				Flags:     applyFlags,
				Action:    action(apply(false)),
			},
			{
				Name:      "plan",
				Usage:     "show what apply would do, changing nothing (= apply --dry-run)",
				ArgsUsage: "RECIPE",
				Flags:     applyFlags,
				Action:    action(apply(true)),
			},
			{
				Name:      "validate",
				Usage:     "check recipes: YAML, keys, params, needs, cycles, expressions; run nothing",
				ArgsUsage: "RECIPE...",
				Flags:     runFlags[:3],
				Action: action(func(c *cli.Context) error {
					if c.NArg() == 0 {
						return &engine.UsageError{Err: errors.New("validate takes one or more recipe files")}
					}
					invalid := 0
					for _, path := range c.Args().Slice() {
						r, err := engine.Load(engine.Options{Recipe: path, VarFiles: c.StringSlice("vars"), Sets: c.StringSlice("set"),
							IncludeDirs: c.StringSlice("include-dir")})
						if err != nil {
							printError(stderr, err, masker)
							invalid++
							continue
						}
						fmt.Fprintf(stdout, "%s: ok (%d tasks)\n", path, len(r.Tasks))
					}
					if invalid > 0 {
						return &shownError{&engine.UsageError{Err: fmt.Errorf("%d of %d recipes are invalid", invalid, c.NArg())}}
					}
					return nil
				}),
			},
			scheduleCommand(p, runFlags[2]),
			exportCommand(p, runFlags[2]),
			{
				Name:      "graph",
				Usage:     "draw a recipe's task graph",
				ArgsUsage: "RECIPE",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "format", Aliases: []string{"f"}, Value: report.GraphMermaid, Usage: "mermaid or dot"},
					runFlags[2],
				},
				Action: action(func(c *cli.Context) error {
					if c.NArg() != 1 {
						return &engine.UsageError{Err: errors.New("graph takes exactly one recipe file")}
					}
					r, err := engine.Load(engine.Options{Recipe: c.Args().First(), IncludeDirs: c.StringSlice("include-dir")})
					if err != nil {
						return err
					}
					if err := report.WriteGraph(stdout, r, c.String("format")); err != nil {
						return &engine.UsageError{Err: err}
					}
					return nil
				}),
			},
			{
				Name:      "tasks",
				Usage:     "list the built-in task types, or document one",
				ArgsUsage: "[TYPE]",
				Action: action(func(c *cli.Context) error {
					reg := tasktype.Builtin()
					if c.NArg() == 0 {
						return reg.WriteList(stdout)
					}
					t, ok := reg.Lookup(c.Args().First())
					if !ok {
						return &engine.UsageError{Err: fmt.Errorf("unknown task type %q%s; run `runner tasks` to list them",
							c.Args().First(), diag.DidYouMean(c.Args().First(), reg.Names()))}
					}
					return t.WriteDoc(stdout)
				}),
			},
			{
				Name:  "schema",
				Usage: "print the recipe JSON Schema",
				Action: action(func(c *cli.Context) error {
					data, err := schema.Recipe(tasktype.Builtin())
					if err != nil {
						return err
					}
					_, err = stdout.Write(data)
					return err
				}),
			},
			{
				Name:      "runs",
				Usage:     "list past runs: id, recipe, start, duration, status",
				ArgsUsage: "[RECIPE]",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "state-dir", Usage: "read runs from `DIR` (default: .runner beside RECIPE, or in the current directory)"},
				},
				Action: action(func(c *cli.Context) error { return listRuns(c, stdout) }),
			},
			serveCommand(p),
			execCommand(p),
			{
				Name:  "version",
				Usage: "print runner's version",
				Action: action(func(c *cli.Context) error {
					fmt.Fprintln(stdout, "runner", versionString())
					return nil
				}),
			},
		},
	}
}

func listRuns(c *cli.Context, stdout io.Writer) error {
	dir := c.String("state-dir")
	recipe := ""
	if c.NArg() > 0 {
		recipe, _ = filepath.Abs(c.Args().First())
		dir = engine.StateDir(recipe, dir)
	} else if dir == "" {
		dir = ".runner"
	}
	runs, err := (&state.Store{Dir: dir}).List()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tRECIPE\tSTARTED\tDURATION\tSTATUS")
	n := 0
	for _, r := range runs {
		if recipe != "" && r.Recipe != recipe && !(r.Damaged != nil && r.Recipe == "") {
			continue // a run that cannot be read may be this recipe's: shown
		}
		n++
		d := "running"
		if r.Finished != nil {
			d = report.Duration(r.Finished.Sub(r.Started))
		}
		status, name := string(r.Status), r.Name
		switch {
		case errors.Is(r.Damaged, state.ErrNeverStarted):
			status, name, d = "never started (stopped while it was created)", "?", "-"
		case r.Damaged != nil && r.Recipe == "":
			status, name, d = "damaged: "+r.Damaged.Error(), "?", "?"
		case r.Damaged != nil:
			status, d = "damaged, recovered from its journal", "?"
		case r.JournalDamage != nil:
			status += " (journal damaged)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, name, r.Started.Local().Format(time.DateTime), d, status)
	}
	tw.Flush()
	if n == 0 {
		fmt.Fprintf(stdout, "no runs in %s\n", dir)
	}
	return nil
}

func lookup(environ []string, name string) string {
	for i := len(environ) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(environ[i], "="); ok && k == name {
			return v
		}
	}
	return ""
}

// versionString is what `runner version` and `runner --version` print
// after "runner ": the version, then the commit (12 hex digits, -dirty
// for a dev build of a modified tree), the commit's date and the Go
// version and platform, e.g.
//
//	1.0.0 (commit 0123456789ab, built 2026-12-03T10:00:00Z, go1.26.0 linux/amd64)
//	(devel) (commit 0123456789ab-dirty, built 2026-12-03T10:00:00Z, go1.26.0 linux/amd64)
//
// The parts a build does not know are left out.
func versionString() string {
	v, rev, when, dirty := version, commit, date, false
	if info, ok := debug.ReadBuildInfo(); ok {
		if v == "" && info.Main.Version != "" {
			v = info.Main.Version
		}
		if rev == "" {
			for _, s := range info.Settings {
				switch s.Key {
				case "vcs.revision":
					rev = s.Value
				case "vcs.time":
					when = s.Value
				case "vcs.modified":
					dirty = s.Value == "true"
				}
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	var parts []string
	if rev != "" {
		parts = append(parts, "commit "+rev)
	}
	if when != "" {
		parts = append(parts, "built "+when)
	}
	parts = append(parts, runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH)
	return v + " (" + strings.Join(parts, ", ") + ")"
}
