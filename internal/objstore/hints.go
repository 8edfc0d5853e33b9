package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/novelfactory/runner/internal/errclass"
)

// hint wraps an S3 error with what was being done and what to do about it,
// branching on the API error code (never on message text), and marks the
// faults worth retrying as transient.
func (s *S3Store) hint(ctx context.Context, doing string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", doing, err)
	}
	code, status := errorCode(err)
	if code == "" || code == "Forbidden" || code == "BadRequest" || code == "MovedPermanently" {
		// A HEAD response has no body, so no error code: ask again with a
		// request that has one.
		code = s.probeCode(ctx, code)
	}
	var advice string
	switch code {
	case "SignatureDoesNotMatch":
		advice = "S3 rejected the request's signature: check AWS_SECRET_ACCESS_KEY (a stray space or newline from copy-paste), the machine's clock, and the endpoint and path_style settings"
	case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
		advice = s.regionAdvice(ctx)
	case "NoSuchBucket":
		advice = fmt.Sprintf("bucket %q does not exist (or not in this account and endpoint): create it or fix the name in the target URL", s.bucket)
	case "AccessDenied", "AllAccessDisabled":
		advice = fmt.Sprintf("the credentials are not allowed to do this on bucket %q: grant the IAM policy in docs/backup.md (s3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject, s3:AbortMultipartUpload)", s.bucket)
	case "InvalidAccessKeyId", "XAdminUserNotFound": // the second is versitygw's
		advice = "S3 does not know this access key: check AWS_ACCESS_KEY_ID (and the endpoint, for S3-compatible servers)"
	case "ExpiredToken", "TokenRefreshRequired", "RequestExpired", "InvalidToken":
		advice = "the credentials have expired: refresh them (aws sso login, or new keys in the CI secrets) and check the machine's clock"
	case "BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest":
		advice = "the bytes S3 received do not match their checksum: the file changed while it was sent, or the network corrupted it"
	}
	if code == "" && status == http.StatusMovedPermanently {
		advice = s.regionAdvice(ctx)
	}
	wrapped := err
	if advice != "" {
		wrapped = fmt.Errorf("%w\n%s", err, advice)
	}
	out := fmt.Errorf("%s: %w", doing, wrapped)
	if transient(code, status, err) {
		return errclass.MarkTransient(out)
	}
	return out
}

// probeCode lists one key of the bucket to learn the error code that a
// failed HEAD could not carry; it returns fallback when that tells nothing.
func (s *S3Store) probeCode(ctx context.Context, fallback string) string {
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), MaxKeys: aws.Int32(1)})
	if err == nil {
		return fallback
	}
	if code, _ := errorCode(err); code != "" {
		return code
	}
	return fallback
}

// regionAdvice asks S3 where the bucket is: HeadBucket answers with the
// x-amz-bucket-region header even when it refuses the request.
func (s *S3Store) regionAdvice(ctx context.Context) string {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		if region := re.Response.Header.Get("X-Amz-Bucket-Region"); region != "" && region != s.region {
			return fmt.Sprintf("bucket %q is in %s, but the region in use is %s (AWS_REGION or with.region): set it to %s", s.bucket, region, s.region, region)
		}
	}
	return fmt.Sprintf("the bucket %q is not in region %s: set AWS_REGION (or with.region) to the bucket's region", s.bucket, s.region)
}

func errorCode(err error) (string, int) {
	code, status := "", 0
	var api smithy.APIError
	if errors.As(err, &api) {
		code = api.ErrorCode()
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func isNotFound(err error) bool {
	code, status := errorCode(err)
	return code == "NotFound" || code == "NoSuchKey" || status == http.StatusNotFound
}

// transient reports faults that may pass: 5xx, throttling, timeouts and
// broken connections. A 4xx that cannot change is never retried.
func transient(code string, status int, err error) bool {
	switch code {
	case "SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "RequestTimeTooSkewed", "InternalError", "ServiceUnavailable":
		return true
	}
	if status >= 500 {
		return true
	}
	if status >= 400 {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, io.ErrUnexpectedEOF)
}
