// Package zip is the built-in task type `zip`: pack a directory into a zip file, on every core.
// Registered with the others in package tasks.
package zip

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/zipsafe"
	"github.com/novelfactory/runner/tasks/internal/bytesize"
	"github.com/novelfactory/runner/tasks/internal/fileset"
	"github.com/novelfactory/runner/tasks/internal/pzip"
)

// Params are the params of the zip task.
type Params struct {
	// Directory to pack, relative to the recipe's directory.
	Src params.Path `yaml:"src" json:"src" required:"true"`
	// Zip file to write. It is written to a temporary file and renamed into place.
	Dest params.Path `yaml:"dest" json:"dest" required:"true"`
	// Globs of files to pack, relative to src (** for any depth); every file when empty.
	Include []string `yaml:"include" json:"include"`
	// Globs of files to leave out; a glob without / matches names at any depth.
	Exclude []string `yaml:"exclude" json:"exclude"`
	// Deflate level: 0 stores, 1 is fastest, 9 smallest. Already-compressed files (jpg, png, zip, gz …) are always stored.
	Level int `yaml:"level" json:"level" default:"6"`
	// Fixed timestamps and modes, so that the same files give the same bytes.
	Reproducible bool `yaml:"reproducible" json:"reproducible"`
	// Symlinks under src: keep stores a link that leads to a file or folder inside src as a link (unzip restores it); follow stores what each link points to, wherever it is.
	Links string `yaml:"links" json:"links" default:"keep" enum:"keep,follow"`
	// Accept a src with no file to pack; without it an empty source is an error, never an empty backup.
	AllowEmpty bool `yaml:"allow_empty" json:"allow_empty"`
}

// Register adds the zip task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: fieldDoc,
		Name:      "zip",
		Summary:   "Pack a directory into a zip file, on every core.",
		Doc: "Packs the files under `src` (optionally filtered by `include` and `exclude` globs) into `dest`, in " +
			"sorted order, with UTF-8 names (Hangul shows right in every unzip). Files are deflated in 1 MiB chunks " +
			"on all cores, so memory stays flat for files of any size. Already-compressed formats are stored. With " +
			"`reproducible: true` timestamps and modes are fixed, so the same input gives the same bytes. The archive " +
			"is written to a temporary file and renamed into place: a failed run never leaves half a zip at `dest`. " +
			"A `src` that is a symlink is followed. With `links: keep` a link inside `src` that leads inside `src` is " +
			"stored as a relative link (unzip restores it); a link leading outside, or to something the archive leaves out, is an error naming it — set " +
			"`links: follow` to store what it points to. Links to nothing, sockets and pipes are left out and listed " +
			"in the log; a link loop is an error. A file that changes while it is read is an error, never a torn copy. Every name and link is checked with unzip's rules before anything is written, and a source " +
			"with no file is an error unless `allow_empty: true`.",
		Outputs: []tasktype.Output{
			{Name: "path", Type: "string", Doc: "Absolute path of the zip file."},
			{Name: "bytes", Type: "integer", Doc: "Size of the zip file."},
			{Name: "files", Type: "integer", Doc: "Number of files packed."},
			{Name: "sha256", Type: "string", Doc: "SHA-256 of the zip file, hex."},
		},
		Examples: []tasktype.Example{
			{Title: "One reproducible zip of a project's episodes", YAML: `zip-episodes:
  uses: zip
  with:
    src: projects/Pilot/episodes
    dest: build/Pilot-episodes.zip
    reproducible: true
`},
		},
		Check: func(p *Params) error {
			if p.Level < 0 || p.Level > 9 {
				return params.At("level", fmt.Errorf("level %d: use 0 (store) to 9", p.Level))
			}
			return nil
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			entries, err := zipEntries(env, p, io.Discard)
			if err != nil {
				return tasktype.Plan{}, err
			}
			return tasktype.Plan{
				Summary: fmt.Sprintf("would zip %d files (%s) from %s into %s", len(entries), bytesize.Format(fileset.Size(entries)), p.Src, p.Dest),
				Outputs: tasktype.Outputs{"path": string(p.Dest)},
			}, nil
		},
		Run: runZip,
	})
}

