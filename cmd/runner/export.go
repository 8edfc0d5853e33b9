package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/export"
	"github.com/novelfactory/runner/engine/export/argo"
	"github.com/novelfactory/runner/engine/export/github"
	"github.com/novelfactory/runner/engine/secret"
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
				if !export.ValidEnvName(name) {
					return &engine.UsageError{Err: fmt.Errorf("--secret %s: give the name of an environment variable (letters, digits and _, not starting with a digit)", quote.Text(name))}
				}
			}
			out := c.String("output")
			if out != "" {
				if err := checkOutput(out, c.Args().First()); err != nil {
					return &engine.UsageError{Err: err}
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
				Sets: c.StringSlice("set"), VarFiles: c.StringSlice("vars"), IncludeDirs: c.StringSlice("include-dir"),
				Secrets:          c.StringSlice("secret"),
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
				return &engine.UsageError{Err: fmt.Errorf("export: the workflow would hold a secret value at %s: a value the environment holds as a secret (or a URL's password) is in what export writes — a --set, a --vars file, a var's default, a flag, the recipe's name or a task id; give secrets to the steps through the engine's secrets instead: read them in the recipe with env_or(\"NAME\", \"\") and name them with --secret NAME", secretPlace(data, p.masker))}
			}
			for _, n := range notes {
				fmt.Fprintf(p.stderr, "runner: note: %s\n", p.masker.String(n))
			}
			if out != "" {
				if err := atomicfile.WriteFile(out, data, 0o644); err != nil {
					err = fmt.Errorf("export: write %s: %w", out, err)
					if errors.Is(err, atomicfile.ErrNotRegular) {
						return &engine.UsageError{Err: err}
					}
					return err
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

// checkOutput refuses an -o that export cannot write, before anything is
// done: a folder, something that is not a regular file (a named pipe, a
// device: the atomic rename would replace it), a path under a file, or the
// recipe itself (through any link). Missing folders are fine: they are
// created (a fresh repository's .github/workflows/).
func checkOutput(out, recipePath string) error {
	fi, err := os.Stat(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		// A part of the path that is a file (-o notes.txt/x.yml).
		for dir := filepath.Dir(out); ; dir = filepath.Dir(dir) {
			if di, derr := os.Stat(dir); derr == nil && !di.IsDir() {
				return fmt.Errorf("-o %s: %s is a file, not a folder: give the path of a file in a folder", quote.Text(out), quote.Text(dir))
			}
			if dir == filepath.Dir(dir) {
				break
			}
		}
		return fmt.Errorf("-o %s: %w", quote.Text(out), err)
	case fi.IsDir():
		return fmt.Errorf("-o %s is a folder: give the workflow's file name in it, such as %s", quote.Text(out), quote.Text(filepath.Join(out, "workflow.yml")))
	}
	if err := atomicfile.CheckRegular(out); err != nil {
		return fmt.Errorf("-o: %w: export writes a new file and renames it into place, which would replace it; write to stdout instead (runner export … > FILE)", err)
	}
	if ri, err := os.Stat(recipePath); err == nil && os.SameFile(fi, ri) {
		return fmt.Errorf("-o %s is the recipe itself: the workflow would replace it; give another file", quote.Text(out))
	}
	return nil
}

// secretPlace says where in the workflow data m finds a secret — the
// line and the key holding it, or the comment — never the value.
func secretPlace(data []byte, m *secret.Masker) string {
	line := 0
	for i, l := range strings.Split(string(data), "\n") {
		if m.String(l) != l {
			line = i + 1
			break
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			break
		}
		if path, at := secretNode(&doc, "", m); at > 0 {
			return fmt.Sprintf("line %d (%s)", at, path)
		}
	}
	if line > 0 {
		return fmt.Sprintf("line %d (a comment)", line)
	}
	return "a value that spans lines"
}

// secretNode returns the path and line of the first key or value under n
// that m masks; line 0 when none.
func secretNode(n *yaml.Node, path string, m *secret.Masker) (string, int) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p, l := secretNode(c, path, m); l > 0 {
				return p, l
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			kp := strings.TrimPrefix(path+"."+k.Value, ".")
			if m.String(k.Value) != k.Value {
				return strings.TrimPrefix(path+".<a key>", "."), k.Line
			}
			if p, l := secretNode(v, kp, m); l > 0 {
				return p, l
			}
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			if p, l := secretNode(c, fmt.Sprintf("%s[%d]", path, i), m); l > 0 {
				return p, l
			}
		}
	case yaml.ScalarNode:
		if m.String(n.Value) != n.Value {
			return path, n.Line
		}
	}
	return "", 0
}
