// Package s3get is the built-in task type `s3get`: download a verified backup set (the newest complete one, or a named one) from S3 or a folder.
// Registered with the others in package tasks.
package s3get

//go:generate go run github.com/novelfactory/runner/internal/gendoc -o zz_fielddocs.go

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/backupset"
	"github.com/novelfactory/runner/internal/objstore"
	"github.com/novelfactory/runner/internal/parallel"
	"github.com/novelfactory/runner/internal/s3params"
	"github.com/novelfactory/runner/internal/zipsafe"
	"github.com/novelfactory/runner/tasks/internal/bytesize"
	"github.com/novelfactory/runner/tasks/internal/ctxio"
	"github.com/novelfactory/runner/tasks/internal/staging"
)

// Params are the params of the s3get task.
type Params struct {
	// Where from: a backup set (s3://bucket/weekly/20261129/), a prefix of sets with latest or set, or one object.
	From string `yaml:"from" json:"from" required:"true"`
	// Take the newest complete set under from (a set without manifest.json is never taken).
	Latest bool `yaml:"latest" json:"latest"`
	// Take the set of this name under from (its folder: a date such as 20261122).
	Set string `yaml:"set" json:"set"`
	// The folder to download into.
	Dest              params.Path `yaml:"dest" json:"dest" required:"true"`
	s3params.Access   `yaml:",inline" json:",inline"`
	s3params.Transfer `yaml:",inline" json:",inline"`

	from objstore.Location // From, parsed by Check
}

// Register adds the s3get task type to r.
func Register(r *tasktype.Registry) {
	tasktype.Add(r, tasktype.Def[Params]{
		FieldDocs: params.JoinDocs(fieldDoc, s3params.FieldDoc),
		Name:      "s3get",
		Summary:   "Download a verified backup set (the newest complete one, or a named one) from S3 or a folder.",
		Doc: "Finds the set — `latest: true` takes the newest set that has its manifest.json and says when newer, " +
			"incomplete ones were passed over; `set:` names one — and downloads every object the manifest lists into " +
			"`dest`, large ones in parallel ranges. Every object's SHA-256 is checked against the manifest before " +
			"anything is renamed into place: one corrupt object fails the task, naming it, and `dest` gets nothing. " +
			"Objects already in `dest` with the right SHA-256 are not downloaded again (a resumed restore).",
		Outputs: []tasktype.Output{
			{Name: "set", Type: "string", Doc: "URL of the set downloaded."},
			{Name: "files", Type: "list of string", Doc: "Absolute paths of the downloaded files, in manifest order."},
			{Name: "paths", Type: "map of string", Doc: "The same paths by object name."},
			{Name: "manifest", Type: "object", Doc: "The set's manifest: version, recipe, run, created, objects (key, size, sha256)."},
			{Name: "bytes", Type: "integer", Doc: "Total size of the set's objects."},
		},
		Examples: []tasktype.Example{
			{Title: "Download the newest complete backup set", YAML: `fetch:
  uses: s3get
  with:
    from: s3://factory-backups/weekly/
    latest: true
    dest: restore/download
    region: ap-northeast-2
`},
		},
		Check: func(p *Params) error {
			if p.Latest && p.Set != "" {
				return errors.New("give latest or set, not both")
			}
			if err := p.Transfer.Check(); err != nil {
				return err
			}
			var err error
			p.from, err = s3params.Target("from", p.From)
			return err
		},
		Plan: func(_ context.Context, env *tasktype.Env, p *Params) (tasktype.Plan, error) {
			which := "the set at " + p.From
			switch {
			case p.Latest:
				which = "the newest complete set under " + p.From
			case p.Set != "":
				which = "set " + p.Set + " under " + p.From
			}
			return tasktype.Plan{Summary: fmt.Sprintf("would download %s into %s, verifying every object's SHA-256", which, p.Dest)}, nil
		},
		Run: runS3Get,
	})
}

// chooseSet finds the set to download and says what it passed over. A
// from that names one object gives a set of that object alone, verified
// against the SHA-256 the store keeps with it.
func chooseSet(ctx context.Context, env *tasktype.Env, store objstore.Store, prefix string, p *Params) (*backupset.Set, objstore.Store, error) {
	set, err := findSet(ctx, env, &store, prefix, p)
	return set, store, err
}

