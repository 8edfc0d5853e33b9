// Package s3params holds the params that reach an S3 bucket and move large
// objects, shared (inlined) by the s3put, s3get and prune task types, and
// opens the store a target URL names.
//go:generate go run ../gendoc -export -o zz_fielddocs.go

package s3params

import (
	"context"
	"fmt"

	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/tasks/internal/bytesize"
	"github.com/novelfactory/runner/tasks/internal/objstore"
)

// Access are the params that reach an S3 bucket, shared by s3put, s3get
// and prune (inlined: they are written beside the type's own params).
type Access struct {
	// AWS region of the bucket; AWS_REGION when empty.
	Region string `yaml:"region" json:"region"`
	// Endpoint of an S3-compatible server; AWS_ENDPOINT_URL_S3 when empty.
	Endpoint string `yaml:"endpoint" json:"endpoint"`
	// Address buckets as endpoint/bucket rather than bucket.endpoint (most S3-compatible servers need it).
	PathStyle bool `yaml:"path_style" json:"path_style"`
}

// With adds the access options to the others.
func (a Access) With(o objstore.Options) objstore.Options {
	o.Region, o.Endpoint, o.PathStyle = a.Region, a.Endpoint, a.PathStyle
	return o
}

// Options are the store options of the access params alone.
func (a Access) Options() objstore.Options {
	return objstore.Options{Region: a.Region, Endpoint: a.Endpoint, PathStyle: a.PathStyle}
}

// Transfer are the params that move large objects in parts, in parallel,
// shared by s3put (multipart uploads) and s3get (ranged downloads), inlined.
type Transfer struct {
	// Objects larger than this move in parts of this size, e.g. "16MiB" (S3 uploads need at least 5MiB).
	PartSize string `yaml:"part_size" json:"part_size" default:"16MiB"`
	// Parts moved at once.
	Concurrency int `yaml:"concurrency" json:"concurrency" default:"8"`
}

// Check validates the transfer params.
func (t Transfer) Check() error {
	if _, err := bytesize.Parse(t.PartSize); err != nil {
		return fmt.Errorf("part_size: %w", err)
	}
	if t.Concurrency < 1 {
		return fmt.Errorf("concurrency %d: move at least one part at a time", t.Concurrency)
	}
	return nil
}

// openTarget opens the store of a target URL and returns the key prefix.
// OpenTarget opens the store a target URL names (a file:// folder is resolved
// against the task's folder) and returns it with the URL's key prefix.
func OpenTarget(ctx context.Context, env *tasktype.Env, target string, opt objstore.Options, partSize string) (objstore.Store, string, error) {
	loc, err := objstore.Parse(target)
	if err != nil {
		return nil, "", err
	}
	if loc.Scheme == "file" {
		loc.Dir = env.Path(loc.Dir)
	}
	if partSize != "" {
		if opt.PartSize, err = bytesize.Parse(partSize); err != nil {
			return nil, "", err
		}
	}
	opt.Environ = env.Environ
	store, err := objstore.Open(ctx, loc, opt)
	if err != nil {
		return nil, "", err
	}
	return store, loc.Prefix, nil
}
