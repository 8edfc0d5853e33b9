package tasks_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/testtools"
	_ "github.com/novelfactory/runner/tasks"
)

// runTask decodes with for the named type and runs it in dir.
func runTask(ctx context.Context, t *testing.T, name, dir string, with map[string]any) (tasktype.Outputs, string, error) {
	t.Helper()
	return runTaskEnv(ctx, t, name, dir, append(os.Environ(), "RECIPE_LEVEL=recipe"), with)
}

// runTaskEnv runs a task with the given environment for its processes.
func runTaskEnv(ctx context.Context, t *testing.T, name, dir string, environ []string, with map[string]any) (tasktype.Outputs, string, error) {
	t.Helper()
	typ, ok := tasktype.Builtin().Lookup(name)
	if !ok {
		t.Fatalf("no task type %s", name)
	}
	p, err := typ.Decode(with, dir)
	if err != nil {
		return nil, "", err
	}
	log := &testtools.SyncBuffer{}
	env := &tasktype.Env{RunID: "test-run", Recipe: "test", TaskID: "t", Dir: dir, Environ: environ, Log: log, Secrets: secret.New(), Progress: nopProgress{}}
	out, err := typ.Run(ctx, env, p)
	if err == nil {
		checkOutputs(t, typ, out)
	}
	return out, log.String(), err
}

// planTask returns what a task's Plan says.
func planTask(t *testing.T, name, dir string, with map[string]any) string {
	t.Helper()
	typ, _ := tasktype.Builtin().Lookup(name)
	p, err := typ.Decode(with, dir)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := typ.Plan(context.Background(), &tasktype.Env{Dir: dir, Secrets: secret.New(), Progress: nopProgress{}}, p)
	if err != nil {
		t.Fatal(err)
	}
	return plan.Summary
}

// shells are the two that run a POSIX script: the built-in one (the
// default) and the system's /bin/sh. Every behaviour tested for one holds
// for the other.
var shells = []string{"builtin", "sh"}

// withShell adds `shell: name` to with.
func withShell(name string, with map[string]any) map[string]any {
	with["shell"] = name
	return with
}

func TestShellCapturesStdoutAndStreamsBothToTheLog(t *testing.T) {
	for _, shell := range shells {
		t.Run(shell, func(t *testing.T) {
			dir := t.TempDir()
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			out, log, err := runTask(context.Background(), t, "shell", dir, withShell(shell, map[string]any{
				"run": `echo "  $RECIPE_LEVEL $TASK_LEVEL $(basename "$PWD")  "; echo warn >&2`,
				"dir": "sub", "env": map[string]any{"TASK_LEVEL": "task"},
			}))
			if err != nil {
				t.Fatal(err)
			}
			if out["stdout"] != "recipe task sub" || out["exit_code"] != 0 {
				t.Fatalf("outputs %v", out)
			}
			if !strings.Contains(log, "recipe task sub") || !strings.Contains(log, "warn") {
				t.Fatalf("log %q", log)
			}
		})
	}
}

func TestShellBashIsBash(t *testing.T) {
	out, _, err := runTask(context.Background(), t, "shell", t.TempDir(), map[string]any{"run": `[[ -n "$BASH_VERSION" ]] && echo bash`, "shell": "bash"})
	if err != nil || out["stdout"] != "bash" {
		t.Fatalf("%v %v", out, err)
	}
}

