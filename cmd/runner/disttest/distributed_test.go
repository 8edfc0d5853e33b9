package disttest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/distrun"
	"github.com/novelfactory/runner/internal/testtools"
)

// TestWeeklyBackupDistributedEqualsLocal runs the shipped backup recipe
// step by step, each step in its own folder, with versitygw as the state
// store and the target; a local apply of the same recipe and vars uploads
// to another versitygw. The objects, the set's manifest and every task's
// outputs are the same.
func TestWeeklyBackupDistributedEqualsLocal(t *testing.T) {
	localS3 := testtools.StartS3(t, "factory")
	distS3 := testtools.StartS3(t, "factory", "runs")
	// The stamp is fixed: each run takes its date from its own start, and
	// the two would differ across midnight in Seoul.
	sets := func(s3 *testtools.S3Server) []string {
		return []string{"target=s3://factory/weekly", "endpoint=" + s3.Endpoint, "path_style=true", "stamp=20240107"}
	}
	dir, st := local(t, repoImage, "recipes/weekly-backup.yaml", testtools.BaseEnv(localS3.Env...), sets(localS3)...)

	rs := newStore(distS3)
	w, _ := workflow(t, repoImage, "recipes/weekly-backup.yaml", rs, sets(distS3)...)
	res := distributed(t, w, repoImage, testtools.BaseEnv(distS3.Env...), distrun.Options{RunID: "weekly-1"})
	if n := len(res.Task("zip-episodes").Processes); n != 2 {
		t.Errorf("zip-episodes ran %d instances, want one per example project (2)", n)
	}

	sameObjects(t, localS3, distS3, "factory")
	want := localEndings(t, st, dir)
	// endpoint is a var that differs (two servers); no output holds it.
	sameEndings(t, want, storeEndings(t, rs.open(t), "weekly-1", want))
	if e := want["report"]; e.Status != state.Succeeded || !strings.Contains(fmt.Sprint(e.Outputs), "PASS: backup set") {
		t.Errorf("the local report: %+v", e)
	}
}

// TestPublishEPUBDistributedEqualsLocal publishes the example projects both
// ways: the books fetched from the store are byte for byte those of the
// local run (reproducible: true), and the EPUB passes epubcheck.
func TestPublishEPUBDistributedEqualsLocal(t *testing.T) {
	distS3 := testtools.StartS3(t, "runs")
	dir, st := local(t, repoImage, "recipes/publish-epub.yaml", testtools.BaseEnv())

	rs := newStore(distS3)
	w, _ := workflow(t, repoImage, "recipes/publish-epub.yaml", rs)
	distributed(t, w, repoImage, testtools.BaseEnv(distS3.Env...), distrun.Options{RunID: "publish-1"})

	want := localEndings(t, st, dir)
	store := rs.open(t)
	sameEndings(t, want, storeEndings(t, store, "publish-1", want))

	fetched := t.TempDir()
	for _, task := range []string{"epub", "pdf"} {
		if err := store.DownloadTask(context.Background(), "publish-1", task, fetched); err != nil {
			t.Fatal(err)
		}
	}
	books, _ := filepath.Glob(filepath.Join(dir, "build", "dist", "*"))
	if len(books) != 4 {
		t.Fatalf("the local run made %v, want an EPUB and a PDF of each of 2 projects", books)
	}
	for _, book := range books {
		rel, _ := filepath.Rel(dir, book)
		l, _ := os.ReadFile(book)
		d, err := os.ReadFile(filepath.Join(fetched, rel))
		if err != nil {
			t.Errorf("%s was not fetched from the store: %v", rel, err)
			continue
		}
		if !bytes.Equal(d, l) {
			t.Errorf("%s: the distributed book (%d bytes) differs from the local one (%d bytes)", rel, len(d), len(l))
		}
	}
	epubs, _ := filepath.Glob(filepath.Join(fetched, "build", "dist", "*.epub"))
	if len(epubs) == 0 {
		t.Fatal("no EPUB fetched")
	}
	testtools.EPUBCheck(t, epubs[0])
}

