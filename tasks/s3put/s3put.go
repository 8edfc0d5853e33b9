// Package s3put is the built-in task type `s3put`: upload files to S3 (or a folder) as one verified, atomic backup set.
// Registered with the others in package tasks.
package s3put

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/backupset"
	"github.com/novelfactory/runner/internal/glob"
	"github.com/novelfactory/runner/internal/objstore"
	"github.com/novelfactory/runner/internal/regfile"
	"github.com/novelfactory/runner/internal/s3params"
	"github.com/novelfactory/runner/tasks/internal/bytesize"
	"github.com/novelfactory/runner/tasks/internal/filehash"
	"github.com/novelfactory/runner/tasks/internal/fileset"
)

// Params are the params of the s3put task.
type Params struct {
	// Files to upload (paths or globs, relative to the recipe); each goes to the target under its base name.
	Files []string `yaml:"files" json:"files"`
	// Or a directory: every file under it, keys keeping their relative paths (symlinks are followed).
	Src params.Path `yaml:"src" json:"src"`
	// Accept a src with no file in it; without it an empty source is an error, never an empty backup set.
	AllowEmpty bool `yaml:"allow_empty" json:"allow_empty"`
	// Where to: s3://bucket/prefix/ or file://folder/ (the same semantics, no account needed).
	To string `yaml:"to" json:"to" required:"true"`
	// Write manifest.json last, listing every object with its size and SHA-256: the upload becomes a complete backup set.
	Manifest        bool `yaml:"manifest" json:"manifest" default:"true"`
	s3params.Access `yaml:",inline" json:",inline"`
	// S3 storage class, e.g. STANDARD_IA or GLACIER_IR.
	StorageClass string `yaml:"storage_class" json:"storage_class"`
	// Server-side encryption: AES256 or aws:kms.
	SSE               string `yaml:"sse" json:"sse" enum:",AES256,aws:kms"`
	s3params.Transfer `yaml:",inline" json:",inline"`

	to objstore.Location // To, parsed by Check
}

// Register adds the s3put task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: params.JoinDocs(fieldDoc, s3params.FieldDoc),
		Name:      "s3put",
		Summary:   "Upload files to S3 (or a folder) as one verified, atomic backup set.",
		Doc: "Uploads `files` (or everything under `src`) to `to`, an s3:// prefix (aws-sdk-go-v2, the standard credential " +
			"chain, custom endpoints) or a file:// folder with the same semantics. Every object is sent with its SHA-256, " +
			"which the store checks, and keeps it in its metadata; an object already there with the same SHA-256 is not sent " +
			"again. Large files go in parallel multipart uploads, read from disk as they are sent. A set starts with a " +
			".runner-set marker (so prune knows the folder is runner's) and ends with manifest.json, which lists every " +
			"object: a prefix without it is an incomplete set, never restored nor counted by prune. Errors say what " +
			"to do (wrong region, bad signature, missing bucket, denied access, expired credentials); network faults and " +
			"5xx are retried.",
		Outputs: []tasktype.Output{
			{Name: "url", Type: "string", Doc: "The target prefix."},
			{Name: "keys", Type: "list of string", Doc: "URLs of the objects, in upload order."},
			{Name: "bytes", Type: "integer", Doc: "Total size of the objects."},
			{Name: "uploaded", Type: "integer", Doc: "Objects sent."},
			{Name: "unchanged", Type: "integer", Doc: "Objects already there with the same SHA-256, not sent again."},
			{Name: "manifest", Type: "string", Doc: "URL of manifest.json (empty with manifest: false)."},
		},
		Examples: []tasktype.Example{
			{Title: "Upload this week's dump and zips as one backup set", YAML: `upload:
  uses: s3put
  retry: {attempts: 4, delay: 10s, backoff: 3, on: [transient, timeout]}
  with:
    files: [build/neo4j.dump, build/Pilot-episodes.zip]
    to: s3://factory-backups/weekly/20261129/
    region: ap-northeast-2
`},
		},
		Check: func(p *Params) error {
			if (len(p.Files) == 0) == (p.Src == "") {
				return errors.New("give either files or src")
			}
			if err := p.Transfer.Check(); err != nil {
				return err
			}
			var err error
			p.to, err = s3params.Target("to", p.To)
			return err
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			then := map[bool]string{true: ", then manifest.json"}[p.Manifest]
			files, err := putFiles(env, p)
			if errors.Is(err, os.ErrNotExist) {
				// In a dry run, earlier tasks have not made their files yet.
				return tasktype.Plan{Summary: fmt.Sprintf("would upload %s (made by earlier tasks) to %s%s", countFiles(p), p.To, then), Outputs: tasktype.Outputs{"url": p.To}}, nil
			}
			if err != nil {
				return tasktype.Plan{}, err
			}
			var total int64
			for _, f := range files {
				total += f.size
			}
			return tasktype.Plan{
				Summary: fmt.Sprintf("would upload %d files, %s, to %s%s", len(files), bytesize.Format(total), p.To, then),
				Outputs: tasktype.Outputs{"url": p.To},
			}, nil
		},
		Run: runS3Put,
	})
}

