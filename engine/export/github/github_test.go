package github

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rhysd/actionlint"

	"github.com/novelfactory/runner/engine"
	"github.com/novelfactory/runner/engine/export"
	_ "github.com/novelfactory/runner/tasks" // the built-in types
)

var update = flag.Bool("update", false, "rewrite the golden workflows in testdata/")

// clock is the time the tests export at: whether a zone keeps one offset
// is judged from here.
var clock = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// exportFile loads a recipe file as runner export does and builds its
// graph; recipe is the path the jobs see.
func exportFile(t *testing.T, path, recipe string, opt export.Options) *export.Workflow {
	t.Helper()
	eo := engine.Options{Recipe: path, Sets: opt.Sets, Environ: []string{}, Now: func() time.Time { return clock }}
	r, err := engine.Load(eo)
	if err != nil {
		t.Fatal(err)
	}
	opt.Recipe = recipe
	if opt.State == "" {
		opt.State = "s3://runner-state/runs"
	}
	w, err := export.Build(r, opt)
	if err != nil {
		t.Fatal(err)
	}
	if scope, err := engine.VarScope(r, eo); err == nil {
		w.SetItems(export.CountItems(r, scope))
	}
	return w
}

// exportText writes src as a recipe and exports it.
func exportText(t *testing.T, src string, opt export.Options) *export.Workflow {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return exportFile(t, path, "recipes/r.yaml", opt)
}

