package changelog_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/changelog"
)

var factoryRequired = []any{"Features", "Breaking", "Upgrade guide"}

func newType(t *testing.T) *tasktype.Type {
	t.Helper()
	r := tasktype.NewRegistry()
	changelog.Register(r)
	typ, _ := r.Lookup("changelog")
	return typ
}

func env(dir string) *tasktype.Env {
	return &tasktype.Env{Dir: dir, Log: io.Discard, Logger: slog.New(slog.DiscardHandler),
		Started: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
}

// copyTestdata puts testdata/name into a fresh folder as CHANGELOG.md.
func copyTestdata(t *testing.T, name string) (dir string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "CHANGELOG.md"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run(t *testing.T, dir string, with map[string]any) (tasktype.Outputs, error) {
	t.Helper()
	typ := newType(t)
	p, err := typ.Decode(with, dir)
	if err != nil {
		return nil, err
	}
	return typ.Run(context.Background(), env(dir), p)
}

func TestCheckReportsEveryMistakeWithItsLine(t *testing.T) {
	dir := copyTestdata(t, "bad.md")
	_, err := run(t, dir, map[string]any{"required": factoryRequired})
	if err == nil {
		t.Fatal("a changelog full of mistakes passed the check")
	}
	msg := err.Error()
	for _, want := range []string{
		"CHANGELOG.md:3: [Unreleased] has no ### Breaking section",
		"CHANGELOG.md:5: [Unreleased] ### Features is empty",
		`CHANGELOG.md:11: [2.0.0] has a bad date "2026-02-30"`,
		"CHANGELOG.md:17: [2.1.0] is out of order",
		"CHANGELOG.md:23: [1.5.0] has no date",
		"CHANGELOG.md:29: [1.5.0] appears twice (first at line 23)",
		`CHANGELOG.md:35: "01.2.0" is not a SemVer version: major "01" has a leading zero`,
		`CHANGELOG.md:41: "1.0.0-beta..1" is not a SemVer version`,
		`CHANGELOG.md:47: [0.9.0] has a bad date "24-01-01"`,
		"CHANGELOG.md:53: [Unreleased] link compares the wrong versions: compare/v2.1.0...HEAD, want compare/v2.0.0...HEAD",
		"CHANGELOG.md:54: [2.0.0] link compares the wrong versions: compare/v1.9.0...v2.0.0, want compare/v2.1.0...v2.0.0",
		"CHANGELOG.md:55: [2.1.0] link not-a-url is not a compare link",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if !strings.Contains(msg, "CHANGELOG.md:35: [01.2.0] has no compare link") {
		t.Errorf("the report lacks the missing link of 01.2.0")
	}
	if t.Failed() {
		t.Log(msg)
	}
}

func TestCheckPassesAGoodChangelogAndGivesTheUpcomingNotes(t *testing.T) {
	dir := copyTestdata(t, "good.md")
	out, err := run(t, dir, map[string]any{"version": "11.0.0", "required": factoryRequired})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out["notes"].(string), "### Features\n\n- Episodes can be read aloud.\n") {
		t.Errorf("notes = %q, want [Unreleased]'s", out["notes"])
	}
	if got := out["versions"]; !reflect.DeepEqual(got, []string{"10.1.0", "10.0.0"}) {
		t.Errorf("versions = %v", got)
	}
	if out["latest"] != "10.1.0" {
		t.Errorf("latest = %v", out["latest"])
	}
}

const released = `# Changelog

All notable changes to this project are documented in this file.

## [Unreleased]

## [11.0.0] - 2026-05-04

### Features

- Episodes can be read aloud.

### Breaking

- The ` + "`book`" + ` task needs ` + "`lang`" + `.

### Upgrade guide

- Add ` + "`lang: ko`" + ` to every ` + "`book`" + ` task.

## [10.1.0] - 2026-03-02

### Features

- A glossary per season.

## [10.0.0] - 2026-01-15

### Added

- The factory.

[Unreleased]: https://github.com/novelfactory/factory/compare/v11.0.0...HEAD
[11.0.0]: https://github.com/novelfactory/factory/compare/v10.1.0...v11.0.0
[10.1.0]: https://github.com/novelfactory/factory/compare/v10.0.0...v10.1.0
[10.0.0]: https://github.com/novelfactory/factory/releases/tag/v10.0.0
`

func TestReleaseMovesUnreleasedAndASecondReleaseChangesNothing(t *testing.T) {
	dir := copyTestdata(t, "good.md")
	path := filepath.Join(dir, "CHANGELOG.md")
	with := map[string]any{"mode": "release", "version": "11.0.0", "required": factoryRequired}

	typ := newType(t)
	p, err := typ.Decode(with, dir)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := typ.Plan(context.Background(), env(dir), p)
	if err != nil {
		t.Fatal(err)
	}
	if want := "would release [Unreleased] as [11.0.0] - 2026-05-04"; !strings.HasPrefix(plan.Summary, want) {
		t.Errorf("plan %q, want it to start %q", plan.Summary, want)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "[11.0.0]") {
		t.Fatal("the dry run changed the file")
	}

	out, err := run(t, dir, with)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != released {
		t.Errorf("released file:\n%s\nwant:\n%s", data, released)
	}
	if out["changed"] != true || out["latest"] != "11.0.0" || !strings.HasPrefix(out["notes"].(string), "### Features") {
		t.Errorf("outputs %v", out)
	}
	if _, err := run(t, dir, map[string]any{}); err != nil {
		t.Errorf("the released file fails its check: %v", err)
	}

	again, err := run(t, dir, map[string]any{"mode": "release", "version": "11.0.0", "date": "2026-05-04"})
	if err != nil {
		t.Fatal(err)
	}
	if data2, _ := os.ReadFile(path); string(data2) != released || again["changed"] != false {
		t.Errorf("the second release changed the file (changed=%v)", again["changed"])
	}
	if again["notes"] != out["notes"] {
		t.Errorf("the second release gives other notes: %q", again["notes"])
	}
}

func TestReleaseWithoutADateOnALaterDayKeepsTheReleasedDate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "CHANGELOG.md")
	if err := os.WriteFile(path, []byte(released), 0o644); err != nil {
		t.Fatal(err)
	}
	typ := newType(t)
	p, err := typ.Decode(map[string]any{"mode": "release", "version": "11.0.0"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	later := env(dir)
	later.Started = time.Date(2026, 7, 9, 23, 0, 0, 0, time.UTC) // released on 2026-05-04
	plan, err := typ.Plan(context.Background(), later, p)
	if err != nil {
		t.Fatal(err)
	}
	if want := "already has [11.0.0] - 2026-05-04: nothing to change"; !strings.Contains(plan.Summary, want) {
		t.Errorf("plan %q, want %q", plan.Summary, want)
	}
	out, err := typ.Run(context.Background(), later, p)
	if err != nil {
		t.Fatalf("a rerun without a date on a later day: %v", err)
	}
	if data, _ := os.ReadFile(path); string(data) != released || out["changed"] != false || out["latest"] != "11.0.0" {
		t.Errorf("the rerun changed the file or says so: %v", out)
	}
}

func TestReleaseRefusesWhatWouldLoseOrRewriteHistory(t *testing.T) {
	for _, c := range []struct {
		name, text string
		with       map[string]any
		want       string
	}{
		{"a version already released on another day", released,
			map[string]any{"version": "11.0.0", "date": "2026-06-01"}, "already released, dated 2026-05-04"},
		{"a released version with new entries waiting", strings.Replace(released, "## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- Late.\n", 1),
			map[string]any{"version": "11.0.0", "date": "2026-05-04"}, "[Unreleased] (line 5) has new entries"},
		{"an older version than the latest", strings.Replace(released, "## [Unreleased]\n", "## [Unreleased]\n\n### Fixed\n\n- Late.\n", 1),
			map[string]any{"version": "10.2.0"}, "not newer than the latest release [11.0.0]"},
		{"an empty Unreleased", released, map[string]any{"version": "11.1.0"}, "is empty: nothing to release"},
		{"a file with problems", strings.Replace(released, "2026-03-02", "2026-3-2", 1), map[string]any{"version": "11.1.0"}, `CHANGELOG.md:21: [10.1.0] has a bad date "2026-3-2"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "CHANGELOG.md")
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			c.with["mode"] = "release"
			_, err := run(t, dir, c.with)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if data, _ := os.ReadFile(path); string(data) != c.text {
				t.Error("a refused release changed the file")
			}
		})
	}
}

func TestNotesReadsOneVersion(t *testing.T) {
	dir := copyTestdata(t, "good.md")
	for version, want := range map[string]string{
		"10.0.0": "### Added\n\n- The factory.\n",
		"":       "### Features\n\n- A glossary per season.\n",
	} {
		out, err := run(t, dir, map[string]any{"mode": "notes", "version": version})
		if err != nil {
			t.Fatal(err)
		}
		if out["notes"] != want {
			t.Errorf("notes of %q = %q, want %q", version, out["notes"], want)
		}
	}
	if _, err := run(t, dir, map[string]any{"mode": "notes", "version": "9.0.0"}); err == nil || !strings.Contains(err.Error(), "no [9.0.0] (versions: 10.1.0, 10.0.0)") {
		t.Errorf("notes of a missing version: %v", err)
	}
}

func TestParamsRefuseABadVersionOrDate(t *testing.T) {
	typ := newType(t)
	for _, with := range []map[string]any{
		{"version": "v1.2.3"}, {"version": "1.2"}, {"date": "2026-13-01"}, {"mode": "release"},
	} {
		if _, err := typ.Decode(with, t.TempDir()); err == nil {
			t.Errorf("%v accepted", with)
		}
	}
}

func TestTheFirstReleaseLinksItsTag(t *testing.T) {
	dir := t.TempDir()
	text := "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- All.\n\n[Unreleased]: https://github.com/o/r/commits/HEAD\n"
	if err := os.WriteFile(filepath.Join(dir, "CHANGELOG.md"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, dir, map[string]any{"mode": "release", "version": "0.1.0", "date": "2026-01-01"}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "CHANGELOG.md"))
	want := "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-01-01\n\n### Added\n\n- All.\n\n" +
		"[Unreleased]: https://github.com/o/r/compare/v0.1.0...HEAD\n[0.1.0]: https://github.com/o/r/releases/tag/v0.1.0\n"
	if string(data) != want {
		t.Errorf("got\n%s\nwant\n%s", data, want)
	}
}
