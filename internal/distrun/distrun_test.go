package distrun_test

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/export"
	"github.com/novelfactory/runner/engine/export/argo"
	"github.com/novelfactory/runner/engine/recipe"
	"github.com/novelfactory/runner/internal/distrun"
	_ "github.com/novelfactory/runner/tasks" // the built-in types
)

// walkRecipe has every kind of edge: plain needs, a fan-out and what needs
// it, a failure's dependants, and an always() task after them.
const walkRecipe = `version: 1
name: walk
vars: {items: [a, b, c]}
tasks:
  first: {uses: shell, with: {run: "true"}}
  fan: {uses: shell, needs: [first], for_each: "${{ vars.items }}", with: {run: "true"}}
  after-fan: {uses: shell, needs: [fan], with: {run: "true"}}
  broken: {uses: shell, needs: [first], with: {run: "true"}}
  after-broken: {uses: shell, needs: [broken], with: {run: "true"}}
  cleanup: {uses: shell, needs: [after-broken], if: always(), with: {run: "true"}}
  never: {uses: shell, needs: [after-broken], with: {run: "true"}}
`

// fakeRunner stands in for runner exec, to test the walk alone: it checks
// that its folder holds the image and nothing else, logs which step it is,
// prints $PLAN for --plan, and fails the steps named in $FAIL ("fan[1]"
// for an instance). The step "slow" runs once until killed: it starts a
// child, says so through the FIFO $SHARED/fifo and waits.
const fakeRunner = `#!/bin/sh
task=init plan= item=
while [ $# -gt 0 ]; do
  case $1 in
    --task) task=$2; shift ;;
    --item) item=$2; shift ;;
    --plan) plan=1 ;;
  esac
  shift
done
name=$task${item:+[$item]}${plan:+.plan}
[ "$(ls -A)" = recipes ] || { echo "$name: the folder holds $(ls -A | tr '\n' ' ')" >&2; exit 9; }
touch mine
echo "$name" >> "$SHARED/log"
if [ -n "$plan" ]; then echo "$PLAN"; exit 0; fi
if [ "$task" = slow ] && [ ! -e "$SHARED/slow-ran" ]; then
  touch "$SHARED/slow-ran"
  sleep 600 &
  echo started > "$SHARED/fifo"
  wait
fi
case " $FAIL " in *" $task${item:+[$item]} "*) echo "$name fails" >&2; exit 1 ;; esac
exit 0
`

type setup struct {
	yaml   string // the exported workflow
	w      *distrun.Workflow
	opt    distrun.Options
	shared string
}