func findSet(ctx context.Context, env *tasktype.Env, storep *objstore.Store, prefix string, p *Params) (*backupset.Set, error) {
	store := *storep
	if !p.Latest && p.Set == "" && !strings.HasSuffix(p.From, "/") {
		key := strings.TrimSuffix(prefix, "/")
		if p.from.Scheme == "file" {
			dir, base := filepath.Split(env.Path(p.from.Dir))
			store, key = &objstore.FileStore{Root: dir}, base
			*storep = store
		}
		obj, err := store.Stat(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("s3get %s: %w", p.From, err)
		}
		if obj.SHA256 == "" {
			return nil, fmt.Errorf("s3get %s: the object has no SHA-256 in its metadata (not uploaded by s3put), so it cannot be verified", p.From)
		}
		name := path.Base(key)
		return &backupset.Set{Name: name, Prefix: strings.TrimSuffix(key, name), Manifest: &backupset.Manifest{
			Version: 1, Created: obj.Modified, Objects: []backupset.Entry{{Key: name, Size: obj.Size, SHA256: obj.SHA256}},
		}}, nil
	}
	if !p.Latest && p.Set == "" {
		m, err := backupset.ReadManifest(ctx, store, prefix+backupset.ManifestName)
		if errors.Is(err, objstore.ErrNotExist) {
			return nil, fmt.Errorf("%s has no manifest.json: it is not a complete backup set (use latest: true on the folder above it)", p.From)
		}
		if err == nil {
			var listed []objstore.Object
			if listed, err = store.List(ctx, prefix); err == nil {
				err = m.Matches(listed, prefix)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("the set at %s is damaged: %w", p.From, err)
		}
		return &backupset.Set{Name: path.Base(strings.TrimSuffix(prefix, "/")), Prefix: prefix, Manifest: m}, nil
	}
	listing, err := backupset.List(ctx, store, prefix)
	if err != nil {
		return nil, fmt.Errorf("list backup sets under %s: %w", p.From, err)
	}
	sets := listing.Sets
	var passed []string
	for i := len(sets) - 1; i >= 0; i-- {
		s := sets[i]
		if p.Set != "" && s.Name != p.Set {
			continue
		}
		switch {
		case s.Damaged != nil && p.Set != "":
			return nil, fmt.Errorf("set %s under %s is damaged: %w", p.Set, p.From, s.Damaged)
		case s.Damaged != nil:
			passed = append(passed, fmt.Sprintf("%s (damaged: %v)", s.Name, s.Damaged))
			continue
		case !s.Complete() && p.Set != "":
			return nil, fmt.Errorf("set %s under %s is incomplete (no manifest.json): its backup did not finish", p.Set, p.From)
		case !s.Complete():
			passed = append(passed, s.Name+" (incomplete: no manifest.json)")
			continue
		}
		if p.Latest {
			// The newest set that is whole: check it before trusting it,
			// so that a damaged one is passed over, not restored and failed.
			if err := s.Verify(ctx, store); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				passed = append(passed, fmt.Sprintf("%s (damaged: %v)", s.Name, err))
				continue
			}
		}
		if len(passed) > 0 {
			fmt.Fprintf(env.Log, "passed over newer sets: %s; using %s, the newest complete set\n", strings.Join(passed, "; "), s.Name)
		}
		return s, nil
	}
	if p.Set != "" {
		return nil, fmt.Errorf("no set %s under %s", p.Set, p.From)
	}
	if len(passed) > 0 {
		return nil, fmt.Errorf("no complete backup set under %s; passed over: %s", p.From, strings.Join(passed, "; "))
	}
	return nil, fmt.Errorf("no complete backup set under %s", p.From)
}