// fanoutSets point the fan-out recipe's upload at s3.
func fanoutSets(s3 *testtools.S3Server, endpoint string) []string {
	return []string{"target=s3://factory/fanout", "endpoint=" + endpoint, "path_style=true"}
}

// TestFanOutOver50ProjectsDistributedEqualsLocal: 50 instances, each in
// its own process and folder, then an upload that fetches all 50 zips from
// the store, then a report over every instance's outputs.
func TestFanOutOver50ProjectsDistributedEqualsLocal(t *testing.T) {
	image := fanoutImage(t, 50)
	localS3 := testtools.StartS3(t, "factory")
	distS3 := testtools.StartS3(t, "factory", "runs")
	dir, st := local(t, image, "fanout/fanout.yaml", testtools.BaseEnv(localS3.Env...), fanoutSets(localS3, localS3.Endpoint)...)

	rs := newStore(distS3)
	w, _ := workflow(t, image, "fanout/fanout.yaml", rs, fanoutSets(distS3, distS3.Endpoint)...)
	res := distributed(t, w, image, testtools.BaseEnv(distS3.Env...), distrun.Options{RunID: "fanout-1"})
	if n := len(res.Task("zip").Processes); n != 50 {
		t.Fatalf("zip ran %d instances, want 50", n)
	}

	sameObjects(t, localS3, distS3, "factory")
	want := localEndings(t, st, dir)
	sameEndings(t, want, storeEndings(t, rs.open(t), "fanout-1", want))
	if got := fmt.Sprint(want["report"].Outputs); !strings.Contains(got, "50 projects, 150 episodes") {
		t.Errorf("report: %s", got)
	}
}

// TestAKilledStepRunAgainEndsAsIfUndisturbed kills two processes mid-task,
// as a lost node would: instance 7 of the fan-out while its record is being
// written to the store, and the upload while it puts an object into the
// target. Each is run again in a new folder, as an engine's retry would.
// The store never holds a half-written record, and the final objects and
// outputs are those of the local run.
func TestAKilledStepRunAgainEndsAsIfUndisturbed(t *testing.T) {
	image := fanoutImage(t, 50)
	localS3 := testtools.StartS3(t, "factory")
	distS3 := testtools.StartS3(t, "factory", "runs")
	dir, st := local(t, image, "fanout/fanout.yaml", testtools.BaseEnv(localS3.Env...), fanoutSets(localS3, localS3.Endpoint)...)

	const run = "fanout-killed"
	record := newBlocker(t, distS3.Endpoint, func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/"+run+"/tasks/zip/7.json")
	})
	object := newBlocker(t, distS3.Endpoint, func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/Project13-episodes.zip")
	})
	rs := newStore(distS3)
	rs.endpoint = record.URL // the steps reach the store through the proxy
	w, _ := workflow(t, image, "fanout/fanout.yaml", rs, fanoutSets(distS3, object.URL)...)
	store := rs.open(t)

	done := make(chan struct{})
	defer close(done)
	killWhen := func(p *distrun.Process, held chan struct{}) {
		go func() {
			select {
			case <-held:
				if err := p.Kill(); err != nil {
					t.Error(err)
				}
			case <-done:
			}
		}()
	}
	var killed []string
	res := distributed(t, w, image, testtools.BaseEnv(distS3.Env...), distrun.Options{
		RunID: run,
		Started: func(p *distrun.Process) {
			switch {
			case p.Attempt > 1:
			case p.Name() == "zip[7]":
				killWhen(p, record.Held)
			case p.Name() == "upload":
				killWhen(p, object.Held)
			}
		},
		Retry: func(p *distrun.Process) bool {
			if !p.Killed {
				return false
			}
			killed = append(killed, p.Name())
			// Nothing half-written: no record, or a whole one that is not
			// a success (Get fails on a record that does not parse).
			rec, err := store.Get(context.Background(), run, p.Name())
			if err != nil {
				t.Errorf("after %s was killed: %v", p.Name(), err)
			}
			if rec != nil && rec.Status == state.Succeeded {
				t.Errorf("after %s was killed mid-task the store says it succeeded", p.Name())
			}
			return true
		},
	})
	if strings.Join(killed, ",") != "zip[7],upload" {
		t.Fatalf("killed %v, want zip[7] then upload", killed)
	}
	for _, name := range []string{"zip", "upload"} {
		for _, p := range res.Task(name).Processes {
			if p.Killed && p.Code != -1 {
				t.Errorf("%s was killed but exited %d", p.Name(), p.Code)
			}
		}
	}

	sameObjects(t, localS3, distS3, "factory")
	want := localEndings(t, st, dir)
	// The upload's second try finds the objects its first try put before
	// it was killed, unchanged: it counts them as such, not as uploaded.
	sameEndings(t, want, storeEndings(t, store, run, want), "upload.uploaded", "upload.unchanged")
	rec, err := store.Get(context.Background(), run, "upload")
	if err != nil || rec == nil {
		t.Fatal(rec, err)
	}
	out := rec.Outputs.(map[string]any)
	// s3put puts the files one by one in their order: Project01 … Project12
	// were in the target when Project13's put was held and the upload killed.
	if up, un := out["uploaded"].(float64), out["unchanged"].(float64); up != 38 || un != 12 {
		t.Errorf("the upload's second try: %v uploaded, %v unchanged; want 38 and 12 (put before the kill)", up, un)
	}
}