func countFiles(p *Params) string {
	if p.Src != "" {
		return "the files under " + string(p.Src)
	}
	return fmt.Sprintf("%d files", len(p.Files))
}

type putFile struct {
	path, key string
	size      int64
}

// putFiles resolves the files to upload and their keys under the target.
func putFiles(env *tasktype.Env, p *Params) ([]putFile, error) {
	var out []putFile
	seen := map[string]string{}
	add := func(path, rel string) error {
		info, err := os.Stat(path)
		if err != nil {
			return fmt.Errorf("upload %s: %w", path, err)
		}
		if info.IsDir() {
			return fmt.Errorf("upload %s: a directory; use src to upload a directory", path)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("upload %s: %w", path, regfile.ErrNotRegular)
		}
		if other, dup := seen[rel]; dup {
			return fmt.Errorf("%s and %s would both be stored as %q", other, path, rel)
		}
		seen[rel] = path
		out = append(out, putFile{path: path, key: rel, size: info.Size()})
		return nil
	}
	if p.Src != "" {
		entries, err := fileset.Walk(string(p.Src), fileset.Options{Links: fileset.FollowLinks, Skipped: func(rel, why string) {
			fmt.Fprintf(env.Log, "left out %s: %s\n", rel, why)
		}})
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if err := add(e.Path, e.Rel); err != nil {
				return nil, err
			}
		}
		if len(out) == 0 && !p.AllowEmpty {
			return nil, fmt.Errorf("upload %s: no files: an empty backup set is refused (set allow_empty: true if an empty source is expected)", p.Src)
		}
		return out, nil
	}
	for _, pattern := range p.Files {
		matches := []string{pattern}
		if strings.ContainsAny(pattern, "*?[{") {
			var err error
			if matches, err = glob.Match(env.Dir, pattern); err != nil {
				return nil, err
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("files: %q matches no file", pattern)
			}
		}
		for _, m := range matches {
			if err := add(env.Path(m), filepath.Base(m)); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func runS3Put(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	files, err := putFiles(env, p)
	if err != nil {
		return nil, err
	}
	store, prefix, err := s3params.OpenTarget(ctx, env, p.to, p.Access.With(objstore.Options{
		StorageClass: p.StorageClass, SSE: p.SSE, Concurrency: p.Concurrency, PartSize: int64(p.PartSize)}))
	if err != nil {
		return nil, err
	}
	var total, done int64
	for _, f := range files {
		total += f.size
	}
	manifest := &backupset.Manifest{Version: backupset.ManifestVersion, Recipe: env.Recipe, Run: env.RunID, Created: time.Now().UTC()}
	if p.Manifest {
		if err := markSet(ctx, store, prefix, p.To, files, &backupset.Marker{Version: backupset.ManifestVersion, Recipe: env.Recipe, Run: env.RunID, Started: manifest.Created}); err != nil {
			return nil, err
		}
	}
	var keys []string
	uploaded, unchanged := 0, 0
	for _, f := range files {
		key := prefix + f.key
		sum, err := filehash.SHA256(ctx, f.path)
		if err != nil {
			return nil, err
		}
		if obj, err := store.Stat(ctx, key); err == nil && obj.Size == f.size && obj.SHA256 == sum {
			fmt.Fprintf(env.Log, "unchanged: %s (%s, sha256 %s)\n", key, bytesize.Format(f.size), sum[:12])
			unchanged++
		} else {
			if err != nil && !errors.Is(err, objstore.ErrNotExist) {
				return nil, err
			}
			base := done
			if err := putFileTo(ctx, store, key, f, sum, func(n int64) { env.Progress.Progress(base+n, total) }); err != nil {
				return nil, err
			}
			fmt.Fprintf(env.Log, "uploaded: %s (%s, sha256 %s)\n", key, bytesize.Format(f.size), sum[:12])
			uploaded++
		}
		done += f.size
		env.Progress.Progress(done, total)
		keys = append(keys, targetURL(p.To, f.key))
		manifest.Objects = append(manifest.Objects, backupset.Entry{Key: f.key, Size: f.size, SHA256: sum})
	}
	out := tasktype.Outputs{"url": p.To, "keys": keys, "bytes": total, "uploaded": uploaded, "unchanged": unchanged, "manifest": ""}
	if p.Manifest {
		if _, err := backupset.WriteManifest(ctx, store, prefix, manifest); err != nil {
			return nil, err
		}
		out["manifest"] = targetURL(p.To, backupset.ManifestName)
		fmt.Fprintf(env.Log, "set complete: %s\n", out["manifest"])
	}
	return out, nil
}

// markSet writes the set's marker before anything else, listing every key
// the run will write — with those of earlier runs into the same set — so
// that prune may delete them, and nothing else. A set needs a folder of
// its own: one that holds objects runner did not write is refused.
func markSet(ctx context.Context, store objstore.Store, prefix, to string, files []putFile, m *backupset.Marker) error {
	existing, err := store.List(ctx, prefix)
	if err != nil {
		return err
	}
	keys := map[string]bool{}
	if len(existing) > 0 {
		set := &backupset.Set{Prefix: prefix, Objects: existing}
		for _, o := range existing {
			set.Marked = set.Marked || o.Key == prefix+backupset.MarkerName
		}
		if old, err := backupset.ReadManifest(ctx, store, prefix+backupset.ManifestName); err == nil {
			set.Manifest = old // a set of runner's written before markers
		}
		owned := set.Owned(ctx, store)
		var foreign []string
		for _, o := range existing {
			if !owned[o.Key] {
				foreign = append(foreign, strings.TrimPrefix(o.Key, prefix))
			}
		}
		if len(foreign) > 0 {
			if len(foreign) > 5 {
				foreign = append(foreign[:5:5], fmt.Sprintf("… and %d more", len(foreign)-5))
			}
			return fmt.Errorf("%s already holds %s, which runner did not write: a backup set needs a folder of its own (prune deletes a set's folder), so use another prefix",
				to, strings.Join(foreign, ", "))
		}
		for key := range owned {
			if rel := strings.TrimPrefix(key, prefix); rel != backupset.ManifestName && rel != backupset.MarkerName {
				keys[rel] = true
			}
		}
	}
	for _, f := range files {
		keys[f.key] = true
	}
	for k := range keys {
		m.Keys = append(m.Keys, k)
	}
	sort.Strings(m.Keys)
	_, err = backupset.WriteMarker(ctx, store, prefix, m)
	return err
}

// putFileTo uploads one file and checks what the store now holds.
func putFileTo(ctx context.Context, store objstore.Store, key string, f putFile, sum string, progress func(int64)) error {
	file, err := regfile.Open(f.path)
	if err != nil {
		return fmt.Errorf("upload %s: %w", f.path, err)
	}
	defer file.Close()
	if err := store.Put(ctx, key, &fileSource{File: file, size: f.size}, sum, progress); err != nil {
		return err
	}
	obj, err := store.Stat(ctx, key)
	if err != nil {
		return fmt.Errorf("verify %s: %w", key, err)
	}
	if obj.Size != f.size || obj.SHA256 != sum {
		return fmt.Errorf("verify %s: the store holds %d bytes with sha256 %q; sent %d bytes with sha256 %s", key, obj.Size, obj.SHA256, f.size, sum)
	}
	return nil
}

// targetURL names an object under a target prefix URL.
func targetURL(target, rel string) string {
	return strings.TrimSuffix(target, "/") + "/" + rel
}

type fileSource struct {
	*os.File
	size int64
}

func (f *fileSource) Size() int64 { return f.size }
