package testtools_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestTheReadmesTestCommandSetsUpWhatTheTestsNeed: the README's second
// command was `go test -race ./...`, which fails on a fresh Debian machine
// until PostgreSQL, versitygw, Chromium, epubcheck, yaml-language-server and commonmark-spec
// are installed and started. It must be the command that does so, and the
// one CI runs.
func TestTheReadmesTestCommandSetsUpWhatTheTestsNeed(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile("(?s)## Quick start.*?```sh\n(.*?)```").FindSubmatch(readme)
	if block == nil {
		t.Fatal("README.md has no quick start block")
	}
	lines := strings.Split(strings.TrimSpace(string(block[1])), "\n")
	if len(lines) != 2 {
		t.Fatalf("the quick start has %d commands, want 2:\n%s", len(lines), block[1])
	}
	if cmd := strings.TrimSpace(strings.SplitN(lines[1], "#", 2)[0]); cmd != "bash .ci/run" {
		t.Fatalf("the README's test command is %q, want bash .ci/run", cmd)
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"postgres.sh", "versitygw", "chromium", "epubcheck", "yaml-language-server", "commonmark-spec", "go test -race -count=1 -timeout 20m ./..."} {
		if !strings.Contains(string(ci), part) {
			t.Errorf(".ci/run does not mention %s", part)
		}
	}
}
