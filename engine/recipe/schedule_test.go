package recipe_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/diag"
	"github.com/novelfactory/runner/engine/recipe"
)

func TestTheScheduleIsLoadedWithItsZonesVarsAndPolicies(t *testing.T) {
	dir := t.TempDir()
	path := writeRecipe(t, dir, "r.yaml", `version: 1
timezone: Asia/Seoul
vars:
  project: Pilot
  n: 1
schedule:
  - "0 4 * * 0"
  - cron: 30 9 * * mon-fri
    timezone: America/New_York
    vars: {project: Other, n: 2}
catchup: all
catchup_max: 3
tasks:
  t:
    uses: echo
    with: {message: hi}
`)
	r, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Schedule
	if s == nil || len(s.Entries) != 2 {
		t.Fatalf("schedule = %+v, want two entries", s)
	}
	if s.Overlap != recipe.OverlapSkip || s.Catchup != recipe.CatchupAll || s.CatchupWindow != 720*time.Hour || s.CatchupMax != 3 {
		t.Errorf("policies = %s %s %s %d, want skip all 720h 3", s.Overlap, s.Catchup, s.CatchupWindow, s.CatchupMax)
	}
	a, b := s.Entries[0], s.Entries[1]
	if a.Location.String() != "Asia/Seoul" || a.Zone != "Asia/Seoul" || a.Expr.Describe() != "at 04:00 on Sunday" || a.Pos.Line != 7 || a.Pos.Col != 5 {
		t.Errorf("first entry = %+v: want Sunday 04:00 in the recipe's zone, at 7:5", a)
	}
	if b.Location.String() != "America/New_York" || strings.Join(b.Sets(), " ") != "n=2 project=Other" {
		t.Errorf("second entry: zone %s, sets %v", b.Location, b.Sets())
	}
	if a.Key() == b.Key() || a.Key() != "0 4 * * 0 @ Asia/Seoul" {
		t.Errorf("keys %q and %q", a.Key(), b.Key())
	}
}

func TestARecipeWithoutScheduleHasNone(t *testing.T) {
	path := writeRecipe(t, t.TempDir(), "r.yaml", "version: 1\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	r, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
	if err != nil || r.Schedule != nil {
		t.Fatalf("Load: %v, schedule %+v; want none", err, r.Schedule)
	}
}

func TestAWeeklyScheduleWithoutZoneFollowsTheServers(t *testing.T) {
	path := writeRecipe(t, t.TempDir(), "r.yaml", "version: 1\nschedule: {cron: '@weekly'}\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	r, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	if e := r.Schedule.Entries[0]; e.Location != time.Local || e.Zone != "" || e.Key() != "@weekly @ Local" {
		t.Errorf("entry zone %v %q key %q; want the server's", e.Location, e.Zone, e.Key())
	}
}

func TestScheduleKeysBelongInTheMainRecipe(t *testing.T) {
	dir := t.TempDir()
	writeRecipe(t, dir, "inc.yaml", "schedule: '@daily'\ncatchup: none\ntasks:\n  u:\n    uses: echo\n    with: {message: hi}\n")
	path := writeRecipe(t, dir, "r.yaml", "version: 1\ninclude: [inc.yaml]\ntasks:\n  t:\n    uses: echo\n    with: {message: hi}\n")
	_, err := recipe.Load(path, recipe.Options{Registry: testRegistry()})
	var list diag.List
	if !errors.As(err, &list) || len(list) != 2 {
		t.Fatalf("want two diagnostics, got %v", err)
	}
	for _, d := range list {
		if filepath.Base(d.File) != "inc.yaml" || !strings.Contains(d.Msg, "belongs in the main recipe") {
			t.Errorf("diagnostic %v", d)
		}
	}
}
