package tasks

import (
	"fmt"

	"github.com/novelfactory/runner/tasks/internal/objstore"
)

// S3Access are the params that reach an S3 bucket, shared by s3put, s3get
// and prune (inlined: they are written beside the type's own params).
type S3Access struct {
	// AWS region of the bucket; AWS_REGION when empty.
	Region string `yaml:"region" json:"region"`
	// Endpoint of an S3-compatible server; AWS_ENDPOINT_URL_S3 when empty.
	Endpoint string `yaml:"endpoint" json:"endpoint"`
	// Address buckets as endpoint/bucket rather than bucket.endpoint (most S3-compatible servers need it).
	PathStyle bool `yaml:"path_style" json:"path_style"`
}

// withS3 adds the access options to the others.
func withS3(access, o objstore.Options) objstore.Options {
	o.Region, o.Endpoint, o.PathStyle = access.Region, access.Endpoint, access.PathStyle
	return o
}

func (a S3Access) options() objstore.Options {
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

// check validates the transfer params.
func (t Transfer) check() error {
	if _, err := parseSize(t.PartSize); err != nil {
		return fmt.Errorf("part_size: %w", err)
	}
	if t.Concurrency < 1 {
		return fmt.Errorf("concurrency %d: move at least one part at a time", t.Concurrency)
	}
	return nil
}
