package tasks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/backupset"
	"github.com/novelfactory/runner/tasks/internal/objstore"
)

// PruneParams are the params of the prune task.
type PruneParams struct {
	// The prefix whose sub-folders are backup sets: s3://bucket/weekly/ or file://folder/weekly/.
	Target string `yaml:"target" json:"target" required:"true"`
	// Keep the newest N complete sets.
	KeepLast int `yaml:"keep_last" json:"keep_last"`
	// For the newest N days that have a complete set, keep that day's newest.
	KeepDaily int `yaml:"keep_daily" json:"keep_daily"`
	// For the newest N ISO weeks that have a complete set, keep that week's newest.
	KeepWeekly int `yaml:"keep_weekly" json:"keep_weekly"`
	// For the newest N months that have a complete set, keep that month's newest.
	KeepMonthly int `yaml:"keep_monthly" json:"keep_monthly"`
	// Incomplete sets (no manifest.json) younger than this are left alone: a run may still be writing one.
	Grace    time.Duration `yaml:"grace" json:"grace" default:"24h"`
	S3Access `yaml:",inline" json:",inline"`
}

func init() {
	register(tasktype.Def[PruneParams]{
		Name:    "prune",
		Summary: "Delete old backup sets by a retention policy; never the newest complete one.",
		Doc: "Applies a retention policy to the backup sets under `target` with restic's semantics: `keep_last`, " +
			"`keep_daily`, `keep_weekly` and `keep_monthly` each keep sets, and a set kept by any rule stays. Only " +
			"complete sets (with manifest.json) count; incomplete ones are deleted once older than `grace`. The newest " +
			"complete set is never deleted, and a policy with no keep rule is an error. A dry run lists exactly what " +
			"would be deleted (it reads the target: a read-only probe).",
		Outputs: []tasktype.Output{
			{Name: "kept", Type: "list of string", Doc: "Names of the sets kept, oldest first."},
			{Name: "deleted", Type: "list of string", Doc: "Names of the sets deleted."},
			{Name: "objects", Type: "integer", Doc: "Objects deleted."},
		},
		Check: func(p *PruneParams) error {
			_, err := (backupset.Policy{Last: p.KeepLast, Daily: p.KeepDaily, Weekly: p.KeepWeekly, Monthly: p.KeepMonthly}).Apply(nil, time.Time{})
			if err != nil {
				return err
			}
			_, err = objstore.Parse(p.Target)
			return err
		},
		Plan: func(ctx context.Context, env *tasktype.Env, p *PruneParams) (tasktype.Plan, error) {
			decisions, _, err := pruneDecisions(ctx, env, p)
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

func pruneDecisions(ctx context.Context, env *tasktype.Env, p *PruneParams) ([]backupset.Decision, objstore.Store, error) {
	store, prefix, err := openTarget(ctx, env, p.Target, p.options(), "")
	if err != nil {
		return nil, nil, err
	}
	sets, err := backupset.List(ctx, store, prefix)
	if err != nil {
		return nil, nil, fmt.Errorf("list backup sets under %s: %w", p.Target, err)
	}
	policy := backupset.Policy{Last: p.KeepLast, Daily: p.KeepDaily, Weekly: p.KeepWeekly, Monthly: p.KeepMonthly, Grace: p.Grace}
	decisions, err := policy.Apply(sets, time.Now())
	return decisions, store, err
}

func runPrune(ctx context.Context, env *tasktype.Env, p *PruneParams) (tasktype.Outputs, error) {
	decisions, store, err := pruneDecisions(ctx, env, p)
	if err != nil {
		return nil, err
	}
	kept, deleted := []string{}, []string{}
	objects := 0
	for _, d := range decisions {
		if d.Keep {
			kept = append(kept, d.Set.Name)
			fmt.Fprintf(env.Log, "keep   %s (%s)\n", d.Set.Name, strings.Join(d.Reasons, ", "))
			continue
		}
		// The manifest goes first: a half-deleted set is then incomplete,
		// never mistaken for a complete one.
		var keys []string
		manifest := d.Set.Prefix + backupset.ManifestName
		for _, o := range d.Set.Objects {
			if o.Key == manifest {
				if err := store.Delete(ctx, []string{manifest}); err != nil {
					return nil, fmt.Errorf("delete set %s: %w", d.Set.Name, err)
				}
				continue
			}
			keys = append(keys, o.Key)
		}
		if err := store.Delete(ctx, keys); err != nil {
			return nil, fmt.Errorf("delete set %s: %w", d.Set.Name, err)
		}
		objects += len(d.Set.Objects)
		deleted = append(deleted, d.Set.Name)
		fmt.Fprintf(env.Log, "delete %s (%d objects)\n", d.Set.Name, len(d.Set.Objects))
	}
	return tasktype.Outputs{"kept": kept, "deleted": deleted, "objects": objects}, nil
}
