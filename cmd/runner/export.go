package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/export"
	"github.com/novelfactory/runner/engine/export/argo"
	"github.com/novelfactory/runner/engine/export/github"
	"github.com/novelfactory/runner/internal/quote"
)

// exportTarget is an engine runner export can write a workflow for.
type exportTarget struct {
	name      string
	doc       string
	needImage bool // its steps run in a container image: --image is required
	// render writes the workflow; notes say what the reader should know
	// (a task renamed to fit the engine's rules), printed on stderr.
	render func(*export.Workflow) (data []byte, notes []string, err error)
}

// exportTargets are the engines of --to, in the order help lists them.
var exportTargets = []exportTarget{
	{name: "argo", doc: "an Argo Workflows Workflow (a CronWorkflow when the recipe has a schedule)", needImage: true, render: argo.Render},
	{name: "github", doc: "a GitHub Actions workflow", render: github.Render},
}

func targetNames() string {
	names := make([]string, len(exportTargets))
	for i, t := range exportTargets {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}

func exportCommand(p process, includeDir cli.Flag) *cli.Command {
	return &cli.Command{
		Name:      "export",
		Usage:     "write a workflow for Argo Workflows or GitHub Actions that runs each task as `runner exec` on its own machine",
		ArgsUsage: "RECIPE",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "the engine: `TARGET` is one of " + targetNames()},
			&cli.StringFlag{Name: "image", Usage: "the container `IMAGE` holding runner and the recipe's files (required for argo)"},
			&cli.StringFlag{Name: "state", Usage: "the shared state store every step reads and writes: s3://bucket/prefix (`URL`)"},
			&cli.StringFlag{Name: "state-endpoint", Usage: "an S3-compatible server for the state store (`URL`)"},
			&cli.StringFlag{Name: "state-region", Usage: "the state bucket's `REGION`"},
			&cli.BoolFlag{Name: "state-path-style", Usage: "address the state bucket path-style (most S3-compatible servers)"},
			&cli.StringSliceFlag{Name: "set", Usage: "override a var in every step: `NAME=VALUE` (repeatable)"},
			&cli.StringSliceFlag{Name: "vars", Usage: "read var values from a YAML `FILE` in every step (repeatable; the path as the steps see it)"},
			&cli.StringSliceFlag{Name: "secret", Usage: "give every step the environment variable `NAME` from the engine's secrets (repeatable)"},
			&cli.StringFlag{Name: "runner-version", Value: "latest", Usage: "github without --image: the runner each job installs with go install, a tag such as v1.2.0 (`VERSION`)"},
			&cli.StringFlag{Name: "k8s-secret", Value: argo.DefaultSecret, Usage: "argo: the Kubernetes Secret `NAME` whose keys give the steps their secrets"},
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the workflow to `FILE` (atomically) instead of stdout"},
			includeDir,
		},
		Action: action(func(c *cli.Context) error {
			if c.NArg() != 1 {
				return &engine.UsageError{Err: fmt.Errorf("export takes exactly one recipe file, got %d arguments", c.NArg())}
			}
			var target *exportTarget
			for i := range exportTargets {
				if exportTargets[i].name == c.String("to") {
					target = &exportTargets[i]
				}
			}
			switch {
			case !c.IsSet("to"):
				return &engine.UsageError{Err: fmt.Errorf("export needs --to: one of %s", targetNames())}
			case target == nil:
				return &engine.UsageError{Err: fmt.Errorf("--to %s: runner exports to %s", quote.Text(c.String("to")), targetNames())}
			case target.needImage && c.String("image") == "":
				return &engine.UsageError{Err: fmt.Errorf("--to %s needs --image: the container image each step runs in, holding runner and the recipe's files (see docs/scale.md)", target.name)}
			case c.String("state") == "":
				return &engine.UsageError{Err: errors.New("export needs --state: the store every step shares, s3://bucket/prefix (see docs/scale.md)")}
			}
			for _, name := range c.StringSlice("secret") {
				if !validEnvName(name) {
					return &engine.UsageError{Err: fmt.Errorf("--secret %s: give the name of an environment variable (letters, digits and _, not starting with a digit)", quote.Text(name))}
				}
			}
			opt := engine.Options{Recipe: c.Args().First(), Sets: c.StringSlice("set"), VarFiles: c.StringSlice("vars"),
				IncludeDirs: c.StringSlice("include-dir"), Environ: p.environ, Now: p.now, Masker: p.masker}
			r, err := engine.Load(opt)
			if err != nil {
				return err
			}
			if err := noSecretSets(r.Secrets, c.StringSlice("set")); err != nil {
				return &engine.UsageError{Err: err}
			}
			w, err := export.Build(r, export.Options{
				Recipe: c.Args().First(), Image: c.String("image"), State: c.String("state"),
				StateEndpoint: c.String("state-endpoint"), StateRegion: c.String("state-region"), StatePathStyle: c.Bool("state-path-style"),
				Sets: c.StringSlice("set"), VarFiles: c.StringSlice("vars"), Secrets: c.StringSlice("secret"),
				RunnerVersion:    c.String("runner-version"),
				KubernetesSecret: c.String("k8s-secret"),
			})
			if err != nil {
				return &engine.UsageError{Err: err}
			}
			if scope, err := engine.VarScope(r, opt); err == nil {
				w.SetItems(export.CountItems(r, scope))
			}
			data, notes, err := target.render(w)
			if err != nil {
				return &engine.UsageError{Err: err}
			}
			// The workflow is stored in a repository or a cluster and shown in
			// its UI: a value the masker knows as a secret (of the
			// environment, or a URL's password) must not be in it.
			if masked := p.masker.String(string(data)); masked != string(data) {
				return &engine.UsageError{Err: errors.New("export: the workflow would hold a secret value (from --set, --vars or a var's default); give secrets to the steps through the engine's secrets instead: read them in the recipe with env_or(\"NAME\", \"\") and name them with --secret NAME")}
			}
			for _, n := range notes {
				fmt.Fprintf(p.stderr, "runner: note: %s\n", p.masker.String(n))
			}
			if out := c.String("output"); out != "" {
				if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
					return fmt.Errorf("export: write %s: %w", out, err)
				}
				return nil
			}
			_, err = p.stdout.Write(data)
			return err
		}),
	}
}

// noSecretSets refuses --set of a var the recipe lists under secrets: its
// value would be written into the workflow, in plain text.
func noSecretSets(secrets, sets []string) error {
	for _, s := range sets {
		name, _, _ := strings.Cut(s, "=")
		for _, secretVar := range secrets {
			if name == secretVar {
				return fmt.Errorf("--set %s: %s is a secret of the recipe, and export writes every --set into the workflow in plain text; read it from the environment in the recipe (%s: ${{ env_or(\"NAME\", \"\") }}) and pass it with --secret NAME", name, name, name)
			}
		}
	}
	return nil
}

// validEnvName reports whether name can name an environment variable in
// every engine: POSIX's portable names.
func validEnvName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, c := range name {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