func runS3Get(ctx context.Context, env *tasktype.Env, p *Params) (tasktype.Outputs, error) {
	store, prefix, err := s3params.OpenTarget(ctx, env, p.from, p.Options())
	if err != nil {
		return nil, err
	}
	partSize := int64(p.PartSize)
	set, store, err := chooseSet(ctx, env, store, prefix, p)
	if err != nil {
		return nil, err
	}
	dest := string(p.Dest)
	// dest, when it exists: every file goes in through root, and no link
	// in it can lead a download elsewhere.
	var root *os.Root
	switch info, err := os.Stat(dest); {
	case err == nil && !info.IsDir():
		return nil, fmt.Errorf("s3get: dest %s is a file, not a folder", dest)
	case err == nil:
		if root, err = os.OpenRoot(dest); err != nil {
			return nil, fmt.Errorf("s3get: %w", err)
		}
		defer root.Close()
		unlock, err := staging.Lock(ctx, dest, root, func() {
			fmt.Fprintf(env.Log, "waiting: another unzip or s3get is writing into %s\n", dest)
		})
		if err != nil {
			return nil, fmt.Errorf("s3get: %w", err)
		}
		defer unlock()
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("s3get: %w", err)
	}
	setURL := strings.TrimSuffix(p.From, "/") + "/"
	switch {
	case p.Latest || p.Set != "":
		setURL += set.Name + "/"
	case !strings.HasSuffix(p.From, "/"): // one object: its folder
		setURL = p.From[:strings.LastIndex(p.From, "/")+1]
	}
	fmt.Fprintf(env.Log, "set %s: %d objects, made by run %s of %s at %s\n", setURL, len(set.Manifest.Objects), set.Manifest.Run, set.Manifest.Recipe, set.Manifest.Created.Format("2006-01-02 15:04 MST"))

	// Download everything into a folder beside dest and verify it all
	// before anything goes into dest: a corrupt object leaves dest as it
	// was — not even a new empty folder.
	stage, err := staging.New(dest, "s3get")
	if err != nil {
		return nil, fmt.Errorf("s3get: %w", err)
	}
	defer stage.Close()
	for _, r := range stage.Removed {
		fmt.Fprintf(env.Log, "removed %s, left by a killed run\n", r)
	}
	var total, got int64
	for _, o := range set.Manifest.Objects {
		total += o.Size
	}
	files := make([]string, 0, len(set.Manifest.Objects))
	paths := map[string]any{}
	var moves []string
	for _, o := range set.Manifest.Objects {
		name, err := placeIn(root, o.Key)
		if err != nil {
			return nil, fmt.Errorf("s3get %s into %s: %w", setURL, dest, err)
		}
		final := filepath.Join(dest, name)
		files = append(files, final)
		paths[o.Key] = final
		if root != nil {
			if sum, err := rootSHA256(ctx, root, name); err == nil && sum == o.SHA256 {
				fmt.Fprintf(env.Log, "already here: %s\n", o.Key)
				got += o.Size
				continue
			}
		}
		if err := stage.Root.MkdirAll(filepath.Dir(name), 0o777); err != nil {
			return nil, fmt.Errorf("s3get: %w", err)
		}
		f, err := stage.Root.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o666)
		if err != nil {
			return nil, fmt.Errorf("s3get: %w", err)
		}
		base := got
		sum, err := download(ctx, store, set.Prefix+o.Key, o.Size, f, partSize, p.Concurrency, func(n int64) { env.Progress.Progress(base+n, total) })
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		if sum != o.SHA256 {
			return nil, fmt.Errorf("object %s%s is corrupt: its SHA-256 is %s, the manifest says %s; nothing was restored", setURL, o.Key, sum, o.SHA256)
		}
		got += o.Size
		moves = append(moves, name)
		fmt.Fprintf(env.Log, "verified: %s (%s)\n", o.Key, bytesize.Format(o.Size))
	}
	if root == nil {
		err = stage.Replace()
	} else {
		err = stage.Apply(root, nil, moves)
	}
	if err != nil {
		return nil, fmt.Errorf("s3get into %s: %w; nothing was restored", dest, err)
	}
	m := set.Manifest
	objects := make([]any, len(m.Objects))
	for i, o := range m.Objects {
		objects[i] = map[string]any{"key": o.Key, "size": o.Size, "sha256": o.SHA256}
	}
	manifest := map[string]any{"version": m.Version, "recipe": m.Recipe, "run": m.Run, "created": m.Created, "objects": objects}
	return tasktype.Outputs{"set": setURL, "files": files, "paths": paths, "manifest": manifest, "bytes": total}, nil
}

