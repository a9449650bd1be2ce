package testenv

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// validBucket is S3's rule for bucket names (dots left out: we never make them).
var validBucket = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

func TestBucketName(t *testing.T) {
	tests := []string{
		"TestS3",
		"TestS3/RoundTrip/with_space.jpg",
		"Test_Ünïcødé/日本語",
		"TestX/" + strings.Repeat("long_name_", 20),
		"---",
		"",
	}
	for _, name := range tests {
		got := bucketName(name)
		if !validBucket.MatchString(got) {
			t.Errorf("bucketName(%q) = %q, not a valid bucket name", name, got)
		}
	}
	if a, b := bucketName("TestS3"), bucketName("TestS3"); a == b {
		t.Errorf("bucketName gave %q twice, want unique names", a)
	}
	if got, want := bucketName("TestS3/Copy"), "tests3-copy-"; !strings.HasPrefix(got, want) {
		t.Errorf("bucketName(TestS3/Copy) = %q, want prefix %q", got, want)
	}
}

func TestNewBucket(t *testing.T) {
	endpoint := S3Endpoint(t)
	c := S3Client(t, endpoint)
	var name string
	t.Run("create", func(t *testing.T) {
		name = NewBucket(t, endpoint)
		if _, err := c.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: &name}); err != nil {
			t.Fatalf("HeadBucket(%s) after NewBucket: %v", name, err)
		}
		key := "x"
		if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: &name, Key: &key, Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	})
	// The subtest's cleanup has emptied and deleted the bucket.
	if _, err := c.HeadBucket(t.Context(), &s3.HeadBucketInput{Bucket: &name}); err == nil {
		t.Errorf("bucket %s still exists after its test ended", name)
	}
}
