package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/report"
	"github.com/novelfactory/runner/engine/scheduler"
	"github.com/novelfactory/runner/internal/interruptible"
	"github.com/novelfactory/runner/internal/objstore"
	"github.com/novelfactory/runner/internal/quote"
)

// execCommand is `runner exec`: one step of a run spread over machines
// (docs/cli.md). Nothing but --plan's line goes to stdout: a workflow
// engine reads it as the step's result.
func execCommand(p process) *cli.Command {
	return &cli.Command{
		Name:      "exec",
		Usage:     "run one task (or for_each instance) of a run whose state is shared in a store: a step of an exported workflow",
		ArgsUsage: "RECIPE",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "the run's `ID`, the same for every step of one run"},
			&cli.StringFlag{Name: "state", Usage: "the run store: s3://bucket/prefix or file://folder (`URL`)"},
			&cli.BoolFlag{Name: "init", Usage: "record the run in the store (its first step)"},
			&cli.StringFlag{Name: "task", Usage: "run task `ID`"},
			&cli.BoolFlag{Name: "plan", Usage: "with --task of a for_each task: decide its instances and print their indexes as a JSON array"},
			&cli.StringFlag{Name: "max-items", Usage: "with --plan: fail when the list has more than `N` items (an engine's limit: 256 for a GitHub Actions matrix)"},
			&cli.StringFlag{Name: "item", Usage: "with --task of a for_each task: run instance `N` of its plan"},
			&cli.StringSliceFlag{Name: "set", Usage: "override a var: `NAME=VALUE` (repeatable; later wins)"},
			&cli.StringSliceFlag{Name: "vars", Usage: "read var values from a YAML `FILE` (repeatable; --set wins)"},
			&cli.StringSliceFlag{Name: "include-dir", Usage: "let include: read recipes under `DIR` too (repeatable)"},
			&cli.StringFlag{Name: "workdir", Usage: "resolve relative paths against `DIR` instead of the recipe's directory"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Value: report.FormatText, Usage: "`FORMAT` of the log on stderr: text or json"},
			&cli.StringFlag{Name: "state-endpoint", Usage: "`URL` of an S3-compatible server for --state (else AWS_ENDPOINT_URL_S3)"},
			&cli.StringFlag{Name: "state-region", Usage: "AWS `REGION` of --state's bucket (else AWS_REGION)"},
			&cli.BoolFlag{Name: "state-path-style", Usage: "address --state's bucket as endpoint/bucket (most S3-compatible servers need it)"},
		},
		// A flag that does not parse is a usage error like any other: on
		// stderr (urfave/cli prints the help on stdout, which a workflow
		// engine reads as a plan's result).
		OnUsageError: func(_ *cli.Context, err error, _ bool) error { return &engine.UsageError{Err: err} },
		Action:       action(func(c *cli.Context) error { return execAction(c, p) }),
	}
}

func execAction(c *cli.Context, p process) error {
	if c.NArg() != 1 {
		return &engine.UsageError{Err: fmt.Errorf("exec takes exactly one recipe file, got %d arguments", c.NArg())}
	}
	item, maxItems := -1, 0
	if c.IsSet("item") {
		n, ok := decimal(c.String("item"))
		if !ok {
			return &engine.UsageError{Err: fmt.Errorf("--item %s: give an index that --plan printed, 0 or more, in decimal", quote.Text(c.String("item")))}
		}
		item = n
	}
	if c.IsSet("max-items") {
		n, ok := decimal(c.String("max-items"))
		if !ok || n < 1 || !c.Bool("plan") {
			return &engine.UsageError{Err: fmt.Errorf("--max-items %s: give, with --plan, the most instances the engine can run, 1 or more", quote.Text(c.String("max-items")))}
		}
		maxItems = n
	}
	output := c.String("output")
	stderr := interruptible.Writer(c.Context, p.stderr)
	var sink scheduler.Sink
	switch output {
	case report.FormatText:
		sink = report.NewPlain(stderr, p.masker)
	case report.FormatJSON:
		sink = report.NewJSON(stderr, p.masker)
	default:
		return &engine.UsageError{Err: fmt.Errorf("--output %s: use text or json", quote.Text(output))}
	}
	if !p.sig.busy.Start() {
		return &engine.InterruptedError{}
	}
	defer p.sig.busy.Stop()
	_, err := engine.Exec(c.Context, engine.ExecOptions{
		Recipe: c.Args().First(), VarFiles: c.StringSlice("vars"), Sets: c.StringSlice("set"),
		Workdir: c.String("workdir"), IncludeDirs: c.StringSlice("include-dir"),
		RunID: c.String("run"), State: c.String("state"),
		StateOptions: objstore.Options{Endpoint: c.String("state-endpoint"), Region: c.String("state-region"), PathStyle: c.Bool("state-path-style")},
		Init:         c.Bool("init"), Task: c.String("task"), Plan: c.Bool("plan"), Item: item, MaxItems: maxItems,
		Stdout: p.stdout, Sink: sink,
		Log:          func(msg string) { fmt.Fprintln(stderr, p.masker.String("runner: "+msg)) },
		GitHubOutput: lookup(p.environ, "GITHUB_OUTPUT"),
		Environ:      p.environ, Now: p.now, Masker: p.masker, Kill: p.sig.kill,
	})
	return err
}

// decimal reads a whole number of at most 9 plain decimal digits (no
// sign, no 0x, no leading zero that other tools read as octal).
func decimal(s string) (int, bool) {
	if s == "" || len(s) > 9 || len(s) > 1 && s[0] == '0' {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
