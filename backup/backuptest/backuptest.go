// Package backuptest starts a real S3-compatible server (gofakes3, over
// HTTP on loopback) for the tests of continuous backups.
package backuptest

import (
	"net/http/httptest"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// S3 is a running S3 server with one bucket.
type S3 struct {
	Server  *httptest.Server
	Backend *s3mem.Backend
	Bucket  string
}

// StartS3 starts it (closed when the test ends) and sets the AWS
// variables the replicator's client reads.
func StartS3(tb testing.TB) *S3 {
	tb.Helper()
	be := s3mem.New()
	if err := be.CreateBucket("condo-backups"); err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(be).Server())
	tb.Cleanup(srv.Close)
	tb.Setenv("AWS_ACCESS_KEY_ID", "test-key-id")
	tb.Setenv("AWS_SECRET_ACCESS_KEY", "test-secret-never-logged")
	tb.Setenv("AWS_REGION", "us-east-1")
	// Litestream's S3 client brings its own HTTP client, which the AWS
	// SDK refuses to give a CA bundle: the sandbox's AWS_CA_BUNDLE would
	// fail every request (and the server is plain HTTP anyway).
	tb.Setenv("AWS_CA_BUNDLE", "")
	return &S3{Server: srv, Backend: be, Bucket: "condo-backups"}
}

// URL is a --backup-url for it, under prefix.
func (s *S3) URL(prefix string) string {
	return "s3://" + s.Bucket + "/" + prefix + "?endpoint=" + s.Server.URL + "&region=us-east-1"
}

// Keys lists the bucket's object keys under prefix.
func (s *S3) Keys(tb testing.TB, prefix string) []string {
	tb.Helper()
	p := gofakes3.NewPrefix(&prefix, nil)
	list, err := s.Backend.ListBucket(s.Bucket, &p, gofakes3.ListBucketPage{})
	if err != nil {
		tb.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, o.Key)
	}
	return keys
}
