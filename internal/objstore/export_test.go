package objstore

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// EndpointOf returns the endpoint a store was configured with (tests only).
func EndpointOf(t *testing.T, s *S3Store) string {
	t.Helper()
	return aws.ToString(s.client.Options().BaseEndpoint)
}
