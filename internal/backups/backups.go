// Package backups lists the backup sets under a target (s3://bucket/prefix
// or file://folder) as runner serve's Backups page shows them: name, date,
// objects, size, complete or not and why, and the exact command that
// restores each with the shipped recipes/restore.yaml. It reads the target
// with the code prune and s3get read it with (package backupset); it
// changes nothing there.
package backups

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/novelfactory/runner/internal/backupset"
	"github.com/novelfactory/runner/internal/objstore"
)

// DefaultRecipe is the restore recipe a RestoreCommand runs, as it is
// named from the repository's root.
const DefaultRecipe = "recipes/restore.yaml"

// Options say how to reach the target, and how to write the command.
type Options struct {
	Region    string   // the bucket's region; AWS_REGION when empty
	Endpoint  string   // an S3-compatible server; AWS_ENDPOINT_URL_S3 when empty
	PathStyle bool     // address buckets as endpoint/bucket
	Environ   []string // the environment: credentials, AWS_REGION, AWS_ENDPOINT_URL_S3
	// Dir is the folder a relative file:// target is relative to; the
	// current folder when empty. RestoreCommand names the folder absolute.
	Dir string
	// Recipe is the restore recipe as the command names it; DefaultRecipe
	// when empty.
	Recipe string
}

// Set is one backup set under the target.
type Set struct {
	Name     string    // its folder under the target: the day it was made, 20261129
	Date     time.Time // its manifest's creation; for an incomplete set, its newest object's time
	Objects  int       // the objects of the set (without the manifest and the marker)
	Size     int64     // their total size in bytes
	Complete bool      // its manifest is there and matches the objects: restore would take it
	// Problem says why an incomplete set is not one to restore: no
	// manifest yet (an upload that did not finish, or is running), or a
	// manifest that cannot be trusted, and why. "" for a complete set.
	Problem string
	// RestoreCommand restores the set with the shipped restore recipe,
	// shell-quoted; "" for a set that is not complete (restore refuses it).
	RestoreCommand string
}

// List returns the backup sets under target, newest first. Folders runner
// cannot prove it wrote (no manifest, no marker) are not backup sets and
// are left out, as prune leaves them alone.
func List(ctx context.Context, target string, opt Options) ([]Set, error) {
	loc, err := objstore.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("backups: %w", err)
	}
	if loc.Scheme == "file" && !filepath.IsAbs(loc.Dir) {
		dir := opt.Dir
		if dir == "" {
			dir = "."
		}
		if loc.Dir, err = filepath.Abs(filepath.Join(dir, loc.Dir)); err != nil {
			return nil, fmt.Errorf("backups: %w", err)
		}
	}
	store, err := objstore.Open(ctx, loc, objstore.Options{Region: opt.Region, Endpoint: opt.Endpoint, PathStyle: opt.PathStyle, Environ: opt.Environ})
	if err != nil {
		return nil, fmt.Errorf("backups: opening %s: %w", target, err)
	}
	listing, err := backupset.List(ctx, store, loc.Prefix)
	if err != nil {
		return nil, fmt.Errorf("backups: listing %s: %w", target, err)
	}
	source := canonical(loc)
	var sets []Set
	for i := len(listing.Sets) - 1; i >= 0; i-- {
		s := listing.Sets[i]
		if !s.Runners() {
			continue
		}
		out := Set{Name: s.Name, Date: s.Time, Complete: s.Complete()}
		for _, o := range s.Objects {
			if o.Key == s.Prefix+backupset.ManifestName || o.Key == s.Prefix+backupset.MarkerName {
				continue
			}
			out.Objects++
			out.Size += o.Size
		}
		switch {
		case s.Damaged != nil:
			out.Problem = "damaged: " + s.Damaged.Error()
		case !s.Complete():
			out.Problem = "incomplete: no " + backupset.ManifestName + " (an upload that did not finish, or one still running)"
		default:
			out.RestoreCommand = restoreCommand(source, s.Name, opt)
		}
		sets = append(sets, out)
	}
	return sets, nil
}

// canonical writes loc back as a URL without a trailing slash, as
// restore.yaml's source var takes it (the recipe adds the "/").
func canonical(loc objstore.Location) string {
	if loc.Scheme == "file" {
		return "file://" + strings.TrimSuffix(filepath.ToSlash(loc.Dir), "/")
	}
	return strings.TrimSuffix("s3://"+loc.Bucket+"/"+loc.Prefix, "/")
}

// restoreCommand is the runner command that restores the set called name.
func restoreCommand(source, name string, opt Options) string {
	recipe := opt.Recipe
	if recipe == "" {
		recipe = DefaultRecipe
	}
	args := []string{"runner", "apply", recipe, "--set", "source=" + source, "--set", "set=" + name}
	if opt.Region != "" {
		args = append(args, "--set", "region="+opt.Region)
	}
	if opt.Endpoint != "" {
		args = append(args, "--set", "endpoint="+opt.Endpoint)
	}
	if opt.PathStyle {
		args = append(args, "--set", "path_style=true")
	}
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote writes s so that a POSIX shell reads it back as one word.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:=@%+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
