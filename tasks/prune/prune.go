// Package prune is the built-in task type `prune`: delete old backup sets by a retention policy; never the newest complete one.
// Registered with the others in package tasks.
package prune

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/backupset"
	"github.com/novelfactory/runner/internal/objstore"
	"github.com/novelfactory/runner/internal/s3params"
)

// Params are the params of the prune task.
type Params struct {
	// The prefix whose sub-folders are backup sets: s3://bucket/weekly/ or file://folder/weekly/.
	Target string `yaml:"target" json:"target" required:"true"`
	// Keep the newest N complete sets.
	KeepLast int `yaml:"keep_last" json:"keep_last" min:"0" shape:"a number of sets to keep, 0 or more"`
	// For the newest N days that have a complete set, keep that day's newest.
	KeepDaily int `yaml:"keep_daily" json:"keep_daily" min:"0" shape:"a number of sets to keep, 0 or more"`
	// For the newest N ISO weeks that have a complete set, keep that week's newest.
	KeepWeekly int `yaml:"keep_weekly" json:"keep_weekly" min:"0" shape:"a number of sets to keep, 0 or more"`
	// For the newest N months that have a complete set, keep that month's newest.
	KeepMonthly int `yaml:"keep_monthly" json:"keep_monthly" min:"0" shape:"a number of sets to keep, 0 or more"`
	// Incomplete sets (no manifest.json) younger than this are left alone: a run may still be writing one. At least 1h.
	Grace time.Duration `yaml:"grace" json:"grace" default:"24h"`
	// Delete damaged sets (a manifest that cannot be read or does not match its objects) once older than grace; without it they are kept and reported.
	RemoveDamaged   bool `yaml:"remove_damaged" json:"remove_damaged"`
	s3params.Access `yaml:",inline" json:",inline"`

	target objstore.Location // Target, parsed by Check
}

// minGrace is the shortest grace prune accepts: a shorter one could delete
// a set while a slow upload is still writing it.
const minGrace = time.Hour

// Register adds the prune task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: params.JoinDocs(fieldDoc, s3params.FieldDoc),
		Name:      "prune",
		Summary:   "Delete old backup sets by a retention policy; never the newest complete one.",
		Doc: "Applies a retention policy to the backup sets under `target` with restic's semantics: `keep_last`, " +
			"`keep_daily`, `keep_weekly` and `keep_monthly` each keep sets, and a set kept by any rule stays. Only " +
			"complete sets (with manifest.json) count; incomplete ones are deleted once older than `grace` (at least 1h). " +
			"The newest complete set is never deleted, and a policy with no keep rule is an error. prune deletes only " +
			"what runner can prove it wrote — folders with a manifest.json or the .runner-set marker s3put writes " +
			"first, and in them the objects those list — and refuses a target that holds anything else, naming it (a " +
			"target one level too high). Before deleting, it checks the newest set that stays (every object's size and " +
			"SHA-256): one that is off is taken for damaged, so an older restorable set is never lost for it. A damaged " +
			"set is reported and kept unless `remove_damaged: true`. Temp files and S3 multipart uploads that killed " +
			"runs left under the target, older than `grace`, are removed. A dry run lists exactly what would be deleted " +
			"(it reads the target: a read-only probe).",
		Outputs: []tasktype.Output{
			{Name: "kept", Type: "list of string", Doc: "Names of the sets kept, oldest first."},
			{Name: "deleted", Type: "list of string", Doc: "Names of the sets deleted."},
			{Name: "objects", Type: "integer", Doc: "Objects deleted."},
			{Name: "damaged", Type: "list of string", Doc: "Names of the damaged sets found (kept unless remove_damaged)."},
			{Name: "abandoned", Type: "list of string", Doc: "Temp files and multipart uploads of killed runs that were removed."},
		},
		Examples: []tasktype.Example{
			{Title: "Keep four weekly sets and six monthly ones", YAML: `prune:
  uses: prune
  with:
    target: s3://factory-backups/weekly/
    keep_last: 4
    keep_monthly: 6
    region: ap-northeast-2
`},
		},
		Check: func(p *Params) error {
			_, err := p.policy().Apply(nil, time.Time{})
			if err != nil {
				return err
			}
			if p.Grace < minGrace {
				return params.At("grace", fmt.Errorf("grace %s: a set younger than that may still be uploading; use at least %s", p.Grace, minGrace))
			}
			p.target, err = s3params.Target("target", p.Target)
			return err
		},
		Plan: func(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			decisions, _, _, err := pruneDecisions(ctx, env, p)
			if err != nil {
				return tasktype.Plan{}, err
			}
			var gone []string
			for _, d := range decisions {
				if !d.Keep {
					gone = append(gone, fmt.Sprintf("%s (%d objects)", d.Set.Name, len(d.Set.Objects)))
				}
			}
			if len(gone) == 0 {
				return tasktype.Plan{Summary: fmt.Sprintf("would keep all %d sets under %s", len(decisions), p.Target)}, nil
			}
			return tasktype.Plan{Summary: fmt.Sprintf("would delete %d of %d sets under %s: %s", len(gone), len(decisions), p.Target, strings.Join(gone, ", "))}, nil
		},
		Run: runPrune,
	})
}