func TestShellFailureQuotesTheLastLinesOfStderr(t *testing.T) {
	for _, shell := range shells {
		t.Run(shell, func(t *testing.T) {
			out, _, err := runTask(context.Background(), t, "shell", t.TempDir(), withShell(shell, map[string]any{
				"run": `for i in $(seq 1 30); do echo "line $i" >&2; done; exit 7`,
			}))
			if err == nil || out["exit_code"] != 7 {
				t.Fatalf("want exit 7, got %v %v", out, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "command exited with status 7; last lines of stderr:\nline 11\n") || !strings.HasSuffix(msg, "line 30") {
				t.Errorf("error %q", msg)
			}
			if tasktype.Classify(err) != tasktype.ClassExit {
				t.Errorf("class %s, want exit", tasktype.Classify(err))
			}
		})
	}
}

func TestShellCancellationKillsTheWholeProcessGroup(t *testing.T) {
	for _, shell := range shells {
		t.Run(shell, func(t *testing.T) {
			dir := t.TempDir()
			fifo := filepath.Join(dir, "pid")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() {
				// sh -c starts a process group of its own in both shells.
				_, _, err := runTask(ctx, t, "shell", dir, withShell(shell, map[string]any{"run": `sh -c 'sleep 300 & echo $! > pid; wait'`}))
				done <- err
			}()
			data, err := os.ReadFile(fifo) // blocks until the grandchild exists
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			pidfd, err := unix.PidfdOpen(pid, 0)
			if err != nil {
				t.Fatalf("pidfd_open %d: %v", pid, err)
			}
			defer unix.Close(pidfd)
			cancel()
			if err := <-done; !errors.Is(err, context.Canceled) {
				t.Fatalf("err %v, want context.Canceled", err)
			}
			// The background sleep is not the shell's direct command, but it is in
			// the task's process group: it must have been signalled too. A pidfd
			// becomes readable when its process exits.
			fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
			for {
				n, err := unix.Poll(fds, -1)
				if err == unix.EINTR {
					continue
				}
				if err != nil || n != 1 {
					t.Fatalf("poll: %d %v", n, err)
				}
				break
			}
		})
	}
}

func TestShellPlanRunsNothing(t *testing.T) {
	for _, c := range []struct{ shell, run, want string }{
		{"", "touch marker", "would run 'touch marker' in DIR"},
		{"sh", "touch marker", "would run sh -c 'touch marker' in DIR"},
		{"", "touch marker & echo $!", "would run sh -c 'touch marker & echo $!' in DIR (it reads $!, the process id of a background job)"},
	} {
		dir := t.TempDir()
		typ, _ := tasktype.Builtin().Lookup("shell")
		with := map[string]any{"run": c.run}
		if c.shell != "" {
			with["shell"] = c.shell
		}
		p, err := typ.Decode(with, dir)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := typ.Plan(context.Background(), &tasktype.Env{Dir: dir}, p)
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ReplaceAll(c.want, "DIR", dir); plan.Summary != want {
			t.Errorf("summary %q, want %q", plan.Summary, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "marker")); err == nil {
			t.Fatal("Plan ran the command")
		}
	}
}

func TestShellKeepsAtMostOneMiBOfStdout(t *testing.T) {
	for _, shell := range shells {
		for _, run := range []string{
			"head -c 3000000 /dev/zero | tr '\\0' x",
			// builtins writing 3 MB themselves
			`x=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
			i=0; while [ $i -lt 30000 ]; do printf %s "$x"; i=$((i + 1)); done`,
		} {
			out, log, err := runTask(context.Background(), t, "shell", t.TempDir(), withShell(shell, map[string]any{"run": run}))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(out["stdout"].(string)); n != 1<<20 {
				t.Fatalf("%s: stdout output has %d bytes, want 1 MiB", shell, n)
			}
			if len(log) != 3000000 {
				t.Fatalf("%s: the log has %d bytes, want all 3000000", shell, len(log))
			}
		}
	}
}

func TestShellRejectsAnEmptyCommand(t *testing.T) {
	typ, _ := tasktype.Builtin().Lookup("shell")
	if _, err := typ.Decode(map[string]any{"run": "  "}, ""); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("got %v", err)
	}
	if _, err := typ.Decode(map[string]any{"run": "x", "shell": "zsh"}, ""); err == nil || !strings.Contains(err.Error(), "not one of builtin, sh, bash") {
		t.Fatalf("got %v", err)
	}
}

// TestShellReportsASyntaxErrorBeforeRunning: the built-in shell parses the
// script when the task is decoded (for a literal `with:`, when the recipe
// is validated), and says where the error is in the script.
func TestShellReportsASyntaxErrorBeforeRunning(t *testing.T) {
	typ, _ := tasktype.Builtin().Lookup("shell")
	_, err := typ.Decode(map[string]any{"run": "echo one\necho (two"}, "")
	if err == nil || !strings.HasPrefix(err.Error(), "with: run:2:") {
		t.Fatalf("got %v", err)
	}
	// sh parses when it runs, as before.
	if _, err := typ.Decode(map[string]any{"run": "echo (two", "shell": "sh"}, ""); err != nil {
		t.Fatal(err)
	}
}

func TestShellBuiltinsStartNoProcess(t *testing.T) {
	typ, _ := tasktype.Builtin().Lookup("shell")
	procs := &countProcesses{}
	for _, run := range []string{"true", `[ -z "$UNSET" ] || exit 1`, `test -d . && echo ok`} {
		p, err := typ.Decode(map[string]any{"run": run}, "")
		if err != nil {
			t.Fatal(err)
		}
		env := &tasktype.Env{Dir: t.TempDir(), Environ: os.Environ(), Log: &testtools.SyncBuffer{}, Secrets: secret.New(), Progress: nopProgress{}, Processes: procs}
		if _, err := typ.Run(context.Background(), env, p); err != nil {
			t.Fatal(err)
		}
	}
	if procs.n.Load() != 0 {
		t.Fatalf("%d processes started", procs.n.Load())
	}
}

// countProcesses counts the process groups a task starts.
type countProcesses struct{ n atomic.Int64 }

