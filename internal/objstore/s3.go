package objstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/novelfactory/runner/internal/parallel"
)

// S3 limits multipart uploads to 10,000 parts of at least 5 MiB.
const (
	minPartSize     = 5 << 20
	defaultPartSize = 16 << 20
	maxParts        = 10_000
	metaSHA256      = "sha256" // user metadata key holding the object's SHA-256
)

// S3Store is a bucket reached through aws-sdk-go-v2.
type S3Store struct {
	client *s3.Client
	bucket string
	region string
	opt    Options
}

// DefaultResponseTimeout is how long a request to S3 waits for the
// response's headers before it is tried again; RUNNER_S3_RESPONSE_TIMEOUT
// in the environment sets another.
const DefaultResponseTimeout = time.Minute

// NewS3 configures a client with the standard credential chain (env,
// profile, SSO, IMDS), then the options and the task's environment.
func NewS3(ctx context.Context, bucket string, opt Options) (*S3Store, error) {
	env := map[string]string{}
	for _, kv := range opt.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	if ca := env["AWS_CA_BUNDLE"]; ca != "" {
		if _, err := os.Stat(ca); err != nil {
			return nil, fmt.Errorf("AWS_CA_BUNDLE is set to %s, which cannot be read (%v): unset it, or point it at a PEM file of CA certificates", ca, errors.Unwrap(err))
		}
	}
	var loads []func(*config.LoadOptions) error
	region := opt.Region
	if region == "" {
		region = firstOf(env["AWS_REGION"], env["AWS_DEFAULT_REGION"])
	}
	if region != "" {
		loads = append(loads, config.WithRegion(region))
	}
	key, secret := env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
	if strings.TrimSpace(secret) != secret || strings.TrimSpace(key) != key {
		return nil, errors.New("AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY starts or ends with whitespace (a newline from copy-paste?): S3 would answer SignatureDoesNotMatch; remove it")
	}
	if key != "" && secret != "" {
		loads = append(loads, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(key, secret, env["AWS_SESSION_TOKEN"])))
	}
	if p := env["AWS_PROFILE"]; p != "" && key == "" {
		loads = append(loads, config.WithSharedConfigProfile(p))
	}
	timeout := DefaultResponseTimeout
	if v := env["RUNNER_S3_RESPONSE_TIMEOUT"]; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("RUNNER_S3_RESPONSE_TIMEOUT=%s: give a duration such as 30s or 5m", v)
		}
		timeout = d
	}
	// A server that takes the connection and never answers must not hold
	// runner for ever: each try waits so long for the response's headers
	// (counted once the request, body and all, is sent), then is retried.
	loads = append(loads, config.WithHTTPClient(awshttp.NewBuildableClient().
		WithDialerOptions(func(d *net.Dialer) { d.Timeout = 30 * time.Second }).
		WithTransportOptions(func(tr *http.Transport) {
			tr.ResponseHeaderTimeout = timeout
			tr.TLSHandshakeTimeout = 30 * time.Second
		})))
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS region: set AWS_REGION (the bucket's region) or with.region")
	}
	endpoint := firstOf(opt.Endpoint, env["AWS_ENDPOINT_URL_S3"], env["AWS_ENDPOINT_URL"])
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = opt.PathStyle
		o.RetryMaxAttempts = 5
		o.DisableLogOutputChecksumValidationSkipped = true
		// Downloads are verified against the set's manifest by the caller;
		// and some servers send the whole object's checksum with a ranged
		// response, which the SDK would check against the range.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return &S3Store{client: client, bucket: bucket, region: cfg.Region, opt: opt}, nil
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// String names the store.
func (s *S3Store) String() string { return "s3://" + s.bucket }

func (s *S3Store) partSize(size int64) int64 {
	p := s.opt.PartSize
	if p <= 0 {
		p = defaultPartSize
	}
	p = max(p, minPartSize, (size+maxParts-1)/maxParts)
	return p
}

