// Package backupset defines atomic backup sets on an object store: a run
// uploads its objects under one prefix and then, last, a manifest.json that
// lists every object with its size and SHA-256. A set without its manifest
// is incomplete: it is never restored nor counted for retention. The
// package also decides, restic-style, which sets a retention policy keeps.
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
	"sort"
	"strings"
	"time"

	"github.com/novelfactory/runner/tasks/internal/objstore"
)

// ManifestName is the object that completes a set.
const ManifestName = "manifest.json"

// Manifest describes a complete set.
type Manifest struct {
	Version int       `json:"version"` // 1
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

// Set is one backup set found under a target prefix.
type Set struct {
	Name     string    // the set's folder under the target prefix
	Prefix   string    // full key prefix of the set, ending in "/"
	Manifest *Manifest // nil: incomplete
	Time     time.Time // the manifest's creation, or the newest object's time
	Objects  []objstore.Object
}

// Complete reports whether the set has its manifest.
func (s *Set) Complete() bool { return s.Manifest != nil }

// List finds the sets directly under prefix (prefix/NAME/...), oldest first.
func List(ctx context.Context, store objstore.Store, prefix string) ([]*Set, error) {
	objects, err := store.List(ctx, prefix)
	if err != nil {
		return nil, err
	}
	byName := map[string]*Set{}
	var sets []*Set
	for _, o := range objects {
		rest := strings.TrimPrefix(o.Key, prefix)
		name, _, nested := strings.Cut(rest, "/")
		if !nested || name == "" {
			continue // an object beside the sets, not in one
		}
		s := byName[name]
		if s == nil {
			s = &Set{Name: name, Prefix: prefix + name + "/"}
			byName[name] = s
			sets = append(sets, s)
		}
		s.Objects = append(s.Objects, o)
		if o.Modified.After(s.Time) {
			s.Time = o.Modified
		}
	}
	for _, s := range sets {
		for _, o := range s.Objects {
			if o.Key != s.Prefix+ManifestName {
				continue
			}
			m, err := ReadManifest(ctx, store, o.Key)
			if err != nil {
				return nil, fmt.Errorf("set %s: %w", s.Name, err)
			}
			s.Manifest, s.Time = m, m.Created
		}
	}
	sort.SliceStable(sets, func(i, j int) bool {
		if !sets[i].Time.Equal(sets[j].Time) {
			return sets[i].Time.Before(sets[j].Time)
		}
		return sets[i].Name < sets[j].Name
	})
	return sets, nil
}

// ReadManifest reads and checks a manifest.
func ReadManifest(ctx context.Context, store objstore.Store, key string) (*Manifest, error) {
	r, err := store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("read %s: not a manifest: %w", key, err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("read %s: manifest version %d, this runner reads 1", key, m.Version)
	}
	return &m, nil
}

// WriteManifest puts the manifest of a set, completing it.
func WriteManifest(ctx context.Context, store objstore.Store, setPrefix string, m *Manifest) (string, error) {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode manifest: %w", err)
	}
	data = append(data, '\n')
	key := setPrefix + ManifestName
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
}

// ErrNoPolicy is returned for a policy that keeps nothing on purpose.
var ErrNoPolicy = errors.New("no keep_* rule is set: a prune with no policy would delete every set but the newest; set keep_last, keep_daily, keep_weekly or keep_monthly")

// Decision says why a set is kept, or that it goes.
type Decision struct {
	Set     *Set
	Keep    bool
	Reasons []string // "last", "daily 2026-11-29", "newest complete", "incomplete, within grace", …
}

// Apply decides, for sets sorted oldest first, which to keep. Complete
// sets: the newest Last ones; for the newest Daily days (Weekly ISO weeks,
// Monthly months) that have a set, the newest set of that day (week,
// month); and always the newest complete set, whatever the policy says.
// Incomplete sets count for nothing: they are deleted once older than the
// grace period, measured from now.
func (p Policy) Apply(sets []*Set, now time.Time) ([]Decision, error) {
	if p.Last <= 0 && p.Daily <= 0 && p.Weekly <= 0 && p.Monthly <= 0 {
		return nil, ErrNoPolicy
	}
	decisions := make([]Decision, len(sets))
	var complete []int // newest first
	for i := len(sets) - 1; i >= 0; i-- {
		decisions[i].Set = sets[i]
		if sets[i].Complete() {
			complete = append(complete, i)
		} else if now.Sub(sets[i].Time) < p.Grace {
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
