package main

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// libsqlClientModule is the Go client whose own test suite runs against
// Condo; its version is the one in go.mod.
const libsqlClientModule = "github.com/tursodatabase/libsql-client-go"

// upstreamSkipped lists the tests of libsql-client-go's tests/http that
// cannot pass against Condo, each with its reason. Empty: all pass.
var upstreamSkipped = map[string]string{}

// upstreamTests is how many tests tests/http has at go.mod's version: a
// run that passes fewer did not run them all.
const upstreamTests = 14

// libsql-client-go's own HTTP driver tests (tests/http), unchanged, against
// a tenant: `go test` in the module's folder of the module cache, with
// LIBSQL_TEST_HTTP_DB_URL naming the server's default tenant (the suite
// takes only a URL, so it cannot name a tenant by Host; see
// libsql_harness_test.go).
func TestLibSQL_GoClientOwnTests(t *testing.T) {
	t.Parallel()
	dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", libsqlClientModule).Output()
	if err != nil || len(strings.TrimSpace(string(dir))) == 0 {
		t.Fatalf("find %s in the module cache: %v (go mod download)", libsqlClientModule, err)
	}
	e := startLibSQL(t, "t1")
	args := []string{"test", "-count=1", "-v", "-timeout", "3m"}
	if len(upstreamSkipped) > 0 {
		var names []string
		for name := range upstreamSkipped {
			names = append(names, "^"+name+"$")
		}
		args = append(args, "-skip", strings.Join(names, "|"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", append(args, "./tests/http")...)
	cmd.Dir = strings.TrimSpace(string(dir))
	cmd.Env = append(os.Environ(),
		"LIBSQL_TEST_HTTP_DB_URL="+e.url(),
		"LIBSQL_TEST_HTTP_AUTH_TOKEN="+e.sqlToken(t, "t1", "write"),
		"GOFLAGS=-mod=readonly -buildvcs=false", // the module cache is read-only
	)
	out, err := cmd.CombinedOutput()
	passed := regexp.MustCompile(`(?m)^--- PASS: (\S+)`).FindAllStringSubmatch(string(out), -1)
	failed := regexp.MustCompile(`(?m)^--- FAIL: (\S+)`).FindAllStringSubmatch(string(out), -1)
	if err != nil || len(failed) > 0 {
		t.Fatalf("libsql-client-go's tests: %v, %d failed\n%s\nend of the server log:\n%s", err, len(failed), out, e.logTail())
	}
	if want := upstreamTests - len(upstreamSkipped); len(passed) < want {
		t.Fatalf("%d of libsql-client-go's tests passed, want %d:\n%s", len(passed), want, out)
	}
	t.Logf("%d of libsql-client-go's tests passed", len(passed))
}
