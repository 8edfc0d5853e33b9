// Package shell is the built-in task type `shell`: run a command line in
// runner's own POSIX shell (tasks/internal/shellrun), sh or bash.
// Registered with the others in package tasks.
package shell

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

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
	"github.com/novelfactory/runner/tasks/internal/shellrun"
)

// Params are the params of the shell task.
type Params struct {
	// The command line: a POSIX sh script, or a bash one with `shell: bash`.
	Run string `yaml:"run" json:"run" required:"true"`
	// The shell that runs the command line: `builtin`, runner's own POSIX sh, in which builtins such as `[`, `test`,
	// `echo` and `true` start no process (what differs from /bin/sh: docs/shell.md); `sh`, the system's /bin/sh
	// (`sh -c RUN`); `bash` (`bash -c RUN`).
	Shell string `yaml:"shell" json:"shell" default:"builtin" enum:"builtin,sh,bash"`
	// Working directory, relative to the recipe's directory; the recipe's directory when empty.
	Dir string `yaml:"dir" json:"dir"`
	// Extra environment variables for the command, over the recipe's env.
	Env map[string]string `yaml:"env" json:"env" keys:"^[A-Za-z_][A-Za-z0-9_.-]*$" keyname:"env" keyrule:"start with a letter or _, then use letters, digits, _, . and -"`

	script *shellrun.Script // Run parsed, for the builtin shell
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
		Summary:   "Run a command line in runner's own POSIX shell, sh or bash.",
		Doc: "Runs RUN in the recipe's directory (or `dir`), with the process environment, the recipe's `env` " +
			"and the task's `env`. Both output streams go to the task log as they come; stdout is also kept as the " +
			"`stdout` output (trimmed, up to 1 MiB). A non-zero exit fails the task, quoting the last lines of stderr. " +
			"On timeout or interrupt the command's whole process group gets SIGTERM, then SIGKILL after 5s; processes the " +
			"command leaves running in the background are stopped the same way when it ends (as GitHub Actions does — " +
			"a daemon must detach with setsid), and the command is killed with runner if runner itself is killed. " +
			"By default (`shell: builtin`) runner's own POSIX shell runs RUN: builtins (`[`, `test`, `echo`, `printf`, " +
			"`true`, `cd`, `read`, …) run inside runner without starting a process, and every other command is " +
			"started, found in the task environment's PATH, in a process group of its own as above. A script that " +
			"uses what only a real process has — `$!`, `$$`, `kill`, `trap` on a signal, job control, `umask`, " +
			"`ulimit`, file descriptors above 2 — runs in /bin/sh instead, and the log says why; a syntax error is " +
			"reported with its line and column before anything runs. `shell: sh` runs `sh -c RUN` and `shell: bash` " +
			"`bash -c RUN`. What differs from /bin/sh: docs/shell.md.",
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
			if p.Shell != "builtin" {
				return nil
			}
			script, err := shellrun.Parse(p.Run)
			p.script = script
			return err
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			if env.Secrets != nil {
				env.Secrets.AddEnviron(taskEnviron(p)) // the plan prints the params
			}
			switch {
			case p.Shell != "builtin":
				return tasktype.Plan{Summary: fmt.Sprintf("would run %s -c %s in %s", p.Shell, quote(p.Run), dirOf(env, p.Dir))}, nil
			case p.script != nil && p.script.System != "":
				return tasktype.Plan{Summary: fmt.Sprintf("would run sh -c %s in %s (%s)", quote(p.Run), dirOf(env, p.Dir), p.script.System)}, nil
			}
			return tasktype.Plan{Summary: fmt.Sprintf("would run %s in %s", quote(p.Run), dirOf(env, p.Dir))}, nil
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
	own := taskEnviron(p)
	// The task's own env is environment too: secret-named values in it are
	// masked like the process environment's.
	if env.Secrets != nil {
		env.Secrets.AddEnviron(own)
	}
	stdout := proc.NewCapture(maxStdout)
	stderr := proc.NewTail(stderrLines)
	outW, errW := io.MultiWriter(env.Log, stdout), io.MultiWriter(env.Log, stderr)
	shell := p.Shell
	if shell == "builtin" {
		if p.script == nil { // Check parses it; decoded params always pass there
			script, err := shellrun.Parse(p.Run)
			if err != nil {
				return nil, err
			}
			p.script = script
		}
		if p.script.System == "" {
			code, err := p.script.Run(ctx, shellrun.Options{
				Dir: dirOf(env, p.Dir), Environ: append(append([]string{}, env.Environ...), own...),
				Stdout: outW, Stderr: errW, Processes: env.Processes,
			})
			out := shellOutputs(env, stdout, code)
			if err != nil && ctx.Err() != nil {
				return out, fmt.Errorf("shell: %w", ctx.Err())
			}
			if err != nil {
				return out, err
			}
			return out, exitError(code, "", stderr)
		}
		if env.Logger != nil {
			env.Logger.Info("runner's shell hands the script to /bin/sh (set `shell: sh` to say so)", "because", p.script.System)
		}
		shell = "sh"
	}
	cmd := exec.CommandContext(ctx, shell, "-c", p.Run)
	proc.Configure(cmd)
	cmd.Dir = dirOf(env, p.Dir)
	cmd.Env = append(append([]string{}, env.Environ...), own...)
	cmd.Stdout, cmd.Stderr = outW, errW
	err := proc.Run(ctx, cmd, env.Processes)
	code := 0
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	out := shellOutputs(env, stdout, code)
	if err == nil {
		return out, nil
	}
	// A command that exited on its own failed by its exit status, even if
	// the task's time ran out while runner read what it left behind.
	exited := cmd.ProcessState != nil && cmd.ProcessState.Exited()
	if ctx.Err() != nil && !exited {
		return out, fmt.Errorf("%s: %w", shell, ctx.Err())
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		killed := ""
		if code < 0 {
			killed = exitErr.Error()
		}
		return out, exitError(code, killed, stderr)
	}
	return out, fmt.Errorf("start %s: %w", shell, err)
}

// shellOutputs are the task's outputs: what it printed, and its exit code.
func shellOutputs(env *tasktype.Env, stdout *proc.Capture, code int) tasktype.Outputs {
	text := stdout.String()
	if stdout.Truncated && env.Secrets != nil {
		text = env.Secrets.Edges(text, false, true) // the cut may leave a piece of a secret
	}
	return tasktype.Outputs{"stdout": strings.TrimSpace(text), "exit_code": code}
}

// exitError is the task's error for a command that exited with code (nil
// for 0) or was killed (killed says how), quoting the end of its stderr.
func exitError(code int, killed string, stderr *proc.Tail) error {
	if code == 0 && killed == "" {
		return nil
	}
	msg := fmt.Sprintf("command exited with status %d", code)
	if killed != "" {
		msg = "command was killed: " + killed
	}
	if tail := stderr.String(); tail != "" {
		msg += "; last lines of stderr:\n" + tail
	}
	return &tasktype.ClassifiedError{Class: tasktype.ClassExit, Err: errors.New(msg)}
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
