package disttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/novelfactory/runner/engine/runstore"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/bookgen"
	"github.com/novelfactory/runner/internal/distrun"
	"github.com/novelfactory/runner/internal/objstore"
	"github.com/novelfactory/runner/internal/testtools"
)

// runnerBin is the runner binary every test runs, built once.
var runnerBin string

func TestMain(m *testing.M) { testtools.MainWithRunner(m, "..", &runnerBin) }

// workers is how many steps run at once in the tests.
const workers = 4

// repoImage is what an exported workflow's image holds: the repository's
// recipes and examples.
var repoImage = []string{"../../../recipes", "../../../examples"}

// fanoutImage writes the fan-out recipe's tree: the recipe, and n projects
// of 3 generated episodes each.
func fanoutImage(t *testing.T, n int) []string {
	t.Helper()
	root := t.TempDir()
	for p := 1; p <= n; p++ {
		dir := filepath.Join(root, "projects", fmt.Sprintf("Project%02d", p), "episodes")
		if err := bookgen.Write(dir, 3, 1500, uint64(p)); err != nil {
			t.Fatal(err)
		}
	}
	return []string{"testdata/fanout", filepath.Join(root, "projects")}
}

// local runs `runner apply` of recipe (a path inside the image) in a
// fresh folder holding a copy of image, and returns the folder and the
// run's state.
func local(t *testing.T, image []string, recipePath string, env []string, sets ...string) (string, *state.Run) {
	t.Helper()
	dir := t.TempDir()
	if err := distrun.CopyImage(dir, image); err != nil {
		t.Fatal(err)
	}
	args := []string{"apply", recipePath, "--jobs", fmt.Sprint(workers)}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	res := testtools.Run(t, runnerBin, dir, env, args...)
	if res.Code != 0 {
		t.Fatalf("runner %s: exit %d\n%s\n%s", strings.Join(args, " "), res.Code, res.Stdout, res.Stderr)
	}
	states, _ := filepath.Glob(filepath.Join(dir, filepath.Dir(recipePath), ".runner", "runs", "*", "state.json"))
	if len(states) != 1 {
		t.Fatalf("state files of the local run: %v", states)
	}
	data, err := os.ReadFile(states[0])
	if err != nil {
		t.Fatal(err)
	}
	var st state.Run
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("%s: %v", states[0], err)
	}
	return dir, &st
}

// store is the state store of the distributed runs: a bucket "runs" of
// the server.
type store struct {
	s3       *testtools.S3Server
	url      string // s3://runs/dist
	endpoint string // where the steps reach it (the server, or a proxy before it)
}

func newStore(s3 *testtools.S3Server) *store {
	return &store{s3: s3, url: "s3://runs/dist", endpoint: s3.Endpoint}
}

