package shellrun_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/novelfactory/runner/internal/testtools"
	"github.com/novelfactory/runner/tasks/internal/shellrun"
)

// procs records the sessions a script starts, as the run's lock does.
type procs struct {
	mu      sync.Mutex
	started []int
	pidfds  []int // open while the session's leader may run
	ended   int
}

func (p *procs) Started(pgid int, command string) func() {
	fd, err := unix.PidfdOpen(pgid, 0)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.started = append(p.started, pgid)
	if err == nil {
		p.pidfds = append(p.pidfds, fd)
	}
	return func() {
		p.mu.Lock()
		p.ended++
		p.mu.Unlock()
	}
}

func (p *procs) Running(int) bool { return false }

func (p *procs) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.started)
}

type result struct {
	status         int
	stdout, stderr string
	err            error
	procs          *procs
}

// run runs src in dir (a temporary folder when empty) with the test's
// environment.
func run(ctx context.Context, t *testing.T, dir, src string) result {
	t.Helper()
	script, err := shellrun.Parse(src)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	if script.System != "" {
		t.Fatalf("%q would run in /bin/sh: %s", src, script.System)
	}
	if dir == "" {
		dir = t.TempDir()
	}
	var stdout, stderr testtools.SyncBuffer
	p := &procs{}
	status, err := script.Run(ctx, shellrun.Options{Dir: dir, Environ: os.Environ(), Stdout: &stdout, Stderr: &stderr, Processes: p})
	return result{status, stdout.String(), stderr.String(), err, p}
}

func TestBuiltinsStartNoProcess(t *testing.T) {
	res := run(context.Background(), t, "", `true; :; [ -z "" ] && test 1 -lt 2; echo "one"; printf '%s\n' two
x=$((1 + 2)); case $x in 3) echo three ;; esac; cd /; pwd; read -r line || echo "no stdin"
f() { echo "in f $1"; }; f four; for i in 5 6; do echo $i; done; false || echo done`)
	want := "one\ntwo\nthree\n/\nno stdin\nin f four\n5\n6\ndone\n"
	if res.err != nil || res.status != 0 || res.stdout != want {
		t.Fatalf("status %d err %v stdout %q stderr %q", res.status, res.err, res.stdout, res.stderr)
	}
	if n := res.procs.count(); n != 0 {
		t.Fatalf("builtins started %d processes", n)
	}
	res = run(context.Background(), t, "", `ls / >/dev/null; echo a | cat`)
	if res.err != nil || res.status != 0 || res.stdout != "a\n" || res.procs.count() != 2 || res.procs.ended != 2 {
		t.Fatalf("two external commands: status %d err %v stdout %q, %d started, %d ended", res.status, res.err, res.stdout, res.procs.count(), res.procs.ended)
	}
}

func TestExitStatuses(t *testing.T) {
	for _, c := range []struct {
		run    string
		status int
	}{
		{"exit 3", 3},
		{"false", 1},
		{"exit 300", 44}, // as sh: the status is taken modulo 256
		{"sh -c 'exit 5'", 5},
		{"sh -c 'kill -9 $$'", 137},
		{"true; false; true", 0},
		{"set -e; false; echo not reached", 1},
		{"set -e; if false; then :; fi; false || true; echo $?", 0},
		{"false | true", 0},
		{"set -o pipefail; false | true", 1},
		{"! true", 1},
		{"f() { return 4; }; f", 4},
		{"(exit 6)", 6},
		{"x=$(exit 7)", 7},
		{"exec sh -c 'exit 9'; exit 1", 9},
	} {
		t.Run(c.run, func(t *testing.T) {
			res := run(context.Background(), t, "", c.run)
			if res.err != nil || res.status != c.status {
				t.Fatalf("status %d err %v, want %d; stdout %q", res.status, res.err, c.status, res.stdout)
			}
			if strings.Contains(res.stdout, "not reached") {
				t.Fatal("set -e did not stop the script")
			}
		})
	}
}