// Put uploads src: in one request when it fits in a part, else as a
// multipart upload whose parts go in parallel (progress may then be called
// from several goroutines at once). Every request carries the SHA-256 of
// its bytes, which S3 checks; the object's SHA-256 goes into its metadata.
// Memory holds no part: parts are read from src as they are sent.
func (s *S3Store) Put(ctx context.Context, key string, src Source, sum string, progress func(int64)) error {
	size := src.Size()
	var sent atomic.Int64
	report := func(n int64) {
		if progress != nil {
			progress(sent.Add(n))
		}
	}
	part := s.partSize(size)
	if size <= part {
		return s.putOne(ctx, key, src, sum, report)
	}
	return s.putMultipart(ctx, key, src, sum, part, report)
}

func (s *S3Store) putOne(ctx context.Context, key string, src Source, sum string, report func(int64)) error {
	raw, err := hex.DecodeString(sum)
	if err != nil || len(raw) != sha256.Size {
		return fmt.Errorf("put %s: bad sha256 %q", key, sum)
	}
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key),
		Body:           &progressReader{r: io.NewSectionReader(src, 0, src.Size()), report: report},
		ContentLength:  aws.Int64(src.Size()),
		ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(raw)),
		Metadata:       map[string]string{metaSHA256: sum},
	}
	s.classify(&in.StorageClass, &in.ServerSideEncryption)
	if _, err := s.client.PutObject(ctx, in, unsignedPayload); err != nil {
		return s.hint(ctx, fmt.Sprintf("upload %s", key), err)
	}
	return nil
}

func (s *S3Store) classify(class *types.StorageClass, sse *types.ServerSideEncryption) {
	if s.opt.StorageClass != "" {
		*class = types.StorageClass(s.opt.StorageClass)
	}
	if s.opt.SSE != "" {
		*sse = types.ServerSideEncryption(s.opt.SSE)
	}
}

func (s *S3Store) putMultipart(ctx context.Context, key string, src Source, sum string, partSize int64, report func(int64)) error {
	create := &s3.CreateMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key),
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256,
		Metadata:          map[string]string{metaSHA256: sum},
	}
	s.classify(&create.StorageClass, &create.ServerSideEncryption)
	up, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		return s.hint(ctx, fmt.Sprintf("start upload of %s", key), err)
	}
	abort := func() {
		// The task's context may be cancelled already: abort regardless,
		// so that no parts are left behind to be billed.
		s.client.AbortMultipartUpload(context.WithoutCancel(ctx), &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: up.UploadId,
		})
	}
	size := src.Size()
	n := int((size + partSize - 1) / partSize)
	parts := make([]types.CompletedPart, n)
	workers := s.opt.Concurrency
	if workers <= 0 {
		workers = 8
	}
	err = parallel.Do(ctx, n, workers, func(ctx context.Context, i int) error {
		off := int64(i) * partSize
		p, err := s.uploadPart(ctx, key, up.UploadId, int32(i+1), io.NewSectionReader(src, off, min(partSize, size-off)), report)
		parts[i] = p
		return err
	})
	if err != nil {
		abort()
		return err
	}
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		abort()
		return s.hint(ctx, fmt.Sprintf("complete upload of %s", key), err)
	}
	return nil
}

// uploadPart hashes a part (reading it once), then sends it with that
// SHA-256 as S3's checksum.
func (s *S3Store) uploadPart(ctx context.Context, key string, uploadID *string, number int32, part *io.SectionReader, report func(int64)) (types.CompletedPart, error) {
	h := sha256.New()
	if _, err := io.Copy(h, part); err != nil {
		return types.CompletedPart{}, fmt.Errorf("read part %d of %s: %w", number, key, err)
	}
	if _, err := part.Seek(0, io.SeekStart); err != nil {
		return types.CompletedPart{}, err
	}
	raw := h.Sum(nil)
	b64 := base64.StdEncoding.EncodeToString(raw)
	out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), UploadId: uploadID, PartNumber: aws.Int32(number),
		Body: &progressReader{r: part, report: report}, ContentLength: aws.Int64(part.Size()),
		ChecksumSHA256: aws.String(b64),
	}, unsignedPayload)
	if err != nil {
		return types.CompletedPart{}, s.hint(ctx, fmt.Sprintf("upload part %d of %s", number, key), err)
	}
	return types.CompletedPart{PartNumber: aws.Int32(number), ETag: out.ETag, ChecksumSHA256: aws.String(b64)}, nil
}