// exportArgo exports src as runner export --to argo does.
func exportArgo(t *testing.T, path string) string {
	t.Helper()
	r, err := recipe.Load(path, recipe.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w, err := export.Build(r, export.Options{Recipe: "recipes/walk.yaml", State: "file:///store", Image: "runner:test"})
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := argo.Render(w)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func readArgo(t *testing.T, src string) *distrun.Workflow {
	t.Helper()
	w, err := distrun.ReadArgo(strings.NewReader(src))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func newSetup(t *testing.T, src string, env ...string) setup {
	t.Helper()
	root := t.TempDir()
	image := filepath.Join(root, "recipes")
	if err := os.Mkdir(image, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(image, "walk.yaml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	wf := exportArgo(t, path)
	bin := filepath.Join(root, "runner")
	if err := os.WriteFile(bin, []byte(fakeRunner), 0o755); err != nil {
		t.Fatal(err)
	}
	shared := filepath.Join(root, "shared")
	steps := filepath.Join(root, "steps")
	for _, d := range []string{shared, steps} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return setup{yaml: wf, w: readArgo(t, wf), shared: shared, opt: distrun.Options{
		Runner: bin, Image: []string{image}, RunID: "r1", Workers: 2, Dir: steps,
		Env: append([]string{"PATH=" + os.Getenv("PATH"), "SHARED=" + shared}, env...),
	}}
}

func outcomes(res *distrun.Result) map[string]string {
	out := map[string]string{}
	for _, s := range res.Tasks {
		out[s.Task.Name] = s.Outcome.String()
	}
	return out
}

func TestRunWalksTheExportedDAGAsArgoWould(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		want map[string]string
	}{
		{"a failed step omits what needs it and an always() task runs after it",
			[]string{"PLAN=[0,1,2]", "FAIL=broken"},
			map[string]string{"init": "Succeeded", "first": "Succeeded", "fan-plan": "Succeeded", "fan": "Succeeded",
				"after-fan": "Succeeded", "broken": "Failed", "after-broken": "Omitted", "cleanup": "Succeeded", "never": "Omitted"}},
		{"an empty fan-out is Skipped and lets what needs it start",
			[]string{"PLAN=[]"},
			map[string]string{"init": "Succeeded", "first": "Succeeded", "fan-plan": "Succeeded", "fan": "Skipped",
				"after-fan": "Succeeded", "broken": "Succeeded", "after-broken": "Succeeded", "cleanup": "Succeeded", "never": "Succeeded"}},
		{"a failed instance fails the fan-out and omits what needs it",
			[]string{"PLAN=[0,1,2]", "FAIL=fan[1]"},
			map[string]string{"init": "Succeeded", "first": "Succeeded", "fan-plan": "Succeeded", "fan": "Failed",
				"after-fan": "Omitted", "broken": "Succeeded", "after-broken": "Succeeded", "cleanup": "Succeeded", "never": "Succeeded"}},
		{"a plan that prints no list errs its fan-out, which starts nothing",
			[]string{"PLAN=three items"},
			map[string]string{"init": "Succeeded", "first": "Succeeded", "fan-plan": "Succeeded", "fan": "Errored",
				"after-fan": "Omitted", "broken": "Succeeded", "after-broken": "Succeeded", "cleanup": "Succeeded", "never": "Succeeded"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSetup(t, walkRecipe, c.env...)
			res, err := distrun.Run(context.Background(), s.w, s.opt)
			if err != nil {
				t.Fatal(err)
			}
			if got := outcomes(res); !reflect.DeepEqual(got, c.want) {
				t.Errorf("outcomes:\n got %v\nwant %v", got, c.want)
			}
			for _, p := range res.Processes() {
				if p.Code == 9 {
					t.Errorf("%s did not start in a fresh folder: %s", p.Name(), p.Stderr)
				}
			}
		})
	}
}

func TestEveryProcessRunsItsTemplatesArgsInAFolderOfItsOwn(t *testing.T) {
	s := newSetup(t, walkRecipe, "PLAN=[0,2]")
	res, err := distrun.Run(context.Background(), s.w, s.opt)
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Failed(); len(f) > 0 {
		t.Fatalf("failed: %v", f)
	}
	fan := res.Task("fan")
	if !reflect.DeepEqual(fan.Items, []string{"0", "2"}) || len(fan.Processes) != 2 {
		t.Fatalf("fan: items %v, %d processes", fan.Items, len(fan.Processes))
	}
	dirs := map[string]bool{}
	for _, p := range res.Processes() {
		if dirs[p.Dir] {
			t.Errorf("%s shares the folder %s", p.Name(), p.Dir)
		}
		dirs[p.Dir] = true
		if p.Code != 0 {
			t.Errorf("%s exited %d: %s", p.Name(), p.Code, p.Stderr)
		}
		if _, err := os.Stat(filepath.Join(p.Dir, "recipes", "walk.yaml")); err != nil {
			t.Errorf("%s's folder has no copy of the image: %v", p.Name(), err)
		}
		// The template's args, with Argo's variables replaced.
		want := slices.Clone(p.Task.Args)
		for i, a := range want {
			want[i] = strings.NewReplacer("{{workflow.name}}", "r1", "{{inputs.parameters.item}}", p.Item).Replace(a)
		}
		if !reflect.DeepEqual(p.Args, want) || !slices.Contains(p.Args, "r1") {
			t.Errorf("%s ran %q, want %q", p.Name(), p.Args, want)
		}
		if p.Index >= 0 && !slices.Equal(p.Args[len(p.Args)-2:], []string{"--item", p.Item}) {
			t.Errorf("%s ran %q, want it to end with --item %s", p.Name(), p.Args, p.Item)
		}
	}
	log, _ := os.ReadFile(filepath.Join(s.shared, "log"))
	lines := strings.Fields(string(log))
	if len(lines) != len(res.Processes()) {
		t.Errorf("%d processes logged, %d ran", len(lines), len(res.Processes()))
	}
	// Order: every step after what it needs.
	pos := func(name string) int { return slices.Index(lines, name) }
	for _, pair := range [][2]string{{"init", "first"}, {"first", "fan.plan"}, {"fan.plan", "fan[0]"}, {"fan.plan", "fan[2]"},
		{"fan[0]", "after-fan"}, {"fan[2]", "after-fan"}, {"broken", "after-broken"}, {"after-broken", "cleanup"}} {
		if pos(pair[0]) < 0 || pos(pair[0]) > pos(pair[1]) {
			t.Errorf("%s ran after %s: %v", pair[0], pair[1], lines)
		}
	}
	// Never more processes at once than workers.
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, p := range res.Processes() {
		edges = append(edges, edge{p.Start, 1}, edge{p.Start.Add(p.Setup + p.Duration), -1})
	}
	slices.SortFunc(edges, func(a, b edge) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return a.delta - b.delta // an end before a start at the same instant
	})
	running, most := 0, 0
	for _, e := range edges {
		running += e.delta
		most = max(most, running)
	}
	if most > s.opt.Workers {
		t.Errorf("%d processes ran at once with %d workers", most, s.opt.Workers)
	}
}

// TestTheWalkFollowsTheYAMLNotTheRecipe hand-edits an exported workflow:
// the walk ends as the edited YAML says, which shows the harness reads
// what runner export wrote (a mistake there is caught), not the recipe.
func TestTheWalkFollowsTheYAMLNotTheRecipe(t *testing.T) {
	const fanDepends = "depends: (fan.Succeeded || fan.Skipped)"
	t.Run("dropping || fan.Skipped after an empty fan-out omits what needs it", func(t *testing.T) {
		s := newSetup(t, walkRecipe, "PLAN=[]")
		if strings.Count(s.yaml, fanDepends) != 1 {
			t.Fatalf("the export no longer writes %q once:\n%s", fanDepends, s.yaml)
		}
		res, err := distrun.Run(context.Background(), s.w, s.opt)
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Task("after-fan").Outcome; got != distrun.Succeeded {
			t.Fatalf("as exported, after-fan %v, want Succeeded", got)
		}
		edited := readArgo(t, strings.Replace(s.yaml, fanDepends, "depends: fan.Succeeded", 1))
		s.opt.Dir = t.TempDir()
		res, err = distrun.Run(context.Background(), edited, s.opt)
		if err != nil {
			t.Fatal(err)
		}
		if fan, after := res.Task("fan").Outcome, res.Task("after-fan").Outcome; fan != distrun.Skipped || after != distrun.Omitted {
			t.Errorf("edited: fan %v, after-fan %v; want Skipped and Omitted", fan, after)
		}
	})
	t.Run("a depends that names a missing task is refused, as Argo refuses it", func(t *testing.T) {
		s := newSetup(t, walkRecipe)
		_, err := distrun.ReadArgo(strings.NewReader(strings.Replace(s.yaml, fanDepends, "depends: (fan.Succeeded || fan2.Skipped)", 1)))
		if err == nil || !strings.Contains(err.Error(), "names fan2, which is no task of the DAG") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a fan-out over the wrong task's result runs what that task printed", func(t *testing.T) {
		s := newSetup(t, walkRecipe, "PLAN=[0,1]")
		edited := strings.Replace(s.yaml, "'{{tasks.fan-plan.outputs.result}}'", "'{{tasks.first.outputs.result}}'", 1)
		if edited == s.yaml {
			t.Fatal("the export no longer writes the fan-out's withParam as expected")
		}
		// first prints nothing: the fan-out errs, and what needs it is omitted.
		res, err := distrun.Run(context.Background(), readArgo(t, edited), s.opt)
		if err != nil {
			t.Fatal(err)
		}
		if fan, after := res.Task("fan").Outcome, res.Task("after-fan").Outcome; fan != distrun.Errored || after != distrun.Omitted {
			t.Errorf("fan %v, after-fan %v; want Errored and Omitted", fan, after)
		}
	})
}

func TestAKilledProcessIsRunAgainWhenRetrySaysSo(t *testing.T) {
	src := walkRecipe + `  slow: {uses: shell, needs: [first], with: {run: "true"}}
  after-slow: {uses: shell, needs: [slow], with: {run: "true"}}
`
	s := newSetup(t, src, "PLAN=[0]")
	fifo := filepath.Join(s.shared, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	var asked atomic.Int32
	s.opt.Started = func(p *distrun.Process) {
		if p.Task.Name != "slow" || p.Attempt != 1 {
			return
		}
		f, err := os.Open(fifo) // blocks until the step is mid-task
		if err != nil {
			t.Error(err)
			return
		}
		line, _ := bufio.NewReader(f).ReadString('\n')
		f.Close()
		if line != "started\n" {
			t.Errorf("slow said %q", line)
		}
		if err := p.Kill(); err != nil {
			t.Error(err)
		}
	}
	s.opt.Retry = func(p *distrun.Process) bool {
		asked.Add(1)
		return p.Killed
	}
	// Run returns only once every process's stderr is closed: the killed
	// step's child (sleep 600) holds it, so the group was killed with it.
	res, err := distrun.Run(context.Background(), s.w, s.opt)
	if err != nil {
		t.Fatal(err)
	}
	slow := res.Task("slow")
	if len(slow.Processes) != 2 {
		t.Fatalf("slow ran %d times", len(slow.Processes))
	}
	first, second := slow.Processes[0], slow.Processes[1]
	if !first.Killed || first.Code != -1 || second.Killed || second.Code != 0 || second.Attempt != 2 || first.Dir == second.Dir {
		t.Errorf("first try: killed %v, exit %d; second: killed %v, exit %d, attempt %d", first.Killed, first.Code, second.Killed, second.Code, second.Attempt)
	}
	if asked.Load() != 1 || slow.Outcome != distrun.Succeeded || res.Task("after-slow").Outcome != distrun.Succeeded {
		t.Errorf("retry asked %d times; slow %v, after-slow %v", asked.Load(), slow.Outcome, res.Task("after-slow").Outcome)
	}
}

func TestAProcessThatFailsIsNotRunAgainUnlessRetrySaysSo(t *testing.T) {
	s := newSetup(t, walkRecipe, "PLAN=[0]", "FAIL=broken")
	s.opt.Retry = func(p *distrun.Process) bool { return p.Attempt < 3 }
	res, err := distrun.Run(context.Background(), s.w, s.opt)
	if err != nil {
		t.Fatal(err)
	}
	broken := res.Task("broken")
	if len(broken.Processes) != 3 || broken.Outcome != distrun.Failed || !strings.Contains(broken.Processes[2].Stderr, "broken fails") {
		t.Errorf("broken: %d tries, %v, stderr %q", len(broken.Processes), broken.Outcome, broken.Processes[len(broken.Processes)-1].Stderr)
	}
	if n := len(res.Task("first").Processes); n != 1 {
		t.Errorf("first, which succeeded, ran %d times", n)
	}
}

func TestATemplatesDeadlineKillsItsProcessAndItsEnvValuesAreGiven(t *testing.T) {
	const wf = `apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: deadline-}
spec:
  entrypoint: main
  templates:
    - name: main
      dag:
        failFast: false
        tasks:
          - {name: hang, template: hang}
          - {name: env, template: env}
    - name: hang
      activeDeadlineSeconds: "1"
      container: {image: x, command: [runner], args: [hang]}
    - name: env
      container: {image: x, command: [runner], args: [env], env: [{name: MODE, value: from-the-template}]}
`
	root := t.TempDir()
	bin := filepath.Join(root, "runner")
	script := "#!/bin/sh\nif [ \"$1\" = hang ]; then sleep 600 & wait; fi\necho \"$MODE\"\n"
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := distrun.Run(context.Background(), readArgo(t, wf), distrun.Options{Runner: bin, RunID: "r1", Workers: 2, Dir: root,
		Env: []string{"PATH=" + os.Getenv("PATH"), "MODE=from-options"}})
	if err != nil {
		t.Fatal(err)
	}
	hang := res.Task("hang")
	if p := hang.Processes[0]; hang.Outcome != distrun.Failed || !p.Killed || p.Code != -1 {
		t.Errorf("hang %v: killed %v, exit %d", hang.Outcome, p.Killed, p.Code)
	}
	if got := res.Task("env").Processes[0].Stdout; got != "from-the-template\n" {
		t.Errorf("env printed %q, want the template's value", got)
	}
}
