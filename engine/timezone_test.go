package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine"
	_ "github.com/novelfactory/runner/tasks"
)

// TestARecipesTimezoneNamesItsDates: now() and strftime used the process's
// zone, so the Sunday-dawn backup run by CI (UTC) was named after Saturday.
func TestARecipesTimezoneNamesItsDates(t *testing.T) {
	t.Setenv("TZ", "UTC")
	// Saturday 19:30 UTC is Sunday 04:30 in Seoul.
	at := time.Date(2026, 11, 28, 19, 30, 0, 0, time.UTC)
	for zone, want := range map[string]string{"timezone: Asia/Seoul\n": "20261129 Sun", "": "20261128 Sat"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "r.yaml")
		recipe := "version: 1\n" + zone + "vars:\n  stamp: ${{ strftime(now(), \"%Y%m%d %a\") }}\ntasks:\n  t:\n    uses: shell\n    with: {run: 'echo ${{ vars.stamp }}'}\n"
		if err := os.WriteFile(path, []byte(recipe), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := engine.Apply(context.Background(), engine.Options{Recipe: path, Now: func() time.Time { return at }, Environ: os.Environ()})
		if err != nil {
			t.Fatalf("%q: %v", zone, err)
		}
		if got := res.Run.Tasks[0].Outputs.(map[string]any)["stdout"]; got != want {
			t.Errorf("%q: stamp %q, want %q", strings.TrimSpace(zone), got, want)
		}
	}
}