// zipEntries lists what the archive will hold and checks it with unzip's
// own rules, so that a backup is refused today rather than on restore day.
// What is left out is said in log.
func zipEntries(env *tasktype.Env, p *Params, log io.Writer) ([]fileset.Entry, error) {
	src, dest := string(p.Src), string(p.Dest)
	root, err := filepath.EvalSymlinks(src)
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", src, err)
	}
	mode := fileset.KeepLinks
	if p.Links == "follow" {
		mode = fileset.FollowLinks
	}
	entries, err := fileset.Walk(root, fileset.Options{
		Include: p.Include, Exclude: p.Exclude, Dirs: true, Links: mode,
		Skip:    []string{dest}, // a zip written inside its own source
		Skipped: func(rel, why string) { fmt.Fprintf(log, "left out %s: %s\n", rel, why) },
	})
	if err != nil {
		return nil, fmt.Errorf("list files to zip: %w", err)
	}
	out := entries[:0]
	var problems []string
	for _, e := range entries {
		if atomicfile.IsTemp(e.Path, dest) {
			continue // of an earlier, interrupted zip into the same folder
		}
		if e.IsLink() {
			target, err := linkInside(root, e)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			if target == "" {
				fmt.Fprintf(log, "left out %s: a symlink to nothing (%s)\n", e.Rel, e.Target)
				continue
			}
			e.Target = target
		}
		out = append(out, e)
	}
	problems = append(problems, danglingOnRestore(out)...)
	checked := make([]zipsafe.Entry, len(out))
	for i, e := range out {
		checked[i] = zipsafe.Entry{Name: e.Rel, Dir: e.Info.IsDir(), Link: e.IsLink(), Target: e.Target}
	}
	_, bad := zipsafe.Check(checked, nil)
	problems = append(problems, bad...)
	if len(problems) > 0 {
		sort.Strings(problems)
		return nil, fmt.Errorf("zip %s: unzip could not restore these, so nothing was packed:\n  %s", src, strings.Join(problems, "\n  "))
	}
	if fileset.Regular(out) == 0 && !p.AllowEmpty {
		filtered := ""
		if len(p.Include) > 0 || len(p.Exclude) > 0 {
			filtered = " that include/exclude select"
		}
		return nil, fmt.Errorf("zip %s: no files%s: an empty backup is refused (set allow_empty: true if an empty source is expected)", src, filtered)
	}
	return out, nil
}

// danglingOnRestore names the kept links whose target is not in the
// archive (excluded, not included, or no data: a pipe): restored, they
// would lead nowhere.
func danglingOnRestore(entries []fileset.Entry) []string {
	in := map[string]bool{".": true}
	for _, e := range entries {
		rel := strings.TrimSuffix(e.Rel, "/")
		in[rel] = true
		for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
			in[dir] = true
		}
	}
	var problems []string
	for _, e := range entries {
		if !e.IsLink() {
			continue
		}
		if to := zipsafe.Resolve(e.Rel, e.Target); !in[to] {
			problems = append(problems, fmt.Sprintf("%q: a symlink to %s, which is not in the archive (left out by include/exclude, or not data): it would restore leading nowhere; exclude the link too, or include what it points to", e.Rel, to))
		}
	}
	return problems
}

// linkInside returns the target to store for a kept link: the path from
// the link's folder to where it leads, every link on the way resolved, or
// "" for a link that leads nowhere. A link leading outside root is an error.
func linkInside(root string, e fileset.Entry) (string, error) {
	if e.Real == "" {
		return "", nil
	}
	rel, err := filepath.Rel(root, e.Real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%q: a symlink to %s, outside src: its data would not be in the backup (set links: follow to store what it points to, or exclude it)", e.Rel, e.Real)
	}
	target, err := filepath.Rel(filepath.Join(root, filepath.FromSlash(path.Dir(e.Rel))), e.Real)
	if err != nil {
		return "", fmt.Errorf("%q: %w", e.Rel, err)
	}
	return filepath.ToSlash(target), nil
}

func runZip(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	entries, err := zipEntries(env, p, env.Log)
	if err != nil {
		return nil, err
	}
	dest := string(p.Dest)
	f, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Abort()
	sum := sha256.New()
	counter := &bytesize.Counter{}
	total := fileset.Size(entries)
	files, err := pzip.Write(ctx, io.MultiWriter(f, sum, counter), entries, pzip.Options{
		Level: p.Level, Reproducible: p.Reproducible,
		Progress: func(done int64) { env.Progress.Progress(done, total) },
	})
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", p.Src, err)
	}
	if err := f.Commit(); err != nil {
		return nil, err
	}
	fmt.Fprintf(env.Log, "zipped %d files, %s → %s (%s)\n", files, bytesize.Format(total), dest, bytesize.Format(counter.N))
	return tasktype.Outputs{"path": dest, "bytes": counter.N, "files": files, "sha256": hex.EncodeToString(sum.Sum(nil))}, nil
}
