package checksum_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/checksum"
)

type noProgress struct{}

func (noProgress) Progress(int64, int64) {}

func run(t *testing.T, dir string, with map[string]any) (tasktype.Outputs, error) {
	t.Helper()
	r := tasktype.NewRegistry()
	checksum.Register(r)
	typ, _ := r.Lookup("checksum")
	p, err := typ.Decode(with, dir)
	if err != nil {
		return nil, err
	}
	env := &tasktype.Env{Dir: dir, Log: io.Discard, Logger: slog.New(slog.DiscardHandler), Progress: noProgress{}}
	return typ.Run(context.Background(), env, p)
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSha256sumAcceptsTheFile(t *testing.T) {
	sha256sum, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("coreutils sha256sum is not installed")
	}
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"dist/factory-11.0.0.zip": "zip bytes", "dist/requirements.lock": "requests==2.32.3\n",
		"dist/docs/read me.txt": "a name with a space", "dist/한국어.md": "Hangul",
		"other.txt": "not listed",
	})
	out, err := run(t, dir, map[string]any{"files": []any{"dist/**", "dist/requirements.lock"}, "dest": "dist/SHA256SUMS"})
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "dist", "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	names := []string{}
	for _, l := range lines {
		names = append(names, l[66:])
		if l[64:66] != "  " {
			t.Errorf("line %q: want two spaces between hash and name", l)
		}
	}
	if want := "docs/read me.txt factory-11.0.0.zip requirements.lock 한국어.md"; strings.Join(names, " ") != want {
		t.Errorf("names %q, want sorted %q", strings.Join(names, " "), want)
	}
	sums := out["sums"].(map[string]any)
	lock := sha256.Sum256([]byte("requests==2.32.3\n"))
	if want := hex.EncodeToString(lock[:]); sums["requirements.lock"] != want || lines[2][:64] != want || len(sums) != 4 {
		t.Errorf("sums %v do not match the file", sums)
	}
	cmd := exec.Command(sha256sum, "-c", "--strict", "SHA256SUMS")
	cmd.Dir = filepath.Join(dir, "dist")
	if got, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c: %v\n%s", err, got)
	}

	// A changed file fails the check: the sums are of the content.
	write(t, dir, map[string]string{"dist/factory-11.0.0.zip": "other bytes"})
	cmd = exec.Command(sha256sum, "-c", "SHA256SUMS")
	cmd.Dir = filepath.Join(dir, "dist")
	if err := cmd.Run(); err == nil {
		t.Error("sha256sum -c accepted a changed file: the test checks nothing")
	}
}

func TestRefusesNamesSha256sumWouldEscape(t *testing.T) {
	for name, want := range map[string]string{
		"back\\slash.zip": "backslash",
		"new\nline.zip":   "newline",
	} {
		dir := t.TempDir()
		write(t, dir, map[string]string{name: "x"})
		_, err := run(t, dir, map[string]any{"files": []any{"*.zip"}})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want one naming the %s", name, err, want)
		}
		if _, err := os.Stat(filepath.Join(dir, "SHA256SUMS")); err == nil {
			t.Errorf("%q: SHA256SUMS written anyway", name)
		}
	}
}

func TestRefusesWhatCannotBeChecked(t *testing.T) {
	for _, c := range []struct {
		name string
		with map[string]any
		want string
	}{
		{"a glob that matches nothing", map[string]any{"files": []any{"dist/*.tar.gz"}}, "matches no file"},
		{"a missing file", map[string]any{"files": []any{"dist/gone.zip"}}, "no such file"},
		{"a file outside dest's folder", map[string]any{"files": []any{"top.txt"}, "dest": "dist/SHA256SUMS"}, "outside"},
		{"a folder named as a file", map[string]any{"files": []any{"dist"}}, "is a folder"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, map[string]string{"dist/a.zip": "a", "top.txt": "t"})
			_, err := run(t, dir, c.with)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestTheSumsFileIsNotListedInItself(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, map[string]string{"a.zip": "a", "SHA256SUMS": "old\n"})
	out, err := run(t, dir, map[string]any{"files": []any{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	if sums := out["sums"].(map[string]any); len(sums) != 1 || sums["a.zip"] == nil {
		t.Errorf("sums %v, want only a.zip", sums)
	}
}
