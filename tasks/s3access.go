package tasks

import "github.com/novelfactory/runner/tasks/internal/objstore"

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
