// Package s3params holds the params that reach an S3 bucket and move large
// objects, shared (inlined) by the s3put, s3get and prune task types, and
// opens the store a target URL names.
package s3params

//go:generate go run github.com/novelfactory/runner/internal/gendoc -export -o zz_fielddocs.go

import (
	"context"
	"fmt"

	"github.com/novelfactory/runner/engine/params"
	"github.com/novelfactory/runner/engine/tasktype"
	"github.com/novelfactory/runner/internal/objstore"
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
	PartSize params.Size `yaml:"part_size" json:"part_size" default:"16MiB" min:"1"`
	// Parts moved at once.
	Concurrency int `yaml:"concurrency" json:"concurrency" default:"8"`
}

// Check validates the transfer params.
func (t Transfer) Check() error {
	if t.Concurrency < 1 {
		return params.At("concurrency", fmt.Errorf("concurrency %d: move at least one part at a time", t.Concurrency))
	}
	return nil
}

// Target parses the target URL of the param called field, for a type's
// Check: the Location it returns is kept for Run, not parsed again.
func Target(field, raw string) (objstore.Location, error) {
	loc, err := objstore.Parse(raw)
	if err != nil {
		return loc, params.Errorf(field, "%v", err)
	}
	return loc, nil
}

// OpenTarget opens the store at loc (a file:// folder is resolved against
// the task's folder) and returns it with loc's key prefix.
func OpenTarget(ctx context.Context, env *tasktype.Env, loc objstore.Location, opt objstore.Options) (objstore.Store, string, error) {
	if loc.Scheme == "file" {
		loc.Dir = env.Path(loc.Dir)
	}
	opt.Environ = env.Environ
	store, err := objstore.Open(ctx, loc, opt)
	if err != nil {
		return nil, "", err
	}
	return store, loc.Prefix, nil
}
