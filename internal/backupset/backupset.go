// Package backupset defines atomic backup sets on an object store: a run
// writes a marker (.runner-set) under one prefix, uploads its objects, and
// then, last, a manifest.json that lists every object with its size and
// SHA-256. A set without its manifest is incomplete: it is never restored
// nor counted for retention. A manifest that cannot be read, or that does
// not match the objects listed beside it, makes its set damaged: reported
// and passed over, never a reason to stop. A folder with neither marker
// nor manifest is not runner's. The package also decides, restic-style,
// which sets a retention policy keeps.
package backupset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/novelfactory/runner/internal/objstore"
)

// ManifestName is the object that completes a set.
const ManifestName = "manifest.json"

// MarkerName is the object a run writes into a set before anything else:
// it proves that runner made the folder, so that prune may delete it
// while it is still incomplete. Folders with neither marker nor manifest
// are never runner's to delete.
const MarkerName = ".runner-set"

// maxClockSkew is how far in the future a manifest's creation may be
// before the set is taken for damaged.
const maxClockSkew = 24 * time.Hour

// ManifestVersion is the manifest version this runner writes and reads.
//
// Compatibility rule: within a version, fields are only ever added, and a
// reader ignores fields it does not know (a manifest of a newer runner of
// the same version reads fine). A change an older runner could misread
// bumps the version; a runner reports a set of another version as one it
// cannot read, and passes over it.
const ManifestVersion = 1

// Manifest describes a complete set.
type Manifest struct {
	Version int       `json:"version"` // ManifestVersion
	Recipe  string    `json:"recipe"`
	Run     string    `json:"run"`
	Created time.Time `json:"created"`
	Objects []Entry   `json:"objects"`
}