func TestPipelinesHereDocsAndExpansions(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.txt"), nil, 0o644)
	os.WriteFile(filepath.Join(dir, "a.txt"), nil, 0o644)
	res := run(context.Background(), t, dir, `X=world
printf 'b\na\nc\n' | sort | head -n 2 | tr '\n' ' '; echo
cat <<EOF
hello $X $((6 * 7))
EOF
cat <<'EOF'
literal $X
EOF
cat <<-EOF
	tabs stripped
	EOF
echo *.txt
echo "${UNSET:-default} ${X#w} $(echo nested $(echo deep))"
echo 'a\nb'`)
	want := "a b \nhello world 42\nliteral $X\ntabs stripped\na.txt b.txt\ndefault orld nested deep\na\\nb\n"
	if res.err != nil || res.status != 0 || res.stdout != want {
		t.Fatalf("status %d err %v\nstdout %q\nwant   %q\nstderr %q", res.status, res.err, res.stdout, want, res.stderr)
	}
}

func TestASyntaxErrorNamesItsLineAndColumn(t *testing.T) {
	_, err := shellrun.Parse("echo ok\nif true; then echo (; fi")
	var se *shellrun.SyntaxError
	if !errors.As(err, &se) || se.Line != 2 || !strings.HasPrefix(err.Error(), "run:2:") {
		t.Fatalf("got %v", err)
	}
	// bash's syntax is not sh's: the message says which shell reads it.
	_, err = shellrun.Parse(`[[ -n "$X" ]] && echo y; a=(1 2)`)
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "run:1:") || !strings.Contains(err.Error(), "shell: bash") {
		t.Fatalf("got %v", err)
	}
}

func TestACommandNotFoundSaysSo(t *testing.T) {
	res := run(context.Background(), t, "", "echo before\n  no-such-command-xyz arg\necho after $?")
	if res.status != 0 || res.stdout != "before\nafter 127\n" || res.stderr != "run:2:3: no-such-command-xyz: command not found\n" {
		t.Fatalf("status %d stdout %q stderr %q", res.status, res.stdout, res.stderr)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notexec"), []byte("echo hi\n"), 0o644)
	res = run(context.Background(), t, dir, "./notexec; echo $?; ./missing; echo $?")
	if res.stdout != "126\n127\n" || !strings.Contains(res.stderr, "./notexec: permission denied") {
		t.Fatalf("stdout %q stderr %q", res.stdout, res.stderr)
	}
}

func TestCommandsAreFoundInTheScriptsPath(t *testing.T) {
	bin := t.TempDir()
	os.WriteFile(filepath.Join(bin, "hello-runner"), []byte("#!/bin/sh\necho \"hello $1 from $PWD\"\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "no-shebang"), []byte("echo \"no shebang $1\"\n"), 0o755)
	dir := t.TempDir()
	script, _ := shellrun.Parse(`hello-runner you; no-shebang too; PATH=/nowhere; hello-runner 2>/dev/null || echo "gone: $?"`)
	var out testtools.SyncBuffer
	_, err := script.Run(context.Background(), shellrun.Options{Dir: dir, Environ: []string{"PATH=" + bin + ":/usr/bin:/bin"}, Stdout: &out, Stderr: &out})
	if want := "hello you from " + dir + "\nno shebang too\ngone: 127\n"; err != nil || out.String() != want {
		t.Fatalf("err %v output %q, want %q", err, out.String(), want)
	}
}

// ended reports whether the process behind pidfd has ended, now.
func ended(pidfd int) bool {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	n, _ := unix.Poll(fds, 0)
	return n == 1
}

func readPID(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path) // a FIFO: blocks until written
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestCancellationKillsTheWholeGroupOfACommand(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "pid")
	syscall.Mkfifo(fifo, 0o600)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result)
	go func() {
		done <- run(ctx, t, dir, `sh -c 'trap "" TERM; sleep 300 & echo $! > pid; wait'; echo not reached`)
	}()
	pid := readPID(t, fifo)
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)
	cancel()
	res := <-done
	if !errors.Is(res.err, context.Canceled) || strings.Contains(res.stdout, "not reached") {
		t.Fatalf("err %v stdout %q", res.err, res.stdout)
	}
	// The grandchild ignores nothing, the shell ignores SIGTERM: both go.
	if !ended(pidfd) {
		t.Fatal("the command's background child outlived the cancelled script")
	}
}

