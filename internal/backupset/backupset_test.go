package backupset_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/novelfactory/runner/internal/backupset"
)

var now = time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)

// sets makes sets named by their day offsets from now ("-1" = yesterday);
// a name ending in "!" is incomplete.
func sets(specs ...string) []*backupset.Set {
	var out []*backupset.Set
	for _, spec := range specs {
		var hours int
		incomplete := spec[len(spec)-1] == '!'
		name := spec
		if incomplete {
			spec = spec[:len(spec)-1]
		}
		for _, c := range spec {
			if c >= '0' && c <= '9' {
				hours = hours*10 + int(c-'0')
			}
		}
		s := &backupset.Set{Name: name, Time: now.Add(-time.Duration(hours) * time.Hour)}
		if incomplete {
			s.Marked = true // a run of runner's that did not finish
		} else {
			s.Manifest = &backupset.Manifest{Version: 1, Created: s.Time}
		}
		out = append([]*backupset.Set{s}, out...) // oldest first
	}
	return out
}

func kept(t *testing.T, p backupset.Policy, in []*backupset.Set) []string {
	t.Helper()
	ds, err := p.Apply(in, now)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range ds {
		if d.Keep {
			names = append(names, d.Set.Name)
		}
	}
	return names
}

func TestRetentionPolicies(t *testing.T) {
	// Names are hours before now; listed newest first.
	daily := sets("h1", "h25", "h49", "h73", "h97", "h121", "h145", "h169", "h193", "h217")
	cases := []struct {
		name   string
		policy backupset.Policy
		sets   []*backupset.Set
		want   []string // oldest first
	}{
		{"keep_last keeps the newest N", backupset.Policy{Last: 3}, daily, []string{"h49", "h25", "h1"}},
		{"keep_daily keeps one per day for N days", backupset.Policy{Daily: 2},
			sets("h1", "h2", "h25", "h26", "h49"), []string{"h25", "h1"}},
		// now is a Sunday: ISO weeks start on Monday, so h169 (last
		// Sunday) is the newest set of the week before.
		{"keep_weekly keeps each ISO week's newest", backupset.Policy{Weekly: 2}, daily, []string{"h169", "h1"}},
		{"rules add up", backupset.Policy{Last: 1, Monthly: 2},
			sets("h1", "h200", "h800", "h1500"), []string{"h800", "h1"}},
		{"incomplete sets count for nothing and go after the grace period", backupset.Policy{Last: 1, Grace: 24 * time.Hour},
			sets("h2!", "h30!", "h50", "h70"), []string{"h50", "h2!"}},
		{"the newest complete set survives even behind newer failed runs", backupset.Policy{Last: 1},
			sets("h1!", "h20!", "h300"), []string{"h300"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := kept(t, c.policy, c.sets); !reflect.DeepEqual(got, c.want) {
				t.Errorf("kept %v, want %v", got, c.want)
			}
		})
	}
}

func TestAPolicyThatWouldDeleteEverythingIsRefused(t *testing.T) {
	if _, err := (backupset.Policy{}).Apply(sets("h1", "h2"), now); !errors.Is(err, backupset.ErrNoPolicy) {
		t.Fatalf("got %v", err)
	}
}

// TestANegativeKeepIsNamed: keep_last: -3 was reported as "no keep_* rule
// is set".
func TestANegativeKeepIsNamed(t *testing.T) {
	_, err := (backupset.Policy{Last: -3, Daily: 7}).Apply(sets("h1", "h2"), now)
	if err == nil || err.Error() != "keep_last is -3: give a number of sets to keep, 0 or more" {
		t.Fatalf("got %v", err)
	}
}