// open opens the store from the test, at the server itself.
func (s *store) open(t *testing.T) *runstore.Store {
	t.Helper()
	rs, err := runstore.Open(context.Background(), s.url, objstore.Options{Endpoint: s.s3.Endpoint, PathStyle: true, Environ: s.s3.Env}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// workflow exports recipe (a path inside image) with the runner binary,
// `runner export --to argo`, in a folder holding a copy of image, and
// reads the YAML it wrote: what the harness walks is what Argo would get.
// It returns the workflow and the YAML.
func workflow(t *testing.T, image []string, recipePath string, st *store, sets ...string) (*distrun.Workflow, string) {
	t.Helper()
	dir := t.TempDir()
	if err := distrun.CopyImage(dir, image); err != nil {
		t.Fatal(err)
	}
	args := []string{"export", recipePath, "--to", "argo", "--image", "runner:test",
		"--state", st.url, "--state-endpoint", st.endpoint, "--state-path-style", "-o", "wf.yaml"}
	for _, s := range sets {
		args = append(args, "--set", s)
	}
	res := testtools.Run(t, runnerBin, dir, testtools.BaseEnv(), args...)
	if res.Code != 0 {
		t.Fatalf("runner %s: exit %d\n%s", strings.Join(args, " "), res.Code, res.Stderr)
	}
	data, err := os.ReadFile(filepath.Join(dir, "wf.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := distrun.ReadArgo(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	return w, string(data)
}

// distributed runs w with the harness: every step a runner exec in its own
// folder. opt may set the hooks.
func distributed(t *testing.T, w *distrun.Workflow, image []string, env []string, opt distrun.Options) *distrun.Result {
	t.Helper()
	opt.Runner, opt.Image, opt.Env, opt.Workers, opt.Dir = runnerBin, image, env, workers, t.TempDir()
	if opt.RunID == "" {
		opt.RunID = "dist-1"
	}
	res, err := distrun.Run(context.Background(), w, opt)
	if err != nil {
		t.Fatal(err)
	}
	if failed := res.Failed(); len(failed) > 0 {
		for _, p := range res.Processes() {
			if p.Code != 0 || p.Err != nil {
				t.Logf("%s (try %d): exit %d, %v\n%s", p.Name(), p.Attempt, p.Code, p.Err, p.Stderr)
			}
		}
		t.Fatalf("distributed run: %v", failed)
	}
	var exec, setup time.Duration
	ps := res.Processes()
	for _, p := range ps {
		exec += p.Duration
		setup += p.Setup
	}
	t.Logf("%d processes in %v: %v per runner exec, %v per folder and image", len(ps), res.Wall.Round(time.Millisecond),
		(exec / time.Duration(len(ps))).Round(time.Millisecond), (setup / time.Duration(len(ps))).Round(time.Millisecond))
	return res
}

// object is what a test compares of an object in a bucket.
type object struct {
	Size   int64
	SHA256 string
}

// objects lists the objects of bucket on server, by key, from the
// server's posix backend (one file per object).
func objects(t *testing.T, s3 *testtools.S3Server, bucket string) map[string]object {
	t.Helper()
	root := filepath.Join(s3.Dir, bucket)
	out := map[string]object{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".sgwtmp") {
			return filepath.SkipDir // versitygw's uploads in progress
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		out[filepath.ToSlash(rel)] = object{int64(len(data)), hex.EncodeToString(sum[:])}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameObjects compares two buckets' objects. A backup set's manifest and
// marker name the run that wrote them and when, which legitimately differ
// between two runs: those are compared without their run and time fields
// (and their sizes and hashes, which follow from those), the objects they
// list included.
func sameObjects(t *testing.T, localS3, distS3 *testtools.S3Server, bucket string) {
	t.Helper()
	want, got := objects(t, localS3, bucket), objects(t, distS3, bucket)
	if len(want) == 0 {
		t.Fatalf("the local run left no object in %s", bucket)
	}
	keys := func(m map[string]object) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		sort.Strings(out)
		return out
	}
	if !reflect.DeepEqual(keys(got), keys(want)) {
		t.Fatalf("objects:\n distributed %v\n       local %v", keys(got), keys(want))
	}
	for key, o := range want {
		if isSetRecord(key) {
			l := setRecord(t, filepath.Join(localS3.Dir, bucket, key))
			d := setRecord(t, filepath.Join(distS3.Dir, bucket, key))
			if !reflect.DeepEqual(l, d) {
				t.Errorf("%s, but for its run and times:\n distributed %v\n       local %v", key, d, l)
			}
			continue
		}
		if got[key] != o {
			t.Errorf("%s: distributed %+v, local %+v", key, got[key], o)
		}
	}
}

// isSetRecord reports whether key is a backup set's manifest or marker.
func isSetRecord(key string) bool {
	base := filepath.Base(key)
	return base == "manifest.json" || base == ".runner-set"
}

// setRecord reads a manifest or marker without the fields that name a run
// or a time.
func setRecord(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if _, ok := m["run"]; !ok {
		t.Fatalf("%s names no run: the comparison's idea of a set record is out of date:\n%s", path, data)
	}
	for _, k := range []string{"run", "created", "started"} {
		delete(m, k)
	}
	return m
}

// ending is what is compared of a task between two runs.
type ending struct {
	Status  state.Status
	Outputs any
}

// localEndings are the local run's plain tasks and instances, with the paths
// under dir made relative to it, as the store keeps them.
func localEndings(t *testing.T, st *state.Run, dir string) map[string]ending {
	t.Helper()
	out := map[string]ending{}
	fannedOut := map[string]bool{}
	for _, task := range st.Tasks {
		if base, _, ok := strings.Cut(task.ID, "["); ok {
			fannedOut[base] = true
		}
	}
	for _, task := range st.Tasks {
		if fannedOut[task.ID] {
			continue // a for_each task's outputs are its instances', compared one by one
		}
		out[task.ID] = ending{task.Status, relative(plain(t, task.Outputs), dir+string(filepath.Separator))}
	}
	return out
}

// storeEndings reads the same tasks and instances from the store's records.
func storeEndings(t *testing.T, rs *runstore.Store, run string, want map[string]ending) map[string]ending {
	t.Helper()
	out := map[string]ending{}
	for id := range want {
		rec, err := rs.Get(context.Background(), run, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec == nil {
			continue
		}
		out[id] = ending{rec.Status, plain(t, rec.Outputs)}
	}
	return out
}

// sameEndings compares every task's status and outputs; except names
// fields that legitimately differ ("upload.uploaded").
func sameEndings(t *testing.T, local, dist map[string]ending, except ...string) {
	t.Helper()
	drop := func(m map[string]ending) {
		for _, e := range except {
			id, field, _ := strings.Cut(e, ".")
			if o, ok := m[id].Outputs.(map[string]any); ok {
				delete(o, field)
			}
		}
	}
	drop(local)
	drop(dist)
	for id, l := range local {
		d, ok := dist[id]
		switch {
		case !ok:
			t.Errorf("%s: no record in the store (local: %s)", id, l.Status)
		case !reflect.DeepEqual(d, l):
			dj, _ := json.Marshal(d)
			lj, _ := json.Marshal(l)
			t.Errorf("%s:\n distributed %s\n       local %s", id, dj, lj)
		}
	}
}

// plain is v as JSON would decode it: maps of any, float64 numbers.
func plain(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// relative makes every string under prefix relative to it.
func relative(v any, prefix string) any {
	switch v := v.(type) {
	case string:
		return strings.TrimPrefix(v, prefix)
	case []any:
		for i := range v {
			v[i] = relative(v[i], prefix)
		}
	case map[string]any:
		for k := range v {
			v[k] = relative(v[k], prefix)
		}
	}
	return v
}

// blocker is a proxy before an S3 server that holds the first request
// match accepts, once it has read its body: the request is in flight, and
// the object is not written, until the client goes away.
type blocker struct {
	URL   string
	Held  chan struct{} // closed once the request is held
	match func(*http.Request) bool
	proxy *httputil.ReverseProxy
	once  sync.Once
}

func newBlocker(t *testing.T, target string, match func(*http.Request) bool) *blocker {
	t.Helper()
	u, _ := url.Parse(target)
	b := &blocker{Held: make(chan struct{}), match: match, proxy: httputil.NewSingleHostReverseProxy(u)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: b}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	b.URL = "http://" + l.Addr().String()
	return b
}

func (b *blocker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hold := false
	if b.match(r) {
		b.once.Do(func() { hold = true })
	}
	if !hold {
		b.proxy.ServeHTTP(w, r)
		return
	}
	io.Copy(io.Discard, r.Body)
	close(b.Held)
	<-r.Context().Done() // the client went away: nothing reaches the server
}