// download writes the object into f — in parallel ranges when it is large
// — and returns its SHA-256. The hash is computed while the download goes
// on: a goroutine follows the ranges that are complete, in order, reading
// them back while they are still in the page cache.
func download(ctx context.Context, store objstore.Store, key string, size int64, f *os.File, partSize int64, workers int, progress func(int64)) (string, error) {
	var (
		mu   sync.Mutex
		done int64
	)
	report := func(n int64) {
		mu.Lock()
		done += n
		d := done
		mu.Unlock()
		progress(d)
	}
	h := sha256.New()
	if size <= partSize {
		rc, err := store.Open(ctx, key)
		if err != nil {
			return "", err
		}
		defer rc.Close()
		n, err := io.Copy(io.MultiWriter(f, h), rc)
		report(n)
		if err != nil {
			return "", fmt.Errorf("download %s: %w", key, err)
		}
		return hex.EncodeToString(h.Sum(nil)), f.Sync()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := int((size + partSize - 1) / partSize)
	complete := make([]chan struct{}, n) // closed when range i is on disk
	for i := range complete {
		complete[i] = make(chan struct{})
	}
	hashed := make(chan error, 1)
	go func() {
		buf := make([]byte, 1<<20)
		for i := 0; i < n; i++ {
			select {
			case <-complete[i]:
			case <-ctx.Done():
				hashed <- ctx.Err()
				return
			}
			off := int64(i) * partSize
			if _, err := io.CopyBuffer(h, io.NewSectionReader(f, off, min(partSize, size-off)), buf); err != nil {
				hashed <- fmt.Errorf("hash %s: %w", key, err)
				return
			}
		}
		hashed <- nil
	}()
	err := parallel.Do(ctx, n, workers, func(ctx context.Context, i int) error {
		off := int64(i) * partSize
		length := min(partSize, size-off)
		rc, err := store.OpenRange(ctx, key, off, length)
		if err != nil {
			return err // the store says what it was downloading
		}
		got, err := io.Copy(io.NewOffsetWriter(f, off), io.LimitReader(rc, length))
		rc.Close()
		report(got)
		if err == nil && got != length {
			err = fmt.Errorf("got %d of %d bytes at offset %d", got, length, off)
		}
		if err != nil {
			return fmt.Errorf("download %s: %w", key, err)
		}
		close(complete[i])
		return nil
	})
	if err != nil {
		cancel() // stops the hashing goroutine
		<-hashed
		return "", err
	}
	if err := <-hashed; err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), f.Sync()
}

// placeIn checks where an object of a set goes in dest (root, or nil when
// dest is new): a path inside it that crosses no link, and is no link or
// folder itself. It returns the path in the OS's form.
func placeIn(root *os.Root, key string) (string, error) {
	clean, err := zipsafe.CleanName(key)
	if err != nil || clean != key {
		return "", fmt.Errorf("the manifest lists %q, which is not a path inside dest", key)
	}
	name := filepath.FromSlash(clean)
	if root == nil {
		return name, nil // a new dest: nothing in it yet
	}
	parts := strings.Split(clean, "/")
	for i := range parts {
		p := filepath.Join(parts[:i+1]...)
		info, err := root.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return name, nil // nothing below it exists either
		case err != nil:
			return "", err
		case info.Mode()&fs.ModeSymlink != 0:
			return "", fmt.Errorf("%s is a symlink in dest: s3get does not write through links", p)
		case p == name && !info.Mode().IsRegular():
			return "", fmt.Errorf("%s is in dest and is not a file", p)
		}
	}
	return name, nil
}

// rootSHA256 hashes the file at name in root.
func rootSHA256(ctx context.Context, root *os.Root, name string) (string, error) {
	f, err := root.Open(name)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, &ctxio.Reader{Ctx: ctx, R: f}); err != nil {
		return "", fmt.Errorf("hash %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