func (p *Params) policy() backupset.Policy {
	return backupset.Policy{Last: p.KeepLast, Daily: p.KeepDaily, Weekly: p.KeepWeekly, Monthly: p.KeepMonthly, Grace: p.Grace, RemoveDamaged: p.RemoveDamaged}
}

func pruneDecisions(ctx context.Context, env *tasktype.Env, p *Params) ([]backupset.Decision, objstore.Store, string, error) {
	store, prefix, err := s3params.OpenTarget(ctx, env, p.target, p.Options())
	if err != nil {
		return nil, nil, "", err
	}
	listing, err := backupset.List(ctx, store, prefix)
	if err != nil {
		return nil, nil, "", fmt.Errorf("list backup sets under %s: %w", p.Target, err)
	}
	if err := refuseForeign(p.Target, listing); err != nil {
		return nil, nil, "", err
	}
	// The newest complete set that stays must be restorable, or prune would
	// delete the older ones that are: check its objects (size and SHA-256)
	// and, if one is off, take it for damaged and decide again.
	for {
		decisions, err := p.policy().Apply(listing.Sets, time.Now())
		if err != nil {
			return nil, nil, "", err
		}
		newest := newestKept(decisions)
		if newest == nil {
			return decisions, store, prefix, nil
		}
		if err := newest.Verify(ctx, store); err != nil {
			if ctx.Err() != nil {
				return nil, nil, "", ctx.Err()
			}
			newest.Damaged, newest.Manifest = err, nil
			continue
		}
		return decisions, store, prefix, nil
	}
}

// newestKept is the newest complete set the decisions keep.
func newestKept(decisions []backupset.Decision) *backupset.Set {
	for i := len(decisions) - 1; i >= 0; i-- {
		if d := decisions[i]; d.Keep && d.Set.Complete() {
			return d.Set
		}
	}
	return nil
}

// refuseForeign refuses a target that holds what runner did not write: a
// target one level too high (a bucket root, a shared folder) would
// otherwise have its unrelated folders deleted as "incomplete sets".
func refuseForeign(target string, l *backupset.Listing) error {
	foreign := l.Foreign()
	if len(foreign) == 0 {
		return nil
	}
	hint := ""
	for _, s := range l.Sets {
		if s.Runners() {
			continue
		}
		for _, o := range s.Objects {
			if strings.HasSuffix(o.Key, "/"+backupset.ManifestName) && strings.Count(strings.TrimPrefix(o.Key, s.Prefix), "/") == 1 {
				hint = fmt.Sprintf("; %s holds backup sets itself: is target one level too high (%s%s)?", s.Name+"/", strings.TrimSuffix(target, "/")+"/", s.Name+"/")
				break
			}
		}
		if hint != "" {
			break
		}
	}
	shown := foreign
	if len(shown) > 10 {
		shown = append(shown[:10:10], fmt.Sprintf("… and %d more", len(foreign)-10))
	}
	return fmt.Errorf("refusing to prune %s: it holds %d things runner did not write as backup sets (no manifest.json, no %s): %s%s. "+
		"prune deletes only runner's sets; point target at the folder that holds only them, or move these away",
		target, len(foreign), backupset.MarkerName, strings.Join(shown, ", "), hint)
}