// lint fails the test on any finding of actionlint (its own checks, with
// neither shellcheck nor pyflakes).
func lint(t *testing.T, name string, data []byte) {
	t.Helper()
	var out bytes.Buffer
	l, err := actionlint.NewLinter(&out, &actionlint.LinterOptions{WorkingDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := l.Lint(".github/workflows/"+name, data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("actionlint: %s:%d:%d: %s [%s]", name, e.Line, e.Column, e.Message, e.Kind)
	}
}

func TestActionlintFindsWhatIsWrong(t *testing.T) {
	// The lint must be able to fail: a job that needs one that is not there.
	l, err := actionlint.NewLinter(&bytes.Buffer{}, &actionlint.LinterOptions{WorkingDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	bad := "on: push\njobs:\n  a:\n    needs: [zip.plan]\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo\n"
	errs, err := l.Lint("bad.yml", []byte(bad), nil)
	if err != nil || len(errs) == 0 {
		t.Fatalf("actionlint found %v (%v) in a workflow that needs a missing job", errs, err)
	}
}

func TestGoldenWorkflowsOfTheShippedRecipes(t *testing.T) {
	paths, err := filepath.Glob("../../../recipes/*.yaml")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no shipped recipes: %v", err)
	}
	type golden struct {
		name, path string
		opt        export.Options
	}
	var cases []golden
	for _, p := range paths {
		cases = append(cases, golden{strings.TrimSuffix(filepath.Base(p), ".yaml"), p, export.Options{}})
	}
	// With an image, a pinned version that --image makes unused, a --set
	// value holding ${{ and a space, and an S3-compatible state store.
	cases = append(cases, golden{"weekly-backup-image", "../../../recipes/weekly-backup.yaml", export.Options{
		Image: "ghcr.io/novelfactory/factory:1.4", StateEndpoint: "https://minio.example.com", StatePathStyle: true,
		Sets: []string{"projects=Pilot,Other", "target=s3://backup/${{ \"y\" }} x"}, Secrets: []string{"NOTIFY_TOKEN"},
	}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := exportFile(t, c.path, "recipes/"+filepath.Base(c.path), c.opt)
			data, notes, err := render(w, clock)
			if err != nil {
				t.Fatal(err)
			}
			lint(t, c.name+".yml", data)
			if c.name == "weekly-backup" && !strings.Contains(strings.Join(notes, "\n"), "task upload may run 503 minutes") {
				t.Errorf("no note says upload's 2h timeout, 4 tries, outlasts a hosted job's 360 minutes: %q", notes)
			}
			golden := filepath.Join("testdata", c.name+".yml")
			if *update {
				if err := os.WriteFile(golden, data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./engine/export/github -update)", err)
			}
			if !bytes.Equal(data, want) {
				t.Errorf("the workflow of %s differs from %s (run with -update after checking the change):\n%s", c.path, golden, data)
			}
			again, _, _ := render(w, clock)
			if !bytes.Equal(again, data) {
				t.Error("two renders of one workflow differ")
			}
		})
	}
}

func TestAFanOutOverMoreItemsThanAMatrixTakesIsRefused(t *testing.T) {
	src := func(n int) string {
		return "version: 1\nname: many\nvars:\n  n: " + strconv.Itoa(n) + "\ntasks:\n  each:\n    uses: shell\n    for_each: ${{ 1..vars.n }}\n    with: {run: echo}\n"
	}
	w := exportText(t, src(300), export.Options{})
	_, _, err := render(w, clock)
	if err == nil {
		t.Fatal("a fan-out over 300 known items was exported")
	}
	for _, want := range []string{"task each fans out over 300 items", "256", "split the list", "--to argo"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	data, _, err := render(exportText(t, src(MatrixLimit), export.Options{}), clock)
	if err != nil {
		t.Fatalf("a fan-out over exactly %d items: %v", MatrixLimit, err)
	}
	lint(t, "limit.yml", data)
	if !strings.Contains(string(data), "--plan --max-items 256") {
		t.Error("the plan step does not bound the list at run time (--max-items 256)")
	}
}

func TestStepsGitHubCannotNameGetDistinctJobIDsAndANote(t *testing.T) {
	// init is also the init step's name; Zip and zip differ only in case;
	// zip_plan is what zip's plan step becomes.
	w := exportText(t, `version: 1
name: names
tasks:
  init: {uses: shell, with: {run: echo}}
  Zip: {uses: shell, with: {run: echo}}
  zip: {uses: shell, for_each: '${{ ["a"] }}', with: {run: echo}}
  zip_plan: {uses: shell, needs: [zip, Zip, init], with: {run: echo}}
`, export.Options{})
	data, notes, err := render(w, clock)
	if err != nil {
		t.Fatal(err)
	}
	lint(t, "names.yml", data)
	ids, _, err := jobIDs(w.Steps)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, s := range w.Steps {
		id := strings.ToLower(ids[s])
		if other, ok := seen[id]; ok {
			t.Errorf("%s and %s share job id %s", other, s.Name, ids[s])
		}
		seen[id] = s.Name
		if !jobIDPattern.MatchString(ids[s]) {
			t.Errorf("job id %q of %s is not valid in GitHub", ids[s], s.Name)
		}
	}
	if ids[w.Steps[0]] == "init" {
		t.Error("the init step kept the name of task init")
	}
	joined := strings.Join(notes, "\n")
	for _, want := range []string{"the init step runs as job init-", "task init runs as job init-", "task Zip runs as job Zip-", "task zip runs as job zip-",
		"the plan step of task zip runs as job zip_plan-", "ignore case", "only letters, digits, - and _"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no note says %q; notes:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "task zip_plan runs as") {
		t.Error("zip_plan was renamed though it is valid and unique")
	}
}

func TestSchedules(t *testing.T) {
	const tasks = "tasks:\n  a: {uses: shell, with: {run: echo}}\n"
	t.Run("a fixed-offset zone is moved to UTC, days included", func(t *testing.T) {
		w := exportText(t, "version: 1\nname: s\nschedule: {cron: \"0 4 * * 0\", timezone: Asia/Seoul}\n"+tasks, export.Options{})
		data, _, err := render(w, clock)
		if err != nil {
			t.Fatal(err)
		}
		lint(t, "seoul.yml", data)
		for _, want := range []string{"- cron: 0 19 * * 6", "# 0 4 * * 0 in Asia/Seoul (UTC+09:00), moved to UTC"} {
			if !strings.Contains(string(data), want) {
				t.Errorf("the workflow has no %q:\n%s", want, data)
			}
		}
	})
	t.Run("a zone with daylight saving time is refused", func(t *testing.T) {
		w := exportText(t, "version: 1\nname: s\nschedule: {cron: \"0 4 * * 0\", timezone: America/New_York}\n"+tasks, export.Options{})
		_, _, err := render(w, clock)
		if err == nil {
			t.Fatal("a schedule in America/New_York was exported")
		}
		for _, want := range []string{"America/New_York", "daylight saving time (UTC-05:00 and UTC-04:00)", "timezone: UTC", "Argo"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	})
	t.Run("a line with no zone is read as UTC, with a note", func(t *testing.T) {
		w := exportText(t, "version: 1\nname: s\nschedule: \"30 2 * * 1-5\"\n"+tasks, export.Options{})
		data, notes, err := render(w, clock)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "- cron: 30 2 * * 1-5") || !strings.Contains(strings.Join(notes, "\n"), "names no time zone: GitHub runs it in UTC") {
			t.Errorf("notes %q, workflow:\n%s", notes, data)
		}
	})
	t.Run("an entry with vars is refused", func(t *testing.T) {
		w := exportText(t, "version: 1\nname: s\nvars: {p: x}\nschedule: {cron: \"0 4 * * *\", timezone: UTC, vars: {p: y}}\n"+tasks, export.Options{})
		if _, _, err := render(w, clock); err == nil || !strings.Contains(err.Error(), "one workflow per entry") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a day of the month that would cross into another month is refused", func(t *testing.T) {
		w := exportText(t, "version: 1\nname: s\nschedule: {cron: \"0 4 1 * *\", timezone: Asia/Seoul}\n"+tasks, export.Options{})
		if _, _, err := render(w, clock); err == nil || !strings.Contains(err.Error(), "last day of the month before") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cancel_previous cancels the run in progress", func(t *testing.T) {
		w := exportText(t, "version: 1\nname: s\nschedule: \"0 4 * * *\"\noverlap: cancel_previous\n"+tasks, export.Options{})
		data, _, err := render(w, clock)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "cancel-in-progress: true") {
			t.Errorf("no cancel-in-progress: true:\n%s", data)
		}
	})
}

func TestARunnerVersionThatIsNoWordIsRefused(t *testing.T) {
	w := exportText(t, "version: 1\ntasks:\n  a: {uses: shell, with: {run: echo}}\n", export.Options{RunnerVersion: "v1; rm -rf /"})
	if _, _, err := render(w, clock); err == nil || !strings.Contains(err.Error(), "give a tag such as v1.2.0") {
		t.Errorf("err = %v", err)
	}
	w = exportText(t, "version: 1\ntasks:\n  a: {uses: shell, with: {run: echo}}\n", export.Options{RunnerVersion: "v1.2.0"})
	data, notes, err := render(w, clock)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "cmd/runner@v1.2.0") || len(notes) != 0 {
		t.Errorf("notes %q, workflow:\n%s", notes, data)
	}
}