func (c *countProcesses) Started(int, string) func() { c.n.Add(1); return func() {} }
func (c *countProcesses) Running(int) bool           { return false }

// TestShellMasksSecretsWhateverPrintsThem: a builtin's output reaches the
// log by another way than a process's; both are masked.
func TestShellMasksSecretsWhateverPrintsThem(t *testing.T) {
	const token = "tok-8Hq2Lm77Zx41Pe"
	typ, _ := tasktype.Builtin().Lookup("shell")
	for _, shell := range shells {
		p, err := typ.Decode(map[string]any{"shell": shell, "env": map[string]any{"MY_API_TOKEN": token},
			"run": `echo "builtin $MY_API_TOKEN"; printf '%s\n' "$MY_API_TOKEN" >&2; sh -c 'echo "process $MY_API_TOKEN"'; exit 1`}, "")
		if err != nil {
			t.Fatal(err)
		}
		var buf testtools.SyncBuffer
		masker := secret.New()
		log := masker.Writer(&buf)
		env := &tasktype.Env{Dir: t.TempDir(), Environ: os.Environ(), Log: log, Secrets: masker, Progress: nopProgress{}}
		_, err = typ.Run(context.Background(), env, p)
		log.Close()
		if err == nil || strings.Contains(buf.String(), token) || strings.Count(buf.String(), "***") != 3 {
			t.Fatalf("%s: err %v, log %q", shell, err, buf.String())
		}
		if !strings.Contains(err.Error(), token) && !strings.Contains(err.Error(), "stderr") {
			t.Fatalf("%s: err %v", shell, err)
		}
	}
}

// TestShellHandsScriptsThatNeedAProcessToSh: a script that reads $! gets
// a real process id from /bin/sh, and the log says why sh ran it.
func TestShellHandsScriptsThatNeedAProcessToSh(t *testing.T) {
	typ, _ := tasktype.Builtin().Lookup("shell")
	p, err := typ.Decode(map[string]any{"run": `sleep 0 & test -d /proc/$! && echo "a real pid"`}, "")
	if err != nil {
		t.Fatal(err)
	}
	var log testtools.SyncBuffer
	env := &tasktype.Env{Dir: t.TempDir(), Environ: os.Environ(), Log: &log, Logger: slog.New(slog.NewTextHandler(&log, nil)), Secrets: secret.New(), Progress: nopProgress{}}
	out, err := typ.Run(context.Background(), env, p)
	if err != nil || out["stdout"] != "a real pid" || !strings.Contains(log.String(), "because=\"it reads $!") {
		t.Fatalf("err %v out %v log %q", err, out, log.String())
	}
}

// TestShellTimesOutInABuiltinLoop: a loop of builtins starts no process to
// kill; the interpreter stops between commands when the task's time is up.
func TestShellTimesOutInABuiltinLoop(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, _, err := runTask(ctx, t, "shell", dir, map[string]any{"run": `: > started; while :; do :; done`})
		done <- err
	}()
	for {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		runtime.Gosched()
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "shell: ") {
		t.Fatalf("err %v", err)
	}
}

// containsPiece reports whether s holds 4 or more consecutive bytes of
// secret.
func containsPiece(s, secret string) bool {
	for i := 0; i+4 <= len(secret); i++ {
		if strings.Contains(s, secret[i:i+4]) {
			return true
		}
	}
	return false
}

// TestACutNeverLeavesAPieceOfASecret: stdout is kept up to 1 MiB and a
// failure quotes the last 8 KiB of stderr; a secret that the cut split was
// not recognised and its kept part stayed in clear.
func TestACutNeverLeavesAPieceOfASecret(t *testing.T) {
	const token = "tok-Zq81Wm44Xe09Lk27"
	env := map[string]any{"API_TOKEN": token}
	// stdout: the token straddles the 1 MiB limit.
	out, _, err := runTask(context.Background(), t, "shell", t.TempDir(), map[string]any{
		"env": env,
		"run": `head -c 1048570 /dev/zero | tr '\0' x; printf '%s' "$API_TOKEN"`,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := out["stdout"].(string); containsPiece(got[len(got)-40:], token) {
		t.Fatalf("stdout output ends with a piece of the secret: …%s", got[len(got)-40:])
	}
	// stderr: the last 8 KiB start inside the token.
	_, _, err = runTask(context.Background(), t, "shell", t.TempDir(), map[string]any{
		"env": env,
		"run": `printf 'API=%s' "$API_TOKEN" >&2; head -c 8180 /dev/zero | tr '\0' y >&2; exit 1`,
	})
	if err == nil {
		t.Fatal("the command failed, the task did not")
	}
	if containsPiece(err.Error(), token) {
		t.Fatalf("the failure quotes a piece of the secret: %.200s", err)
	}
}