func runPrune(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	decisions, store, prefix, err := pruneDecisions(ctx, env, p)
	if err != nil {
		return nil, err
	}
	kept, deleted, damaged := []string{}, []string{}, []string{}
	objects := 0
	for _, d := range decisions {
		if d.Set.Damaged != nil {
			damaged = append(damaged, d.Set.Name)
		}
		if d.Keep {
			kept = append(kept, d.Set.Name)
			fmt.Fprintf(env.Log, "keep   %s (%s)\n", d.Set.Name, strings.Join(d.Reasons, ", "))
			continue
		}
		n, left, err := deleteSet(ctx, store, d.Set)
		if err != nil {
			return nil, err
		}
		objects += n
		deleted = append(deleted, d.Set.Name)
		fmt.Fprintf(env.Log, "delete %s (%d objects)\n", d.Set.Name, n)
		for _, key := range left {
			fmt.Fprintf(env.Log, "  left %s: runner did not write it (the set's marker is kept, so the folder stays runner's)\n", key)
		}
	}
	// What killed runs left is worth removing, not worth failing for: the
	// sets are pruned already.
	owned := map[string]bool{}
	for _, d := range decisions {
		if d.Set.Runners() {
			for key := range d.Set.Owned(ctx, store) {
				owned[key] = true
			}
		}
	}
	abandoned, err := store.RemoveAbandoned(ctx, prefix, time.Now().Add(-p.Grace), func(key string) bool { return owned[key] })
	if err != nil {
		fmt.Fprintf(env.Log, "warning: could not remove what killed runs left under %s: %v\n", p.Target, err)
	}
	if abandoned == nil {
		abandoned = []string{}
	}
	for _, a := range abandoned {
		fmt.Fprintf(env.Log, "removed %s, left by a killed run\n", a)
	}
	return tasktype.Outputs{"kept": kept, "deleted": deleted, "objects": objects, "damaged": damaged, "abandoned": abandoned}, nil
}

// deleteSet deletes what runner wrote of a set: the manifest first, so
// that a half-deleted set is incomplete, never mistaken for a complete
// one; the marker last, so that the folder is runner's until the end. An
// object runner cannot prove it wrote — one put there by hand — is left,
// with the marker. It returns the objects deleted and those left.
func deleteSet(ctx context.Context, store objstore.Store, s *backupset.Set) (int, []string, error) {
	owned := s.Owned(ctx, store)
	manifest, marker := s.Prefix+backupset.ManifestName, s.Prefix+backupset.MarkerName
	var mine, left []string
	hasManifest, hasMarker := false, false
	for _, o := range s.Objects {
		switch {
		case o.Key == manifest:
			hasManifest = true
		case o.Key == marker:
			hasMarker = true
		case owned[o.Key]:
			mine = append(mine, o.Key)
		default:
			left = append(left, o.Key)
		}
	}
	n := 0
	if hasManifest {
		if err := store.Delete(ctx, []string{manifest}); err != nil {
			return n, left, fmt.Errorf("delete set %s: %w", s.Name, err)
		}
		n++
	}
	if err := store.Delete(ctx, mine); err != nil {
		return n, left, fmt.Errorf("delete set %s: %w", s.Name, err)
	}
	n += len(mine)
	if hasMarker && len(left) == 0 {
		if err := store.Delete(ctx, []string{marker}); err != nil {
			return n, left, fmt.Errorf("delete set %s: %w", s.Name, err)
		}
		n++
	}
	return n, left, nil
}
