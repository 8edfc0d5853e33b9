package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldenSchedule: runner schedule at the golden clock, for a recipe
// with three entries (one across New York's spring-forward gap), the
// shipped weekly backup, and a recipe without a schedule.
func TestGoldenSchedule(t *testing.T) {
	res := inProcess(t, t.TempDir(), nil, "schedule", filepath.Join("testdata", "golden", "schedule.yaml"),
		filepath.Join("..", "..", "recipes", "weekly-backup.yaml"), filepath.Join("..", "..", "recipes", "hello.yaml"))
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	golden(t, "schedule.txt", res.stdout)
}

func TestScheduleOfAnInvalidRecipeExits2AtTheBadField(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	writeFile(t, path, "version: 1\nschedule: {cron: '0 4 * * 8', timezone: Asia/Seoul}\ntasks:\n  t:\n    uses: shell\n    with: {run: 'true'}\n")
	res := inProcess(t, dir, nil, "schedule", path)
	if res.code != 2 || !strings.Contains(res.stderr, "$DIR/r.yaml:2:27: schedule.cron: day-of-week: 8 is out of range 0-7 (or SUN-SAT)") {
		t.Errorf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	if res = inProcess(t, dir, nil, "schedule"); res.code != 2 {
		t.Errorf("no recipe: exit %d, want 2", res.code)
	}
}

// TestTheBinaryCarriesItsZoneDatabase: on a machine without zone files
// (the system's hidden under an empty tmpfs in a private mount namespace,
// ZONEINFO at an empty folder, TZ unset or naming nothing), the built
// binary still reads Asia/Seoul and America/New_York: it embeds
// time/tzdata.
func TestTheBinaryCarriesItsZoneDatabase(t *testing.T) {
	unshare, err := exec.LookPath("unshare")
	if err != nil || os.Geteuid() != 0 {
		t.Skip("needs root and unshare to hide the system's zone files")
	}
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		t.Fatalf("go env GOROOT: %v", err)
	}
	empty := t.TempDir()
	// Go also falls back to $GOROOT/lib/time/zoneinfo.zip: hide it too.
	hide := `for d in /usr/share/zoneinfo /usr/share/lib/zoneinfo /usr/lib/locale/TZ /etc/zoneinfo "$ZIPDIR"; do
  if [ -d "$d" ]; then mount -t tmpfs tmpfs "$d" || exit 98; fi; done
for d in /usr/share/zoneinfo "$ZIPDIR"; do [ -z "$(ls -A "$d" 2>/dev/null)" ] || { echo "zone files still visible in $d"; exit 99; }; done
unset ZIPDIR
exec "$@"`
	for _, tz := range []string{"unset", "/nonexistent"} {
		cmd := exec.Command(unshare, "--mount", "sh", "-c", hide, "sh", runnerBin, "schedule",
			filepath.Join("testdata", "golden", "schedule.yaml"), filepath.Join("..", "..", "recipes", "weekly-backup.yaml"))
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + empty, "ZONEINFO=" + empty,
			"ZIPDIR=" + filepath.Join(strings.TrimSpace(string(goroot)), "lib", "time")}
		if tz != "unset" {
			cmd.Env = append(cmd.Env, "TZ="+tz)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("TZ %s: %v\n%s", tz, err, out)
		}
		for _, want := range []string{"in America/New_York", "02:30 E", "in Asia/Seoul", "04:00 KST", "19:00 UTC"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("TZ %s: output lacks %q:\n%s", tz, want, out)
			}
		}
	}
}

// A schedule entry's vars are shown as --set would take them (the text as
// written: 2026-01-01, not a Go time; 0x10, not 16), and the value of a
// var under secrets: as ***.
func TestScheduleShowsEntryVarsAsWrittenAndMasksSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.yaml")
	writeFile(t, path, "version: 1\nvars: {token: default-token-value, day: x, n: 1}\nsecrets: [token]\n"+
		"schedule: {cron: '0 4 * * 0', timezone: UTC, vars: {token: hunter2hunter2, day: 2026-01-01, n: 0x10}}\n"+
		"tasks:\n  t:\n    uses: shell\n    with: {run: 'true'}\n")
	res := inProcess(t, dir, nil, "schedule", path)
	if res.code != 0 || !strings.Contains(res.stdout, "with vars day=2026-01-01 n=0x10 token=***\n") || strings.Contains(res.stdout, "hunter2") {
		t.Errorf("exit %d, stdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
}
