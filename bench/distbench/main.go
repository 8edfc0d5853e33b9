// Command distbench measures the distributed path of bench/export.sh: the
// same fan-out recipe run by `runner apply --jobs N` and by the distrun
// harness walking the workflow `runner export --to argo` wrote (every step
// a `runner exec` in its own folder, N at once), both against the same S3
// server, in alternation, and prints a Markdown report.
// The S3 credentials come from the environment (AWS_ACCESS_KEY_ID, …).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/novelfactory/runner/internal/distrun"
)

func main() {
	runner := flag.String("runner", "", "the runner binary")
	tree := flag.String("tree", "", "the image: a folder whose subfolders every step gets a copy of")
	recipePath := flag.String("recipe", "fanout/fanout.yaml", "the recipe, relative to -tree")
	endpoint := flag.String("endpoint", "", "the S3 server (path style), for the state store and the target")
	bucket := flag.String("bucket", "bench", "the bucket of the target and the store")
	workers := flag.Int("workers", 8, "steps at once, and runner apply's --jobs")
	runs := flag.Int("runs", 3, "runs of each")
	work := flag.String("work", "", "a folder for the runs' folders")
	link := flag.Bool("link", false, "hard-link each step's image instead of copying it (a container's shared layers)")
	flag.Parse()
	if *runner == "" || *tree == "" || *endpoint == "" || *work == "" {
		log.Fatal("distbench: -runner, -tree, -endpoint and -work are required")
	}
	entries, err := os.ReadDir(*tree)
	if err != nil {
		log.Fatal(err)
	}
	var image []string
	for _, e := range entries {
		image = append(image, filepath.Join(*tree, e.Name()))
	}
	env := os.Environ()

	var local, dist, setup []time.Duration
	execs := map[string][]time.Duration{} // by kind of step
	processes := 0
	for i := 1; i <= *runs; i++ {
		sets := func(who string) []string {
			return []string{fmt.Sprintf("target=s3://%s/%s-%d", *bucket, who, i), "endpoint=" + *endpoint, "path_style=true"}
		}
		// runner apply, in a folder holding the same copy of the image.
		dir := filepath.Join(*work, fmt.Sprintf("local-%d", i))
		must(os.Mkdir(dir, 0o755))
		must(distrun.CopyImage(dir, image))
		args := []string{"apply", *recipePath, "--jobs", fmt.Sprint(*workers)}
		for _, s := range sets("local") {
			args = append(args, "--set", s)
		}
		start := time.Now()
		cmd := exec.Command(*runner, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("runner apply: %v\n%s", err, out)
		}
		local = append(local, time.Since(start))

		// The harness, every step its own process and folder, walking
		// what runner export wrote.
		wf := filepath.Join(*work, fmt.Sprintf("wf-%d.yaml", i))
		args = []string{"export", *recipePath, "--to", "argo", "--image", "runner:bench", "--state", fmt.Sprintf("s3://%s/runs", *bucket),
			"--state-endpoint", *endpoint, "--state-path-style", "-o", wf}
		for _, s := range sets("dist") {
			args = append(args, "--set", s)
		}
		cmd = exec.Command(*runner, args...)
		cmd.Dir, cmd.Env = dir, env // the same copy of the image
		if out, err := cmd.CombinedOutput(); err != nil {
			log.Fatalf("runner export: %v\n%s", err, out)
		}
		f, err := os.Open(wf)
		must(err)
		w, err := distrun.ReadArgo(f)
		f.Close()
		must(err)
		steps := filepath.Join(*work, fmt.Sprintf("dist-%d", i))
		must(os.Mkdir(steps, 0o755))
		res, err := distrun.Run(context.Background(), w, distrun.Options{Runner: *runner, Image: image, Env: env,
			RunID: fmt.Sprintf("bench-%d", i), Workers: *workers, Dir: steps, LinkImage: *link})
		must(err)
		if failed := res.Failed(); len(failed) > 0 {
			for _, p := range res.Processes() {
				if p.Code != 0 {
					log.Printf("%s: exit %d\n%s", p.Name(), p.Code, p.Stderr)
				}
			}
			log.Fatalf("distributed run: %v", failed)
		}
		dist = append(dist, res.Wall)
		processes = len(res.Processes())
		for _, p := range res.Processes() {
			setup = append(setup, p.Setup)
			kind := p.Task.Name
			switch {
			case p.Task.FanOutOf != "":
				kind = "instance"
			case strings.HasSuffix(p.Task.Step, ".plan"):
				kind = "plan"
			case p.Task.Step == "init":
				kind = "init"
			}
			execs[kind] = append(execs[kind], p.Duration)
		}
		fmt.Fprintf(os.Stderr, "run %d: local %v, distributed %v\n", i, local[i-1].Round(time.Millisecond), res.Wall.Round(time.Millisecond))
	}

	// What a process start and a recipe load cost, alone.
	probe := func(args ...string) []time.Duration {
		var ds []time.Duration
		for range 20 {
			start := time.Now()
			cmd := exec.Command(*runner, args...)
			cmd.Dir = filepath.Join(*work, "local-1")
			if out, err := cmd.CombinedOutput(); err != nil {
				log.Fatalf("runner %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			ds = append(ds, time.Since(start))
		}
		return ds
	}
	version := probe("version")
	validate := probe("validate", *recipePath)

	lm, dm := mean(local), mean(dist)
	fmt.Printf("| What | Result |\n|---|---:|\n")
	fmt.Printf("| `runner apply --jobs %d` (whole process) | %s |\n", *workers, stat(local))
	fmt.Printf("| harness, %d workers: %d `runner exec` processes, each in its own folder | %s |\n", *workers, processes, stat(dist))
	fmt.Printf("| **overhead per task execution** = (distributed − local) / %d | **%.1f ms** |\n", processes, float64(dm-lm)/float64(processes)/1e6)
	how := "copy"
	if *link {
		how = "hard links"
	}
	fmt.Printf("| a step's folder and image (%s; mean) | %s |\n", how, stat(setup))
	kinds := make([]string, 0, len(execs))
	for k := range execs {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Printf("| `runner exec` of %s (mean of %d) | %s |\n", k, len(execs[k]), stat(execs[k]))
	}
	fmt.Printf("| `runner version` (process start) | %s |\n", stat(version))
	fmt.Printf("| `runner validate` of the recipe (process start + recipe load) | %s |\n", stat(validate))
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func mean(ds []time.Duration) time.Duration {
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

// stat is "mean ± standard deviation".
func stat(ds []time.Duration) string {
	m := mean(ds)
	var sq float64
	for _, d := range ds {
		sq += math.Pow(float64(d-m), 2)
	}
	sd := time.Duration(math.Sqrt(sq / float64(len(ds))))
	return fmt.Sprintf("%s ± %s", round(m), round(sd))
}

func round(d time.Duration) time.Duration {
	if d > time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(100 * time.Microsecond)
}
