package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestVersionPrintsWhatTheLinkerStamped: `runner version` of a build with
// the release's -ldflags prints the stamped version, commit and date.
func TestVersionPrintsWhatTheLinkerStamped(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "runner")
	build := exec.Command("go", "build", "-trimpath", "-o", bin, "-ldflags",
		"-X main.version=1.2.3-rc.1 -X main.commit=0123456789abcdef0123456789abcdef01234567 -X main.date=2026-12-03T10:00:00Z", ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	want := "runner 1.2.3-rc.1 (commit 0123456789ab, built 2026-12-03T10:00:00Z, " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if string(out) != want {
		t.Errorf("runner version printed\n%q\nwant\n%q", out, want)
	}
}
