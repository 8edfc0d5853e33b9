package runstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/internal/objstore"
	"github.com/novelfactory/runner/internal/regfile"
)

// fileKey is the key of a file's contents, relative to the run.
func fileKey(sum string) string { return "files/sha256/" + sum }

var sumRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Shipped is what Upload made of a task's outputs.
type Shipped struct {
	Files []File // the files uploaded, by path
	// Outputs are the outputs with every path that travels written
	// relative to the working folder (see Localize).
	Outputs any
	// Outside are absolute paths outside the working folder that name
	// files: they stay on this machine.
	Outside []string
}

// Upload uploads to run every file that a string in outputs (at any
// depth) names by an absolute path inside dir — a regular file, or every
// regular file under a folder — content-addressed, skipping contents the
// store already holds. dir is the working folder of the exec, absolute.
func (s *Store) Upload(ctx context.Context, run, dir string, outputs any) (Shipped, error) {
	var sh Shipped
	outputs, err := plain(outputs)
	if err != nil {
		return Shipped{}, err
	}
	found := map[string]string{} // slash path relative to dir → absolute path
	var walkErr error
	sh.Outputs = mapStrings(outputs, func(v string) string {
		if walkErr != nil || !filepath.IsAbs(v) {
			return v
		}
		rel, ok := inside(dir, v)
		if !ok {
			if _, err := os.Lstat(v); err == nil {
				sh.Outside = append(sh.Outside, v)
			}
			return v
		}
		info, err := os.Lstat(v)
		switch {
		case err != nil:
			return v
		case info.Mode().IsRegular():
			found[rel] = v
		case info.IsDir():
			n := 0
			walkErr = filepath.WalkDir(v, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if d.Type().IsRegular() && !atomicfile.IsTempName(d.Name()) {
					r, _ := inside(dir, p)
					found[r] = p
					n++
				}
				return nil
			})
			if n == 0 {
				return v // nothing in it travels
			}
		default:
			return v // a link or a device does not travel
		}
		return rel
	})
	if walkErr != nil {
		return Shipped{}, fmt.Errorf("list the files of the outputs: %w", walkErr)
	}
	paths := make([]string, 0, len(found))
	for p := range found {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f, err := s.uploadFile(ctx, run, p, found[p])
		if err != nil {
			return Shipped{}, err
		}
		sh.Files = append(sh.Files, f)
	}
	return sh, nil
}

// uploadFile puts one file's contents under its hash, unless the store
// already holds an object of that hash and size.
func (s *Store) uploadFile(ctx context.Context, run, rel, abs string) (File, error) {
	f, err := regfile.Open(abs)
	if err != nil {
		return File{}, fmt.Errorf("upload %s: %w", rel, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return File{}, fmt.Errorf("upload %s: %w", rel, err)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return File{}, fmt.Errorf("upload %s: read it: %w", rel, err)
	}
	out := File{Path: rel, SHA256: hex.EncodeToString(h.Sum(nil)), Size: info.Size(), Mode: uint32(info.Mode().Perm())}
	key := s.key(run, fileKey(out.SHA256))
	if obj, err := s.obj.Stat(ctx, key); err == nil && obj.Size == out.Size {
		return out, nil
	} else if err != nil && !errors.Is(err, objstore.ErrNotExist) {
		return File{}, fmt.Errorf("upload %s: %w", rel, err)
	}
	if err := s.obj.Put(ctx, key, &fileSource{f, info.Size()}, out.SHA256, nil); err != nil {
		return File{}, fmt.Errorf("upload %s: %w", rel, err)
	}
	return out, nil
}

type fileSource struct {
	*os.File
	size int64
}

func (f *fileSource) Size() int64 { return f.size }

// inside returns p relative to dir, as a slash path, when p is strictly
// inside dir.
func inside(dir, p string) (string, bool) {
	rel, err := filepath.Rel(dir, p)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// plain returns v as JSON gives it back: maps, lists and scalars only, as
// a record is read.
func plain(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode the outputs: %w", err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("encode the outputs: %w", err)
	}
	return out, nil
}

// mapStrings returns v with every string (not map keys) replaced by f's.
func mapStrings(v any, f func(string) string) any {
	switch x := v.(type) {
	case string:
		return f(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = mapStrings(e, f)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = mapStrings(e, f)
		}
		return out
	case []string:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = f(e)
		}
		return out
	}
	return v
}

// Localize returns outputs as this machine's tasks see them: each path
// Upload wrote relative — a file's, or a folder's holding files — made
// absolute under dir.
func Localize(outputs any, files []File, dir string) any {
	if len(files) == 0 {
		return outputs
	}
	paths := map[string]bool{}
	for _, f := range files {
		for p := f.Path; p != "." && p != "/" && p != ""; p = path.Dir(p) {
			paths[p] = true
		}
	}
	return mapStrings(outputs, func(v string) string {
		if paths[v] {
			return filepath.Join(dir, filepath.FromSlash(v))
		}
		return v
	})
}

// PathError says a record names a file where runner must not write one.
type PathError struct {
	Path   string
	Reason string
}

