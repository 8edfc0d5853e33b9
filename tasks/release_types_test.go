package tasks_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestReleaseTypesRunThroughTheRegistry runs changelog, checksum and
// requirements once each the way the engine does (their own packages
// test the cases), so that their declared outputs are checked.
func TestReleaseTypesRunThroughTheRegistry(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("CHANGELOG.md", `# Changelog

## [Unreleased]

## [1.1.0] - 2026-11-30

### Added

- A weekly backup.

## [1.0.0] - 2026-11-01

### Added

- The first season.

[Unreleased]: https://github.com/o/r/compare/v1.1.0...HEAD
[1.1.0]: https://github.com/o/r/compare/v1.0.0...v1.1.0
[1.0.0]: https://github.com/o/r/releases/tag/v1.0.0
`)
	out, _, err := runTaskEnv(context.Background(), t, "changelog", dir, nil, map[string]any{"version": "1.1.0"})
	if err != nil || out["latest"] != "1.1.0" {
		t.Fatalf("changelog check: %v, outputs %v", err, out)
	}

	write("a.zip", "zip bytes")
	out, _, err = runTaskEnv(context.Background(), t, "checksum", dir, nil, map[string]any{"files": []any{"*.zip"}})
	if err != nil || out["files"] != 1 {
		t.Fatalf("checksum: %v, outputs %v", err, out)
	}

	write("requirements.txt", "requests>=2\nPyYAML\n")
	write("requirements.lock", "PyYAML==6.0.2\nrequests==2.32.3\n")
	out, _, err = runTaskEnv(context.Background(), t, "requirements", dir, nil, map[string]any{})
	if err != nil {
		t.Fatalf("requirements: %v, outputs %v", err, out)
	}
	if pinned, _ := out["pinned"].(map[string]any); pinned["pyyaml"] != "6.0.2" || pinned["requests"] != "2.32.3" {
		t.Fatalf("requirements: pinned %#v", out["pinned"])
	}

	write("README.md", "# r\n\nVersion: 1.0.0\n")
	out, _, err = runTaskEnv(context.Background(), t, "replace", dir, nil, map[string]any{
		"files":        []any{"README.md"},
		"replacements": []any{map[string]any{"pattern": `^Version: .*$`, "with": "Version: 1.1.0", "count": 1}},
	})
	if err != nil || out["matches"] != 1 {
		t.Fatalf("replace: %v, outputs %v", err, out)
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "README.md")); string(data) != "# r\n\nVersion: 1.1.0\n" {
		t.Fatalf("replace wrote %q", data)
	}
}
