// Package shell is the built-in task type `shell`: run a command line with sh or bash.
// Registered with the others in package tasks.
package shell

//go:generate go run ../internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sort"
	"strings"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/proc"
)

// Params are the params of the shell task.
type Params struct {
	// The command line, run as `SHELL -c RUN`.
	Run string `yaml:"run" json:"run" required:"true"`
	// The shell that runs the command line.
	Shell string `yaml:"shell" json:"shell" default:"sh" enum:"sh,bash"`
	// Working directory, relative to the recipe's directory; the recipe's directory when empty.
	Dir string `yaml:"dir" json:"dir"`
	// Extra environment variables for the command, over the recipe's env.
	Env map[string]string `yaml:"env" json:"env"`
}

// maxStdout bounds the stdout kept as the task's output; the log gets it all.
const maxStdout = 1 << 20

// stderrLines is how many of the last stderr lines a failure quotes.
const stderrLines = 20

// Register adds the shell task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "shell",
		Summary:   "Run a command line with sh or bash.",
		Doc: "Runs `SHELL -c RUN` in the recipe's directory (or `dir`), with the process environment, the recipe's `env` " +
			"and the task's `env`. Both output streams go to the task log as they come; stdout is also kept as the " +
			"`stdout` output (trimmed, up to 1 MiB). A non-zero exit fails the task, quoting the last lines of stderr. " +
			"On timeout or interrupt the command's whole process group gets SIGTERM, then SIGKILL after 5s; processes the " +
			"command leaves running in the background are stopped the same way when it ends (as GitHub Actions does — " +
			"a daemon must detach with setsid), and the command is killed with runner if runner itself is killed.",
		Outputs: []tasktype.Output{
			{Name: "stdout", Type: "string", Doc: "What the command printed on stdout, trimmed."},
			{Name: "exit_code", Type: "integer", Doc: "The command's exit code (0 when the task succeeds)."},
		},
		Examples: []tasktype.Example{
			{Title: "Stop a container if it is running (builtins such as [ run without a fork)", YAML: `stop-graph:
  uses: shell
  with:
    run: '[ -z "$(docker ps -q -f name=neo4j)" ] || docker stop neo4j'
`},
			{Title: "A bash script with its own environment and folder", YAML: `count-words:
  uses: shell
  with:
    shell: bash
    dir: projects/Pilot
    env: {LC_ALL: C.UTF-8}
    run: |
      set -euo pipefail
      cat episodes/*.md | wc -w
`},
		},
		Check: func(p *Params) error {
			if strings.TrimSpace(p.Run) == "" {
				return errors.New("run: the command line is empty")
			}
			return nil
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			if env.Secrets != nil {
				env.Secrets.AddEnviron(taskEnviron(p)) // the plan prints the params
			}
			return tasktype.Plan{Summary: fmt.Sprintf("would run %s -c %s in %s", p.Shell, quote(p.Run), dirOf(env, p.Dir))}, nil
		},
		Run: runShell,
	})
}

func dirOf(env *tasktype.Env, dir string) string {
	if dir == "" {
		return env.Dir
	}
	return env.Path(dir)
}

func runShell(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	cmd := exec.CommandContext(ctx, p.Shell, "-c", p.Run)
	proc.Configure(cmd)
	cmd.Dir = dirOf(env, p.Dir)
	cmd.Env = append([]string{}, env.Environ...)
	own := taskEnviron(p)
	cmd.Env = append(cmd.Env, own...)
	// The task's own env is environment too: secret-named values in it are
	// masked like the process environment's.
	if env.Secrets != nil {
		env.Secrets.AddEnviron(own)
	}
	stdout := proc.NewCapture(maxStdout)
	stderr := proc.NewTail(stderrLines)
	cmd.Stdout = io.MultiWriter(env.Log, stdout)
	cmd.Stderr = io.MultiWriter(env.Log, stderr)
	err := proc.Run(ctx, cmd, env.Processes)
	code := 0
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	text := stdout.String()
	if stdout.Truncated && env.Secrets != nil {
		text = env.Secrets.Edges(text, false, true) // the cut may leave a piece of a secret
	}
	out := tasktype.Outputs{"stdout": strings.TrimSpace(text), "exit_code": code}
	if err == nil {
		return out, nil
	}
	// A command that exited on its own failed by its exit status, even if
	// the task's time ran out while runner read what it left behind.
	exited := cmd.ProcessState != nil && cmd.ProcessState.Exited()
	if ctx.Err() != nil && !exited {
		return out, fmt.Errorf("%s: %w", p.Shell, ctx.Err())
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		msg := fmt.Sprintf("command exited with status %d", code)
		if code < 0 {
			msg = "command was killed: " + exitErr.Error()
		}
		if tail := stderr.String(); tail != "" {
			msg += "; last lines of stderr:\n" + tail
		}
		return out, &tasktype.ClassifiedError{Class: tasktype.ClassExit, Err: errors.New(msg)}
	}
	return out, fmt.Errorf("start %s: %w", p.Shell, err)
}

// taskEnviron is the task's own env as KEY=VALUE, sorted.
func taskEnviron(p *Params) []string {
	keys := make([]string, 0, len(p.Env))
	for k := range p.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k + "=" + p.Env[k]
	}
	return out
}

// quote renders a command line for a plan the way a shell would read it.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