// Stat reads the object's size and the SHA-256 in its metadata.
func (s *S3Store) Stat(ctx context.Context, key string) (Object, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return Object{}, fmt.Errorf("%s: %w", key, ErrNotExist)
		}
		return Object{}, s.hint(ctx, fmt.Sprintf("look up %s", key), err)
	}
	return Object{Key: key, Size: aws.ToInt64(out.ContentLength), Modified: aws.ToTime(out.LastModified), SHA256: out.Metadata[metaSHA256]}, nil
}

// List pages through the keys under prefix.
func (s *S3Store) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, s.hint(ctx, fmt.Sprintf("list s3://%s/%s", s.bucket, prefix), err)
		}
		for _, o := range page.Contents {
			out = append(out, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), Modified: aws.ToTime(o.LastModified)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Open streams the object.
func (s *S3Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: %w", key, ErrNotExist)
		}
		return nil, s.hint(ctx, fmt.Sprintf("download %s", key), err)
	}
	return out.Body, nil
}

// OpenRange streams length bytes of the object from offset.
func (s *S3Store) OpenRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", offset, offset+length-1)),
	})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: %w", key, ErrNotExist)
		}
		return nil, s.hint(ctx, fmt.Sprintf("download %s", key), err)
	}
	return out.Body, nil
}

// Delete removes objects, a thousand per request.
func (s *S3Store) Delete(ctx context.Context, keys []string) error {
	for start := 0; start < len(keys); start += 1000 {
		batch := keys[start:min(start+1000, len(keys))]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket), Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return s.hint(ctx, fmt.Sprintf("delete %d objects", len(batch)), err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("delete %s: %s: %s", aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message))
		}
	}
	return nil
}

// RemoveAbandoned aborts the multipart uploads under prefix that were
// started before before: those of killed runs, whose parts are billed
// until aborted.
func (s *S3Store) RemoveAbandoned(ctx context.Context, prefix string, before time.Time, ours func(key string) bool) ([]string, error) {
	var removed []string
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)}
	for {
		page, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return removed, s.hint(ctx, fmt.Sprintf("list unfinished uploads under s3://%s/%s", s.bucket, prefix), err)
		}
		for _, u := range page.Uploads {
			if u.Initiated != nil && !u.Initiated.Before(before) || !ours(aws.ToString(u.Key)) {
				continue // may still be going on, or not runner's
			}
			_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String(s.bucket), Key: u.Key, UploadId: u.UploadId})
			if err != nil && !isNotFound(err) {
				return removed, s.hint(ctx, fmt.Sprintf("abort the unfinished upload of %s", aws.ToString(u.Key)), err)
			}
			removed = append(removed, fmt.Sprintf("s3://%s/%s (an upload started %s)", s.bucket, aws.ToString(u.Key), aws.ToTime(u.Initiated).UTC().Format(time.RFC3339)))
		}
		if !aws.ToBool(page.IsTruncated) {
			return removed, nil
		}
		in.KeyMarker, in.UploadIdMarker = page.NextKeyMarker, page.NextUploadIdMarker
	}
}

// unsignedPayload signs a body-carrying request with UNSIGNED-PAYLOAD.
// The body's SHA-256 still travels in x-amz-checksum-sha256, a signed
// header that S3 verifies against the bytes it receives, so integrity and
// authenticity are what a signed payload gives — without the SDK reading
// every body once more to hash it, nor the server hashing it twice.
func unsignedPayload(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
}

// progressReader reports bytes as the HTTP client reads them.
type progressReader struct {
	r      io.ReadSeeker
	report func(int64)
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.report(int64(n))
	}
	return n, err
}

func (p *progressReader) Seek(off int64, whence int) (int64, error) { return p.r.Seek(off, whence) }