// TestTheHarnessWalksTheExportedYAML runs a fan-out over an empty list:
// it is Skipped and the task after it runs, as locally. Then the exported
// YAML is edited by hand to drop "|| each.Skipped" from that task's
// depends: it is Omitted and leaves no record — what the harness walks is
// the YAML runner export wrote, so a mistake in it would show.
func TestTheHarnessWalksTheExportedYAML(t *testing.T) {
	distS3 := testtools.StartS3(t, "runs")
	image := []string{"testdata/empty"}
	dir, st := local(t, image, "empty/empty.yaml", testtools.BaseEnv())

	rs := newStore(distS3)
	w, yaml := workflow(t, image, "empty/empty.yaml", rs)
	res := distributed(t, w, image, testtools.BaseEnv(distS3.Env...), distrun.Options{RunID: "empty-1"})
	if o := res.Task("each").Outcome; o != distrun.Skipped {
		t.Errorf("each %v, want Skipped (an empty list)", o)
	}
	want := localEndings(t, st, dir)
	store := rs.open(t)
	sameEndings(t, want, storeEndings(t, store, "empty-1", want))
	if e := want["after"]; e.Status != state.Succeeded {
		t.Fatalf("the local run: after %+v", e)
	}

	const exported = "depends: (each.Succeeded || each.Skipped)"
	if strings.Count(yaml, exported) != 1 {
		t.Fatalf("the export no longer writes %q once:\n%s", exported, yaml)
	}
	edited, err := distrun.ReadArgo(strings.NewReader(strings.Replace(yaml, exported, "depends: each.Succeeded", 1)))
	if err != nil {
		t.Fatal(err)
	}
	res, err = distrun.Run(context.Background(), edited, distrun.Options{Runner: runnerBin, Image: image,
		Env: testtools.BaseEnv(distS3.Env...), Workers: workers, Dir: t.TempDir(), RunID: "empty-2"})
	if err != nil {
		t.Fatal(err)
	}
	if o := res.Task("after").Outcome; o != distrun.Omitted {
		t.Errorf("edited: after %v, want Omitted", o)
	}
	if rec, err := store.Get(context.Background(), "empty-2", "after"); err != nil || rec != nil {
		t.Errorf("edited: the store holds a record of the omitted task: %+v, %v", rec, err)
	}
}
