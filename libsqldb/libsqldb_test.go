package libsqldb_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/condohq/condo"
	"github.com/condohq/condo/libsqldb"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"libsql://db-org.turso.io":                     "libsql://db-org.turso.io",
		"libsql://db-org.turso.io?authToken=SECRET":    "libsql://db-org.turso.io",
		"https://user:SECRET@host:8080/_condo/t1#frag": "https://host:8080/_condo/t1",
		"http://h/%zz?authToken=SECRET":                "http://[redacted]",
	} {
		if got := libsqldb.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRedactError(t *testing.T) {
	err := errors.New(`Post "https://u:SECRET@db.example/v2/pipeline?authToken=SECRET": token TOKEN refused`)
	got := libsqldb.RedactError(err, "TOKEN")
	if strings.Contains(got, "SECRET") || strings.Contains(got, "TOKEN") {
		t.Fatalf("RedactError left a secret: %s", got)
	}
	if !strings.Contains(got, "https://db.example/v2/pipeline") {
		t.Fatalf("RedactError dropped the redacted URL: %s", got)
	}
	wrapped := libsqldb.ErrRedacted(err, "TOKEN")
	if wrapped.Error() != got || !errors.Is(wrapped, err) {
		t.Fatalf("ErrRedacted = %q (Is %v)", wrapped, errors.Is(wrapped, err))
	}
}

func TestValidate(t *testing.T) {
	for _, ok := range []string{"libsql://db.turso.io", "https://h:1/_condo/tenants/t1", "http://127.0.0.1:9"} {
		if err := libsqldb.Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "file:/tmp/x.db", "/data/t.db", "libsql://", "https://u:SECRET@h", "https://h?authToken=SECRET", "ftp://h"} {
		err := libsqldb.Validate(bad)
		if condo.ErrorCode(err) != condo.EINVALID {
			t.Errorf("Validate(%q) = %v, want EINVALID", bad, err)
		} else if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("Validate(%q) shows the secret: %v", bad, err)
		}
	}
}
