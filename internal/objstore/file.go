package objstore

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
	"sort"
	"strings"
	"time"

	"github.com/novelfactory/runner/engine/atomicfile"
	"github.com/novelfactory/runner/internal/regfile"
)

// FileStore keeps objects as files under Root, with S3's semantics: a put
// goes to a temporary name, is synced, and is renamed into place.
type FileStore struct {
	Root string
}

func (s *FileStore) path(key string) (string, error) {
	clean := filepath.FromSlash(key)
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains("/"+key+"/", "/../") {
		return "", fmt.Errorf("bad object key %q", key)
	}
	return filepath.Join(s.Root, clean), nil
}

// String names the store.
func (s *FileStore) String() string { return "file://" + s.Root }

// Put copies src to key atomically, checking that the copy has the SHA-256 sum.
func (s *FileStore) Put(ctx context.Context, key string, src Source, sum string, progress func(int64)) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(p, 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	h := sha256.New()
	r := &ctxReader{ctx: ctx, r: io.NewSectionReader(src, 0, src.Size()), progress: progress}
	if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
		return fmt.Errorf("copy to %s: %w", p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); sum != "" && got != sum {
		return fmt.Errorf("put %s: the data changed while it was copied (sha256 %s, expected %s)", key, got, sum)
	}
	return f.Commit()
}

// Stat describes the file at key, with its SHA-256 (read from the file).
func (s *FileStore) Stat(ctx context.Context, key string) (Object, error) {
	p, err := s.path(key)
	if err != nil {
		return Object{}, err
	}
	info, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) || (err == nil && info.IsDir()) {
		return Object{}, fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	if err != nil {
		return Object{}, fmt.Errorf("stat %s: %w", p, err)
	}
	f, err := regfile.Open(p)
	if err != nil {
		return Object{}, fmt.Errorf("open %s: %w", p, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, &ctxReader{ctx: ctx, r: f}); err != nil {
		return Object{}, fmt.Errorf("read %s: %w", p, err)
	}
	return Object{Key: key, Size: info.Size(), Modified: info.ModTime(), SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// List walks the folder for keys starting with prefix. Temporary files of
// puts in progress are not objects.
func (s *FileStore) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	err := s.walk(ctx, prefix, func(_, key string, d fs.DirEntry) error {
		if atomicfile.IsTempName(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, Object{Key: key, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// walk calls fn for every file under the root whose key starts with
// prefix, with its path and key; a root that does not exist holds none.
func (s *FileStore) walk(ctx context.Context, prefix string, fn func(path, key string, d fs.DirEntry) error) error {
	return filepath.WalkDir(s.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == s.Root {
				return filepath.SkipAll
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(s.Root, p)
		if key := filepath.ToSlash(rel); strings.HasPrefix(key, prefix) {
			return fn(p, key, d)
		}
		return nil
	})
}

// Open reads the file at key.
func (s *FileStore) Open(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := s.path(key)
	if err != nil {
		return nil, err
	}
	f, err := regfile.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", key, ErrNotExist)
	}
	return f, err
}

// Delete removes the files, and folders left empty by it.
func (s *FileStore) Delete(_ context.Context, keys []string) error {
	for _, key := range keys {
		p, err := s.path(key)
		if err != nil {
			return err
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s: %w", key, err)
		}
		for dir := filepath.Dir(p); dir != s.Root && strings.HasPrefix(dir, s.Root); dir = filepath.Dir(dir) {
			if os.Remove(dir) != nil {
				break // not empty
			}
		}
	}
	return nil
}

// RemoveAbandoned removes the temp files under prefix that no live put
// holds: those of a put that was killed. The lock, not the age, tells: a
// live put holds its temp file's lock.
func (s *FileStore) RemoveAbandoned(ctx context.Context, prefix string, _ time.Time, ours func(key string) bool) ([]string, error) {
	var removed []string
	err := s.walk(ctx, prefix, func(p, key string, d fs.DirEntry) error {
		if !d.Type().IsRegular() || !atomicfile.IsTempName(d.Name()) {
			return nil
		}
		// .NAME.tmp-… is the temp file of the object NAME beside it.
		name := strings.TrimPrefix(d.Name()[:strings.LastIndex(d.Name(), ".tmp-")], ".")
		if !ours(path.Join(path.Dir(key), name)) {
			return nil
		}
		if atomicfile.Stale(p) && os.Remove(p) == nil {
			removed = append(removed, p)
		}
		return nil
	})
	if err != nil {
		return removed, fmt.Errorf("look for abandoned temp files in %s: %w", s, err)
	}
	return removed, nil
}

// ctxReader stops a copy when its context ends and reports progress.
type ctxReader struct {
	ctx      context.Context
	r        io.Reader
	n        int64
	progress func(int64)
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.progress != nil && n > 0 {
		c.progress(c.n)
	}
	return n, err
}

// OpenRange reads part of the file at key.
func (s *FileStore) OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	rc, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	f := rc.(*os.File)
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, offset, length), f}, nil
}
