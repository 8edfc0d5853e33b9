package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"
)

// ErrNotExist is returned (wrapped) for a key that has no object.
var ErrNotExist = errors.New("no such object")

// Object describes a stored object.
type Object struct {
	Key      string // full key, including the store's prefix
	Size     int64
	Modified time.Time
	SHA256   string // hex; empty when the store does not know it
}

// Source is data to put: readable at any offset, so that parts can be sent
// in parallel and retried without holding them in memory.
type Source interface {
	io.ReaderAt
	Size() int64
}

// Store is an object store rooted at a bucket or folder.
type Store interface {
	// Put stores src at key atomically. sum is its SHA-256 (hex), recorded
	// with the object and checked by the store where it can. progress, when
	// not nil, gets the bytes sent so far, possibly from several goroutines.
	Put(ctx context.Context, key string, src Source, sum string, progress func(n int64)) error
	// Stat describes the object at key, or fails with ErrNotExist.
	Stat(ctx context.Context, key string) (Object, error)
	// List returns every object whose key starts with prefix, sorted by key.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Open reads the object at key.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// OpenRange reads length bytes of the object at key from offset.
	OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
	// Delete removes objects; a key without an object is not an error.
	Delete(ctx context.Context, keys []string) error
	// RemoveAbandoned removes what puts under prefix that never finished
	// left behind — S3 multipart uploads started before before, a folder's
	// temp files that no live writer holds — of the keys for which ours
	// says true. It returns what it removed.
	RemoveAbandoned(ctx context.Context, prefix string, before time.Time, ours func(key string) bool) ([]string, error)
	// String names the store as a URL, for messages.
	String() string
}

// Options configure access to S3 (ignored by file://).
type Options struct {
	Region       string
	Endpoint     string // a custom endpoint (S3-compatible servers); AWS_ENDPOINT_URL_S3 also works
	PathStyle    bool
	StorageClass string
	SSE          string // server-side encryption: AES256 or aws:kms
	PartSize     int64  // multipart part size; 0 picks one
	Concurrency  int    // parts in flight; 0 picks one
	Environ      []string
}

// Location is a parsed target URL: the store, and the key prefix within it.
type Location struct {
	Scheme string // "s3" or "file"
	Bucket string // s3 only
	Dir    string // file only: the folder
	Prefix string // keys under the bucket or folder, "" or ending in "/"
}

// Parse reads s3://bucket/prefix/ or file://dir/ (relative file paths are
// kept relative: callers resolve them).
func Parse(raw string) (Location, error) {
	switch {
	case strings.HasPrefix(raw, "s3://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return Location{}, fmt.Errorf("%q: write s3://bucket/prefix/", raw)
		}
		return Location{Scheme: "s3", Bucket: u.Host, Prefix: dirPrefix(strings.TrimPrefix(u.Path, "/"))}, nil
	case strings.HasPrefix(raw, "file://"):
		dir := strings.TrimPrefix(raw, "file://")
		if dir == "" {
			return Location{}, fmt.Errorf("%q: write file://folder/", raw)
		}
		return Location{Scheme: "file", Dir: dir}, nil
	}
	return Location{}, fmt.Errorf("%q: a target is s3://bucket/prefix/ or file://folder/", raw)
}

func dirPrefix(p string) string {
	if p == "" || strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

// Join joins key parts with "/".
func Join(parts ...string) string {
	return strings.TrimPrefix(path.Join(parts...), "/")
}

// Open returns the store of a location.
func Open(ctx context.Context, loc Location, opt Options) (Store, error) {
	switch loc.Scheme {
	case "file":
		return &FileStore{Root: loc.Dir}, nil
	case "s3":
		return NewS3(ctx, loc.Bucket, opt)
	}
	return nil, fmt.Errorf("unknown scheme %q", loc.Scheme)
}
