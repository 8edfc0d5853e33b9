package runstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/secret"
	"github.com/novelfactory/runner/engine/state"
	"github.com/novelfactory/runner/internal/objstore"
	"github.com/novelfactory/runner/internal/quote"
)

// Store is the shared store of runs at one URL.
type Store struct {
	obj    objstore.Store
	prefix string         // the URL's key prefix: "" or ending in "/"
	masker *secret.Masker // masks every record written
}

// New returns the store of runs kept in obj under prefix. m masks the
// records it writes; nil masks nothing.
func New(obj objstore.Store, prefix string, m *secret.Masker) *Store {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if m == nil {
		m = secret.New()
	}
	return &Store{obj: obj, prefix: prefix, masker: m}
}

// Open opens the store at rawURL: s3://bucket/prefix or file://dir.
func Open(ctx context.Context, rawURL string, opt objstore.Options, m *secret.Masker) (*Store, error) {
	loc, err := objstore.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("the run store %w", err)
	}
	obj, err := objstore.Open(ctx, loc, opt)
	if err != nil {
		return nil, fmt.Errorf("open the run store %s: %w", rawURL, err)
	}
	return New(obj, loc.Prefix, m), nil
}

// String names the store.
func (s *Store) String() string { return s.obj.String() + "/" + s.prefix }

// Run is a run's record, run.json: what every exec of the run checks
// before it does anything.
type Run struct {
	ID     string `json:"id"`
	Recipe string `json:"recipe"` // the recipe's name
	// RecipeDigest is recipe.Recipe.Digest: every exec of a run runs the
	// same recipe.
	RecipeDigest string `json:"recipe_digest"`
	// VarsDigest is a digest of the vars after --vars and --set: every
	// exec of a run sees the same values.
	VarsDigest string `json:"vars_digest"`
	// Started is the run's start, UTC: now() on every machine.
	Started time.Time `json:"started"`
}

// ErrNoRun says a run has no run.json: no `runner exec --init` made it.
var ErrNoRun = errors.New("the run has no run.json in the store")

// MismatchError says a run was made for another recipe or other vars than
// the exec at hand.
type MismatchError struct {
	Run  string
	What string // "recipe" or "vars"
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("run %s was started with other %s than these (the %s digests differ): every step of one run must use the same recipe and vars — start a new run id for a changed recipe",
		e.Run, e.What, e.What)
}

func (s *Store) key(run string, parts ...string) string {
	return s.prefix + objstore.Join(append([]string{escape(run)}, parts...)...)
}

// escape makes an id one safe path segment of a key: the same text for
// the ids recipes use, never a "/", ".." or "".
func escape(id string) string {
	e := url.PathEscape(id)
	if e == "" || strings.Trim(e, ".") == "" {
		e = strings.ReplaceAll(e, ".", "%2E") + "%00"
	}
	return e
}

// Init records run r: it writes run.json when the run has none, and
// returns the run as recorded. A run.json with the same digests is left
// as it is (a retried init); other digests are a *MismatchError.
func (s *Store) Init(ctx context.Context, r Run) (Run, error) {
	old, err := s.Run(ctx, r.ID)
	switch {
	case err == nil:
		return old, check(old, r)
	case !errors.Is(err, ErrNoRun):
		return Run{}, err
	}
	r.Started = r.Started.UTC()
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return Run{}, fmt.Errorf("encode run.json of run %s: %w", r.ID, err)
	}
	if err := s.put(ctx, s.key(r.ID, "run.json"), append(data, '\n')); err != nil {
		return Run{}, fmt.Errorf("record run %s: %w", r.ID, err)
	}
	return r, nil
}

// Check reads run id and checks that it was made for the recipe and vars
// of want (whose Started is ignored).
func (s *Store) Check(ctx context.Context, want Run) (Run, error) {
	r, err := s.Run(ctx, want.ID)
	if err != nil {
		return Run{}, err
	}
	return r, check(r, want)
}

func check(have, want Run) error {
	if have.RecipeDigest != want.RecipeDigest {
		return &MismatchError{Run: have.ID, What: "recipe"}
	}
	if have.VarsDigest != want.VarsDigest {
		return &MismatchError{Run: have.ID, What: "vars"}
	}
	return nil
}

// Run reads the record of run id; ErrNoRun (wrapped) when it has none.
func (s *Store) Run(ctx context.Context, id string) (Run, error) {
	var r Run
	found, err := s.getJSON(ctx, s.key(id, "run.json"), &r)
	if err != nil {
		return Run{}, fmt.Errorf("read run %s: %w", id, err)
	}
	if !found {
		// A bucket that does not exist reads as an object that does not:
		// listing tells them apart, so that the fix named is the right one.
		if _, err := s.obj.List(ctx, s.key(id, "run.json")); err != nil {
			return Run{}, fmt.Errorf("read run %s: %w", id, err)
		}
		return Run{}, fmt.Errorf("run %s in %s: %w", id, s, ErrNoRun)
	}
	if r.ID != id {
		return Run{}, fmt.Errorf("read run %s: its run.json is of run %q", id, r.ID)
	}
	if r.Started.IsZero() {
		// now() would be year 1 on every step.
		return Run{}, fmt.Errorf("read run %s: its run.json has no start (started): not one runner exec --init wrote", id)
	}
	return r, nil
}

