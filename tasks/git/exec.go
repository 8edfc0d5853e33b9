package git

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"strings"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/quote"
	"github.com/novelfactory/runner/tasks/internal/proc"
)

// maxStdout bounds what is kept of git's stdout: a status of a large tree
// is the biggest thing read.
const maxStdout = 64 << 20

// stderrLines is how many of git's last stderr lines an error quotes.
const stderrLines = 20

// gitEnviron is set over the task's environment for every git command:
// messages in English (they are quoted, and "already exists" is read),
// no prompt for a password, and no optional index refresh, so that a
// status in a dry run writes nothing.
var gitEnviron = []string{"LC_ALL=C", "GIT_TERMINAL_PROMPT=0", "GIT_OPTIONAL_LOCKS=0"}

// repo runs git in one folder for one task.
type repo struct {
	env *tasktype.Env
	dir string
}

func newRepo(env *tasktype.Env, p *Params) *repo {
	dir := string(p.Dir)
	if dir == "" {
		dir = env.Dir
	}
	return &repo{env: env, dir: dir}
}

// Error is a git command that failed: its arguments, exit code and the
// last lines of its stderr, masked.
type Error struct {
	Args   []string
	Code   int
	Stderr string
	Err    error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("git %s: %v", strings.Join(e.Args, " "), e.Err)
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// mask hides every secret the run knows of in s.
func (g *repo) mask(s string) string {
	if g.env.Secrets == nil {
		return s
	}
	return g.env.Secrets.String(s)
}

// git runs git with args in the repository, stdin as its input (may be
// nil), and returns its stdout. A failure is an *Error.
func (g *repo) git(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	proc.Configure(cmd)
	cmd.Dir = g.dir
	cmd.Env = append(append([]string{}, g.env.Environ...), gitEnviron...)
	stdout := proc.NewCapture(maxStdout)
	stderr := proc.NewTail(stderrLines)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	if g.env.Logger != nil {
		g.env.Logger.Debug("git", "args", g.mask(strings.Join(args, " ")), "dir", g.dir)
	}
	err := proc.Run(ctx, cmd, g.env.Processes)
	if err == nil {
		if stdout.Truncated {
			return "", fmt.Errorf("git %s: more than %d MiB of output", args[0], maxStdout>>20)
		}
		return stdout.String(), nil
	}
	shown := make([]string, len(args))
	for i, a := range args {
		shown[i] = g.mask(a)
	}
	e := &Error{Args: shown, Code: -1, Stderr: g.mask(stderr.String()), Err: err}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil && (cmd.ProcessState == nil || !cmd.ProcessState.Exited()):
		e.Err = ctx.Err()
		return "", e
	case errors.As(err, &exitErr):
		e.Code = exitErr.ExitCode()
		e.Err = fmt.Errorf("exit status %d", e.Code)
		return "", &tasktype.ClassifiedError{Class: tasktype.ClassExit, Err: e}
	case errors.Is(err, exec.ErrNotFound):
		return "", fmt.Errorf("git is not installed (not found in PATH): %w", err)
	}
	if dirErr := g.checkDir(); dirErr != nil {
		return "", dirErr
	}
	e.Err = fmt.Errorf("start git: %w", err)
	return "", e
}

// checkDir says when the folder to run git in is missing or a file: git
// would fail with "fork/exec /usr/bin/git: no such file or directory",
// which blames git.
func (g *repo) checkDir() error {
	info, err := os.Stat(g.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s does not exist (dir names the repository: its work tree or a folder in it)", quote.Text(g.dir))
	case err == nil && !info.IsDir():
		return fmt.Errorf("%s is not a folder (dir names the repository: its work tree or a folder in it)", quote.Text(g.dir))
	}
	return nil // another error shows when git runs
}

// line runs git and returns the first line of its stdout.
func (g *repo) line(ctx context.Context, args ...string) (string, error) {
	out, err := g.git(ctx, nil, args...)
	if err != nil {
		return "", err
	}
	first, _, _ := strings.Cut(out, "\n")
	return strings.TrimSpace(first), nil
}

// exitCode is the exit code of a git that failed, -1 for other errors.
func exitCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return -1
}

// protectRemote registers the credentials of remote (a URL, or the name of
// a remote whose URLs are read from the repository's config) with the
// run's masker, so that no log, error or output can show them.
func (g *repo) protectRemote(ctx context.Context, remote string) {
	if g.env.Secrets == nil {
		return
	}
	urls := []string{remote}
	if !strings.Contains(remote, ":") && !strings.Contains(remote, "/") {
		for _, kind := range [][]string{{"remote", "get-url", "--all"}, {"remote", "get-url", "--push", "--all"}} {
			if out, err := g.git(ctx, nil, append(kind, "--", remote)...); err == nil {
				urls = append(urls, strings.Fields(out)...)
			}
		}
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.User == nil {
			continue
		}
		if pw, ok := u.User.Password(); ok {
			g.env.Secrets.Add(pw)
		} else if name := u.User.Username(); len(name) >= 20 {
			// https://TOKEN@github.com/… : a token as the user name.
			g.env.Secrets.Add(name)
		}
	}
}

// logf writes a line to the task's log.
func (g *repo) logf(format string, args ...any) {
	if g.env.Log != nil {
		fmt.Fprintf(g.env.Log, format, args...)
	}
}