func (e *PathError) Error() string {
	return fmt.Sprintf("refusing to write %q from the run store: %s", e.Path, e.Reason)
}

// HashError says a file's contents in the store are not those recorded.
type HashError struct {
	Path      string
	Want, Got string
}

func (e *HashError) Error() string {
	return fmt.Sprintf("%s from the run store has sha256 %s, but its record says %s: the store's copy is damaged or was replaced; nothing was written",
		e.Path, e.Got, e.Want)
}

// Download writes files from run under dir at their relative paths,
// verifying each one's SHA-256 as it streams; a file already there with
// the same hash is left alone. A path that is absolute, climbs out with
// "..", or passes through a link that leads out of dir is refused; a file
// whose contents do not match leaves nothing at its path.
func (s *Store) Download(ctx context.Context, run string, files []File, dir string) error {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("download into %s: %w", dir, err)
	}
	for _, f := range files {
		if err := s.download(ctx, run, f, root); err != nil {
			return err
		}
	}
	return nil
}

func (s *Store) download(ctx context.Context, run string, f File, root string) error {
	rel, err := cleanRel(f.Path)
	if err != nil {
		return err
	}
	if !sumRe.MatchString(f.SHA256) {
		return &PathError{Path: f.Path, Reason: fmt.Sprintf("its sha256 %q is not 64 hex digits", f.SHA256)}
	}
	dest := filepath.Join(root, filepath.FromSlash(rel))
	if err := makeDirs(root, filepath.Dir(dest), f.Path); err != nil {
		return err
	}
	if same, err := hasHash(dest, f.SHA256); err != nil {
		return fmt.Errorf("download %s: %w", f.Path, err)
	} else if same {
		return nil
	}
	rc, err := s.obj.Open(ctx, s.key(run, fileKey(f.SHA256)))
	if err != nil {
		return fmt.Errorf("download %s: %w", f.Path, err)
	}
	defer rc.Close()
	perm := fs.FileMode(f.Mode).Perm()
	if perm == 0 {
		perm = 0o644
	}
	out, err := atomicfile.Create(dest, perm)
	if err != nil {
		return fmt.Errorf("download %s: %w", f.Path, err)
	}
	defer out.Abort()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), rc); err != nil {
		return fmt.Errorf("download %s: %w", f.Path, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return &HashError{Path: f.Path, Want: f.SHA256, Got: got}
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("download %s: %w", f.Path, err)
	}
	return nil
}

// cleanRel checks a record's file path: relative, slash-separated, and
// inside the folder after cleaning.
func cleanRel(p string) (string, error) {
	if p == "" {
		return "", &PathError{Path: p, Reason: "the path is empty"}
	}
	if path.IsAbs(p) || filepath.IsAbs(filepath.FromSlash(p)) || filepath.VolumeName(filepath.FromSlash(p)) != "" || strings.Contains(p, `\`) {
		return "", &PathError{Path: p, Reason: "the path is absolute (records hold paths relative to the working folder)"}
	}
	c := path.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", &PathError{Path: p, Reason: "the path leads out of the working folder"}
	}
	return c, nil
}

// makeDirs creates the folders from root down to dir, refusing to pass
// through a link that leads out of root.
func makeDirs(root, dir, shown string) error {
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return err
	}
	cur := root
	if rel == "." {
		return nil
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		info, err := os.Lstat(cur)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("download %s: %w", shown, err)
			}
			continue
		case err != nil:
			return fmt.Errorf("download %s: %w", shown, err)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := filepath.EvalSymlinks(cur)
			if err != nil {
				return fmt.Errorf("download %s: %w", shown, err)
			}
			if _, ok := inside(root, target); !ok {
				return &PathError{Path: shown, Reason: fmt.Sprintf("%s is a link that leads out of the working folder", filepath.ToSlash(mustRel(root, cur)))}
			}
			cur = target
		case !info.IsDir():
			return &PathError{Path: shown, Reason: fmt.Sprintf("%s is a file, not a folder", filepath.ToSlash(mustRel(root, cur)))}
		}
	}
	return nil
}

func mustRel(root, p string) string {
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return p
	}
	return rel
}

// hasHash reports whether p is a regular file with SHA-256 sum.
func hasHash(p, sum string) (bool, error) {
	info, err := os.Lstat(p)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && !info.Mode().IsRegular()) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	f, err := regfile.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return hex.EncodeToString(h.Sum(nil)) == sum, nil
}

// DownloadTask writes every file of task id in run — a plain task's, or
// every instance's of a for_each task — under dir.
func (s *Store) DownloadTask(ctx context.Context, run, id, dir string) error {
	rec, err := s.Get(ctx, run, id)
	if err != nil || rec == nil {
		if err == nil {
			err = fmt.Errorf("no record of %s in run %s", id, run)
		}
		return err
	}
	files := rec.Files
	insts, err := s.Instances(ctx, run, rec)
	if err != nil {
		return err
	}
	for _, in := range insts {
		if in != nil {
			files = append(files, in.Files...)
		}
	}
	return s.Download(ctx, run, files, dir)
}