func TestWhatRunsInTheBackgroundEndsWithTheScript(t *testing.T) {
	dir := t.TempDir()
	res := run(context.Background(), t, dir, `sleep 300 &
sh -c 'sleep 301 & echo $! > left.pid'
test -d /proc/$(cat left.pid) && echo "a foreground command's leftover runs until the script ends"
while :; do :; done &
echo bye`)
	if res.err != nil || res.status != 0 || res.stdout != "a foreground command's leftover runs until the script ends\nbye\n" {
		t.Fatalf("status %d err %v stdout %q stderr %q", res.status, res.err, res.stdout, res.stderr)
	}
	if res.procs.count() != 3 || res.procs.ended != 3 { // sleep, sh, cat
		t.Fatalf("%d sessions started, %d ended: %v", res.procs.count(), res.procs.ended, res.procs.started)
	}
	for _, fd := range res.procs.pidfds {
		if !ended(fd) {
			t.Fatal("a process of the script outlived it")
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "left.pid"))
	if pid, _ := strconv.Atoi(strings.TrimSpace(string(data))); pid == 0 || syscall.Kill(pid, 0) == nil {
		t.Fatalf("the leftover %d outlived the script", pid)
	}
}

func TestAnEndlessLoopWithoutCommandsIsCancelled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan result)
	go func() { done <- run(ctx, t, dir, `: > started; while :; do :; done`) }()
	for {
		if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
			break
		}
		runtime.Gosched()
	}
	cancel()
	if res := <-done; !errors.Is(res.err, context.Canceled) {
		t.Fatalf("err %v", res.err)
	}
}

func TestANamedPipeNobodyOpensDoesNotHang(t *testing.T) {
	dir := t.TempDir()
	syscall.Mkfifo(filepath.Join(dir, "in"), 0o600)
	syscall.Mkfifo(filepath.Join(dir, "out"), 0o600)
	for _, src := range []string{`: > started; read x < in`, `: > started; echo x > out`} {
		os.Remove(filepath.Join(dir, "started"))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan result)
		go func() { done <- run(ctx, t, dir, src) }()
		for {
			if _, err := os.Stat(filepath.Join(dir, "started")); err == nil {
				break
			}
			runtime.Gosched()
		}
		cancel()
		if res := <-done; !errors.Is(res.err, context.Canceled) {
			t.Fatalf("%s: err %v", src, res.err)
		}
	}
}

func TestLimitsStopAScriptNotRunner(t *testing.T) {
	for _, c := range []struct{ name, run, want string }{
		{"a function that calls itself", `f() { f; }; f`, "functions called one another over 5,000 deep"},
		{"recursion through pipelines", `f() { echo x | f; }; f`, "deep"},
		{"a fork bomb", `f() { f | f & }; f; wait; while :; do :; done`, "background jobs and pipeline stages at once"},
		{"a command substitution of an endless command", `x=$(yes)`, "a command substitution $(…) collected over 16 MiB"},
		{"a command substitution of an endless loop", `y=0123456789; y=$y$y$y$y$y$y$y$y$y$y; y=$y$y$y$y$y$y$y$y$y$y; x=$(while :; do echo $y; done)`, "collected over 16 MiB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := run(context.Background(), t, "", c.run)
			var limit *shellrun.LimitError
			if !errors.As(res.err, &limit) || !strings.Contains(res.err.Error(), c.want) {
				t.Fatalf("err %v, want a limit: %s", res.err, c.want)
			}
		})
	}
	// What the bomb started is gone once the goroutines it left notice.
	for runtime.NumGoroutine() > 1000 {
		runtime.Gosched()
	}
}

func TestOutputIsPassedOnByteForByte(t *testing.T) {
	res := run(context.Background(), t, "", `printf '\000\001\377\n'; head -c 3 /dev/zero; i=0; while [ $i -lt 20000 ]; do echo 0123456789; i=$((i + 1)); done`)
	want := "\x00\x01\xff\n\x00\x00\x00" + strings.Repeat("0123456789\n", 20000)
	if res.err != nil || res.stdout != want {
		t.Fatalf("err %v, %d bytes, want %d; start %q", res.err, len(res.stdout), len(want), res.stdout[:min(20, len(res.stdout))])
	}
}

func TestStderrAndRedirections(t *testing.T) {
	dir := t.TempDir()
	res := run(context.Background(), t, dir, `echo out; echo err >&2; ls /no-such-dir 2>&1 | wc -l | tr -d ' '; echo to-file > f.txt; cat f.txt; exec 2>/dev/null; ls /no-such-dir; echo $?`)
	if res.stdout != "out\n1\nto-file\n2\n" || res.stderr != "err\n" {
		t.Fatalf("stdout %q stderr %q", res.stdout, res.stderr)
	}
}