// File is a file a task's outputs name, kept in the store.
type File struct {
	Path   string `json:"path"` // slash path relative to the working folder
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
	Mode   uint32 `json:"mode"` // permission bits
}

// Record is what the store keeps of a task, a plan or an instance: the
// state.Task fields, the files its outputs name, and for a plan its items.
type Record struct {
	state.Task
	Files []File `json:"files,omitempty"`
	// Items and Count are a plan's: the for_each list it decided. Count is
	// nil in any other record.
	Items []any `json:"items,omitempty"`
	Count *int  `json:"count,omitempty"`
}

// IsPlan reports whether rec is a for_each task's plan.
func (rec *Record) IsPlan() bool { return rec.Count != nil }

// TaskKey is the key of a task's record, relative to the run: a plain
// task's or a plan's for "id", instance N's for "id[N]".
func TaskKey(id string) string {
	if base, n, ok := instance(id); ok {
		return "tasks/" + escape(base) + "/" + strconv.Itoa(n) + ".json"
	}
	return "tasks/" + escape(id) + ".json"
}

// instance splits "id[N]" into id and N.
func instance(id string) (string, int, bool) {
	if !strings.HasSuffix(id, "]") {
		return "", 0, false
	}
	i := strings.LastIndexByte(id, '[')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(id[i+1 : len(id)-1])
	if err != nil || n < 0 || strconv.Itoa(n) != id[i+1:len(id)-1] {
		return "", 0, false
	}
	return id[:i], n, true
}

// Put writes rec, masked, as its task's record in run: one put, so a
// reader sees the whole record, the last one written.
func (s *Store) Put(ctx context.Context, run string, rec *Record) error {
	masked := *rec
	masked.Task = state.MaskTask(&rec.Task, s.masker)
	masked.Checksum, masked.Log = "", ""
	if rec.Items != nil {
		m := state.MaskTask(&state.Task{Outputs: rec.Items}, s.masker)
		masked.Items, _ = m.Outputs.([]any)
		masked.Masked = masked.Masked || m.Masked
	}
	data, err := json.MarshalIndent(&masked, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the record of %s: %w", rec.ID, err)
	}
	if err := s.put(ctx, s.key(run, TaskKey(rec.ID)), append(data, '\n')); err != nil {
		return fmt.Errorf("record %s in run %s: %w", rec.ID, run, err)
	}
	return nil
}

// Get reads the record of task (or "task[N]") in run; nil when there is none.
func (s *Store) Get(ctx context.Context, run, id string) (*Record, error) {
	var rec Record
	found, err := s.getJSON(ctx, s.key(run, TaskKey(id)), &rec)
	if err != nil {
		return nil, fmt.Errorf("read the record of %s in run %s: %w", id, run, err)
	}
	if !found {
		return nil, nil
	}
	if rec.ID != id {
		return nil, fmt.Errorf("read the record of %s in run %s: it is the record of %q", id, run, rec.ID)
	}
	if !knownStatus(rec.Status) {
		return nil, fmt.Errorf("read the record of %s in run %s: its status %s is none runner writes (%s): the store is damaged", id, run, quote.Text(string(rec.Status)), strings.Join(statusNames, ", "))
	}
	return &rec, nil
}

// statusNames are the statuses a record may hold.
var statusNames = []string{string(state.Pending), string(state.Running), string(state.Succeeded), string(state.Failed), string(state.Skipped), string(state.Cancelled)}

func knownStatus(s state.Status) bool {
	for _, n := range statusNames {
		if string(s) == n {
			return true
		}
	}
	return false
}

// Instances reads the records of a plan's instances, by index; nil for
// one with no record.
func (s *Store) Instances(ctx context.Context, run string, plan *Record) ([]*Record, error) {
	if !plan.IsPlan() {
		return nil, nil
	}
	out := make([]*Record, *plan.Count)
	for i := range out {
		rec, err := s.Get(ctx, run, fmt.Sprintf("%s[%d]", plan.ID, i))
		if err != nil {
			return nil, err
		}
		out[i] = rec
	}
	return out, nil
}

// maxRecord bounds what is read of a record or run.json: a record is
// small; an object this large is not one.
const maxRecord = 64 << 20

// getJSON decodes the object at key into v; false when there is none.
func (s *Store) getJSON(ctx context.Context, key string, v any) (bool, error) {
	rc, err := s.obj.Open(ctx, key)
	if errors.Is(err, objstore.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxRecord+1))
	if err != nil {
		return false, fmt.Errorf("read %s: %w", key, err)
	}
	if len(data) > maxRecord {
		return false, fmt.Errorf("%s is larger than %d MiB: not a record of runner's", key, maxRecord>>20)
	}
	// Numbers decode as state.json's do when a run is resumed: float64.
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("%s is not a record of runner's: %w", key, err)
	}
	return true, nil
}

func (s *Store) put(ctx context.Context, key string, data []byte) error {
	sum := sha256.Sum256(data)
	return s.obj.Put(ctx, key, bytes.NewReader(data), hex.EncodeToString(sum[:]), nil)
}