// Entry is one object of a set, its key relative to the set's prefix.
type Entry struct {
	Key    string `json:"key"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Marker is the content of a set's marker object. Keys lists every object
// the runs that wrote into the set meant to write (relative to the set),
// before they wrote any: prune deletes those, and nothing else.
type Marker struct {
	Version int       `json:"version"`
	Recipe  string    `json:"recipe"`
	Run     string    `json:"run"`
	Started time.Time `json:"started"`
	Keys    []string  `json:"keys"`
}

// ReadMarker reads the marker of the set at setPrefix.
func ReadMarker(ctx context.Context, store objstore.Store, setPrefix string) (*Marker, error) {
	r, err := store.Open(ctx, setPrefix+MarkerName)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s%s: %w", setPrefix, MarkerName, err)
	}
	var m Marker
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read %s%s: not a marker (%v)", setPrefix, MarkerName, err)
	}
	return &m, nil
}

// Owned returns the keys of the set's objects that runner wrote, as far as
// it can prove it: the manifest and the marker, the objects a sound
// manifest lists, and the objects the marker (when readable) lists.
func (s *Set) Owned(ctx context.Context, store objstore.Store) map[string]bool {
	owned := map[string]bool{s.Prefix + ManifestName: true, s.Prefix + MarkerName: true}
	if s.Manifest != nil {
		for _, o := range s.Manifest.Objects {
			owned[s.Prefix+o.Key] = true
		}
	}
	if s.Marked {
		if m, err := ReadMarker(ctx, store, s.Prefix); err == nil {
			for _, k := range m.Keys {
				owned[s.Prefix+k] = true
			}
		}
	}
	return owned
}

// Set is one folder found under a target prefix.
type Set struct {
	Name     string    // the set's folder under the target prefix
	Prefix   string    // full key prefix of the set, ending in "/"
	Manifest *Manifest // nil: incomplete or damaged
	// Damaged says why a manifest that is there cannot be trusted:
	// unreadable, of another version, or not matching the objects.
	Damaged error
	Marked  bool      // the set has runner's marker
	Time    time.Time // the manifest's creation, or the newest object's time
	Objects []objstore.Object
}

// Complete reports whether the set has a sound manifest.
func (s *Set) Complete() bool { return s.Manifest != nil }

// Runners reports whether runner can prove it wrote the folder: it holds
// a manifest (sound or not) or the marker.
func (s *Set) Runners() bool { return s.Manifest != nil || s.Damaged != nil || s.Marked }

// Listing is what lies under a target prefix.
type Listing struct {
	Sets  []*Set            // every folder, oldest first
	Loose []objstore.Object // objects beside the folders, in none
}

// Foreign names what runner cannot prove it wrote: folders without
// manifest or marker, and loose objects.
func (l *Listing) Foreign() []string {
	var out []string
	for _, s := range l.Sets {
		if !s.Runners() {
			out = append(out, s.Name+"/")
		}
	}
	for _, o := range l.Loose {
		out = append(out, o.Key)
	}
	return out
}

// List finds the sets directly under prefix (prefix/NAME/...), oldest
// first. A manifest that cannot be read or does not match the objects
// marks its set as damaged; it never stops the listing.
func List(ctx context.Context, store objstore.Store, prefix string) (*Listing, error) {
	objects, err := store.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Set{}
	l := &Listing{}
	for _, o := range objects {
		rest := strings.TrimPrefix(o.Key, prefix)
		name, _, nested := strings.Cut(rest, "/")
		if !nested || name == "" {
			l.Loose = append(l.Loose, o)
			continue
		}
		s := byName[name]
		if s == nil {
			s = &Set{Name: name, Prefix: prefix + name + "/"}
			byName[name] = s
			l.Sets = append(l.Sets, s)
		}
		s.Objects = append(s.Objects, o)
		if o.Modified.After(s.Time) {
			s.Time = o.Modified
		}
	}
	for _, s := range l.Sets {
		hasManifest := false
		for _, o := range s.Objects {
			switch o.Key {
			case s.Prefix + MarkerName:
				s.Marked = true
			case s.Prefix + ManifestName:
				hasManifest = true
			}
		}
		if !hasManifest {
			continue
		}
		m, err := ReadManifest(ctx, store, s.Prefix+ManifestName)
		if err == nil {
			err = m.Matches(s.Objects, s.Prefix)
		}
		if err == nil && m.Created.After(time.Now().Add(maxClockSkew)) {
			// A clock wrong by years would make this set the newest for
			// ever: restored instead of the real newest, never pruned.
			err = fmt.Errorf("created %s, in the future of this machine's clock (%s): a wrong clock where it was written, or here",
				m.Created.UTC().Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339))
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			s.Damaged = err
			continue
		}
		s.Manifest, s.Time = m, m.Created
	}
	sort.SliceStable(l.Sets, func(i, j int) bool {
		if !l.Sets[i].Time.Equal(l.Sets[j].Time) {
			return l.Sets[i].Time.Before(l.Sets[j].Time)
		}
		return l.Sets[i].Name < l.Sets[j].Name
	})
	return l, nil
}

// Verify checks every object of a complete set against its manifest
// through the store: the size, and the SHA-256 the store knows (an S3
// object's metadata, which s3put sets; a file's content). Damage that
// keeps the sizes — a flipped bit in a SHA-256 of the manifest, or in an
// object of a folder — is found before the set is trusted.
func (s *Set) Verify(ctx context.Context, store objstore.Store) error {
	for _, o := range s.Manifest.Objects {
		obj, err := store.Stat(ctx, s.Prefix+o.Key)
		switch {
		case err != nil:
			return fmt.Errorf("%s: %w", o.Key, err)
		case obj.Size != o.Size:
			return fmt.Errorf("%s is %d bytes; the manifest says %d", o.Key, obj.Size, o.Size)
		case obj.SHA256 != "" && obj.SHA256 != o.SHA256:
			return fmt.Errorf("%s has SHA-256 %s; the manifest says %s", o.Key, obj.SHA256, o.SHA256)
		}
	}
	return nil
}

// ReadManifest reads and checks a manifest.
func ReadManifest(ctx context.Context, store objstore.Store, key string) (*Manifest, error) {
	r, err := store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	const limit = 64 << 20
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	if len(data) > limit {
		return nil, fmt.Errorf("read %s: over 64 MiB, not a manifest", key)
	}
	var probe struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("read %s: not a manifest (%v)", key, err)
	}
	if probe.Version != ManifestVersion {
		return nil, fmt.Errorf("read %s: manifest version %d; this runner reads version %d (a newer runner wrote it: upgrade runner to restore it)", key, probe.Version, ManifestVersion)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("read %s: not a manifest (%v)", key, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	return &m, nil
}

// validate checks what a reader relies on before it trusts an entry: a
// key inside the set, listed once; a size that can be; a SHA-256.
func (m *Manifest) validate() error {
	if len(m.Objects) == 0 {
		return errors.New("the manifest lists no object")
	}
	seen := map[string]bool{}
	for _, o := range m.Objects {
		clean := path.Clean(o.Key)
		switch {
		case o.Key == "" || clean != o.Key || path.IsAbs(o.Key) || clean == ".." || strings.HasPrefix(clean, "../") || strings.Contains(o.Key, `\`):
			return fmt.Errorf("the manifest lists %q, which is not a key inside the set", o.Key)
		case o.Key == ManifestName || o.Key == MarkerName:
			return fmt.Errorf("the manifest lists itself or the marker (%q)", o.Key)
		case seen[o.Key]:
			return fmt.Errorf("the manifest lists %q twice", o.Key)
		case o.Size < 0:
			return fmt.Errorf("the manifest gives %q a negative size (%d)", o.Key, o.Size)
		case !isSHA256(o.SHA256):
			return fmt.Errorf("the manifest gives %q no SHA-256 (%q)", o.Key, o.SHA256)
		}
		seen[o.Key] = true
	}
	return nil
}

// Matches checks the manifest against the objects the store listed under
// the set's prefix: every object it names is there, with its size. A
// reader checks this before it allocates or downloads anything.
func (m *Manifest) Matches(listed []objstore.Object, prefix string) error {
	sizes := make(map[string]int64, len(listed))
	for _, o := range listed {
		sizes[o.Key] = o.Size
	}
	for _, o := range m.Objects {
		size, ok := sizes[prefix+o.Key]
		switch {
		case !ok:
			return fmt.Errorf("the manifest lists %s, which is missing", o.Key)
		case size != o.Size:
			return fmt.Errorf("%s is %d bytes in the store; the manifest says %d", o.Key, size, o.Size)
		}
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// WriteManifest puts the manifest of a set, completing it.
func WriteManifest(ctx context.Context, store objstore.Store, setPrefix string, m *Manifest) (string, error) {
	return writeJSON(ctx, store, setPrefix+ManifestName, m)
}

// WriteMarker puts the marker of a set, before anything else of it.
func WriteMarker(ctx context.Context, store objstore.Store, setPrefix string, m *Marker) (string, error) {
	return writeJSON(ctx, store, setPrefix+MarkerName, m)
}

func writeJSON(ctx context.Context, store objstore.Store, key string, v any) (string, error) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", key, err)
	}
	data = append(data, '\n')
	if err := store.Put(ctx, key, bytesSource{bytes.NewReader(data)}, sha256Hex(data), nil); err != nil {
		return "", fmt.Errorf("write %s: %w", key, err)
	}
	return key, nil
}

type bytesSource struct{ *bytes.Reader }

func (b bytesSource) Size() int64 { return b.Reader.Size() }

// Policy is a retention policy, with restic's semantics.
type Policy struct {
	Last, Daily, Weekly, Monthly int
	Grace                        time.Duration // incomplete sets younger than this are left alone
	RemoveDamaged                bool          // damaged sets older than Grace go too; else they stay
}

// ErrNoPolicy is returned for a policy that keeps nothing on purpose.
var ErrNoPolicy = errors.New("no keep_* rule is set: a prune with no policy would delete every set but the newest; set keep_last, keep_daily, keep_weekly or keep_monthly")

// Decision says why a set is kept, or that it goes.
type Decision struct {
	Set     *Set
	Keep    bool
	Reasons []string // "last", "daily 2026-11-29", "newest complete", "incomplete, within grace", …
}

// Apply decides, for runner's sets sorted oldest first, which to keep.
// Complete sets: the newest Last ones; for the newest Daily days (Weekly
// ISO weeks, Monthly months) that have a set, the newest set of that day
// (week, month); and always the newest complete set, whatever the policy
// says. Incomplete sets count for nothing: they are deleted once older
// than the grace period, measured from now. Damaged sets count for
// nothing either, and stay unless RemoveDamaged. A set runner cannot
// prove it wrote is always kept (callers refuse to prune such a target).
func (p Policy) Apply(sets []*Set, now time.Time) ([]Decision, error) {
	for _, k := range []struct {
		name string
		n    int
	}{{"keep_last", p.Last}, {"keep_daily", p.Daily}, {"keep_weekly", p.Weekly}, {"keep_monthly", p.Monthly}} {
		if k.n < 0 {
			return nil, fmt.Errorf("%s is %d: give a number of sets to keep, 0 or more", k.name, k.n)
		}
	}
	if p.Last == 0 && p.Daily == 0 && p.Weekly == 0 && p.Monthly == 0 {
		return nil, ErrNoPolicy
	}
	decisions := make([]Decision, len(sets))
	var complete []int // newest first
	for i := len(sets) - 1; i >= 0; i-- {
		s := sets[i]
		decisions[i].Set = s
		switch {
		case s.Complete():
			complete = append(complete, i)
		case !s.Runners():
			decisions[i].Keep = true
			decisions[i].Reasons = []string{"not written by runner (no manifest.json, no " + MarkerName + ")"}
		case s.Damaged != nil && !p.RemoveDamaged:
			decisions[i].Keep = true
			decisions[i].Reasons = []string{"damaged: " + s.Damaged.Error() + " (remove_damaged: true deletes it)"}
		case now.Sub(s.Time) < p.Grace:
			decisions[i].Keep = true
			decisions[i].Reasons = []string{"incomplete, within the grace period (a run may still be writing it)"}
		}
	}
	keep := func(i int, reason string) {
		decisions[i].Keep = true
		decisions[i].Reasons = append(decisions[i].Reasons, reason)
	}
	for n, i := range complete {
		if n < p.Last {
			keep(i, "last")
		}
	}
	buckets := []struct {
		n      int
		name   string
		bucket func(time.Time) string
	}{
		{p.Daily, "daily", func(t time.Time) string { return t.UTC().Format("2006-01-02") }},
		{p.Weekly, "weekly", func(t time.Time) string { y, w := t.UTC().ISOWeek(); return fmt.Sprintf("%d-W%02d", y, w) }},
		{p.Monthly, "monthly", func(t time.Time) string { return t.UTC().Format("2006-01") }},
	}
	for _, b := range buckets {
		seen := map[string]bool{}
		for _, i := range complete {
			if len(seen) >= b.n {
				break
			}
			key := b.bucket(sets[i].Time)
			if !seen[key] {
				seen[key] = true
				keep(i, b.name+" "+key)
			}
		}
	}
	if len(complete) > 0 && !decisions[complete[0]].Keep {
		keep(complete[0], "newest complete set (never deleted)")
	}
	return decisions, nil
}

func sha256Hex(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}