func TestScriptsThatNeedAProcessGoToSh(t *testing.T) {
	for _, src := range []string{
		`sleep 1 & echo $!`, `echo $$`, `echo $PPID`, `echo $LINENO`, `kill -0 1`, `trap 'echo bye' TERM`, `trap "" INT TERM`,
		`trap -p`, `jobs`, `wait %1`, `umask 077`, `ulimit -n`, `set -m`, `set -o noclobber`, `set -C`, `exec 3>x`,
		`echo >&3`, `cat <&3`, `echo hi >| f`, `cat <> f`, `alias ll='ls -l'`, `cd -P /tmp`, `times`,
		strings.Repeat("true\n", shellrun.MaxScript/5+1),
	} {
		script, err := shellrun.Parse(src)
		if err != nil || script.System == "" {
			t.Errorf("%.40q: err %v, runs in the built-in shell", src, err)
		}
	}
	for _, src := range []string{
		`trap 'echo bye' EXIT`, `trap - EXIT`, `trap`, `set -eu`, `set -o pipefail -x`, `set -- a b`, `set +e`,
		`echo 2>&1`, `echo >&2`, `exec 2>/dev/null`, `cat <&-`, `cd -`, `wait`, `echo '$!'`,
	} {
		if script, err := shellrun.Parse(src); err != nil || script.System != "" {
			t.Errorf("%q: err %v, needs sh: %s", src, err, script.System)
		}
	}
}

func TestTrapExitRunsAtTheEnd(t *testing.T) {
	res := run(context.Background(), t, "", `trap 'echo cleanup' EXIT; echo work; exit 3`)
	if res.status != 3 || res.stdout != "work\ncleanup\n" {
		t.Fatalf("status %d stdout %q", res.status, res.stdout)
	}
}

func TestAMissingDirectoryIsAnError(t *testing.T) {
	script, _ := shellrun.Parse("true")
	_, err := script.Run(context.Background(), shellrun.Options{Dir: "/no/such/dir", Stdout: &testtools.SyncBuffer{}, Stderr: &testtools.SyncBuffer{}})
	if err == nil || !strings.Contains(err.Error(), "/no/such/dir") {
		t.Fatalf("got %v", err)
	}
}

func TestExportReadonlyAndLocal(t *testing.T) {
	res := run(context.Background(), t, "", `export A=1 B; B="two words"; C=3; export C
v="x y"; export D=$v E="$v"
sh -c 'echo "$A|$B|$C|$D|$E"'
readonly R=r; R=s 2>/dev/null; echo "$R"
f() { local L=inner; echo "$L"; }; L=outer; f; echo "$L"
set -- G=g; export "$1"; sh -c 'echo "$G"'`)
	want := "1|two words|3|x y|x y\nr\ninner\nouter\ng\n"
	if res.err != nil || res.stdout != want {
		t.Fatalf("err %v stdout %q want %q stderr %q", res.err, res.stdout, want, res.stderr)
	}
}

// TestWhatDiffersFromDash holds the built-in shell to the differences
// docs/shell.md lists, one row each.
func TestWhatDiffersFromDash(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "cdpath", "target"), 0o755)
	for _, c := range []struct{ run, stdout string }{
		{`echo 'a\nb'; echo -n x; echo -e 'y\tz'`, "a\\nb\nxy\tz\n"},
		{`echo {a,b} x{1..3}`, "a b x1 x2 x3\n"},
		{`echo $((2**3)); [ -n "$RANDOM" ] && echo random`, "8\nrandom\n"},
		{`set -e; (false; echo x) || echo y`, "y\n"},
		{`trap 'echo trap' EXIT; exec echo replaced; echo not reached`, "replaced\ntrap\n"},
		{`echo "$0"`, "sh\n"},
		{`CDPATH=` + filepath.Join(dir, "cdpath") + `; cd target 2>/dev/null || echo "no CDPATH"`, "no CDPATH\n"},
		{`export A=1; export; export -p; readonly -p; echo listed nothing`, "listed nothing\n"},
		{`readonly R=1; R=2 2>/dev/null; echo "went on $?"`, "went on 1\n"},
		{`read -r x; echo "read $?"; cat; echo "cat $?"`, "read 1\ncat 0\n"},
		{`sleep 0 & wait; echo "background job waited"`, "background job waited\n"},
		{`type true; command -v true`, "true is a shell builtin\ntrue\n"},
	} {
		res := run(context.Background(), t, dir, c.run)
		if res.stdout != c.stdout {
			t.Errorf("%s: stdout %q, want %q (stderr %q)", c.run, res.stdout, c.stdout, res.stderr)
		}
	}
}
