package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tursodatabase/libsql-client-go/libsql"

	"github.com/condohq/condo/migrations/migrationstest"
)

// A tenant whose location is another node's libSQL endpoint: node B (a
// real `condo serve`) holds tenant t1, created as any tenant is; node A
// (another one) serves tenant r1 from there, addressed by path
// (/_condo/tenants/t1, no DNS) with an sql.owner token of B's t1. Through
// A: the CMS and auth, the libSQL endpoint (capped to the client's token),
// a fleet migration; the location's token is never in A's logs nor in any
// output.
func TestServe_RemoteLocation(t *testing.T) {
	ctx := context.Background()
	dataB, dataA := t.TempDir(), t.TempDir()
	b := startServer(t, dataB)
	if code, _, errOut := runCondo(t, nil, "", "tenants", "create", "t1", "--data", dataB); code != 0 {
		t.Fatalf("create t1 on B: %s", errOut)
	}
	bEnv := &libsqlEnv{server: b, data: dataB}
	locToken := bEnv.sqlToken(t, "t1", "owner")
	location := "http://" + b.addr + "/_condo/tenants/t1"

	a := startServer(t, dataA, "CONDO_ADMIN_EMAIL=ops@example.com", "CONDO_ADMIN_PASSWORD=a long chosen password")
	var outputs []string // every CLI and API answer of A, searched for the token
	runA := func(env []string, stdin string, args ...string) string {
		t.Helper()
		code, out, errOut := runCondo(t, env, stdin, append(args, "--data", dataA)...)
		outputs = append(outputs, out, errOut)
		if code != 0 {
			t.Fatalf("condo %v: %d %s", args, code, errOut)
		}
		return out
	}
	out := runA(nil, locToken+"\n", "tenants", "create", "r1", "--location", location, "--json")
	var created struct{ Location string }
	json.Unmarshal([]byte(out), &created)
	if created.Location != location {
		t.Fatalf("created location %q, want %q", created.Location, location)
	}
	if out := runA(nil, "", "tenants", "show", "r1"); !strings.Contains(out, "location:  "+location) {
		t.Errorf("tenants show names no location:\n%s", out)
	}
	runA([]string{"CONDO_PASSWORD=a long chosen password"}, "", "users", "create", "r1", "ed@r1.test", "--role", "admin")

	// The CMS and auth through A: the rows land in B's t1.
	const host = "r1.localhost"
	eventually(t, func() bool { c, _ := a.get(t, host, "/api/tenant"); return c == 200 })
	code, login, _ := a.sendJSON(t, "POST", host, "/auth/login", "", map[string]string{"email": "ed@r1.test", "password": "a long chosen password"})
	if code != 200 {
		t.Fatalf("login through A: %d %v", code, login)
	}
	jwt := jsonStr(login, "token")
	schema := map[string]any{"name": "posts", "public": true, "schema": map[string]any{"type": "object",
		"properties": map[string]any{"body": map[string]any{"type": "string"}}}}
	if code, body, _ := a.sendJSON(t, "POST", host, "/api/collections", jwt, schema); code != 201 {
		t.Fatalf("create collection through A: %d %v", code, body)
	}
	code, item, _ := a.sendJSON(t, "POST", host, "/api/collections/posts/content", jwt,
		map[string]any{"title": "Hello from A", "status": "published", "data": map[string]any{"body": "stored on B"}})
	if code != 201 {
		t.Fatalf("create item through A: %d %v", code, item)
	}
	id := jsonStr(item, "data", "id")
	code, got, _ := a.sendJSON(t, "GET", host, "/api/content/"+id, jwt, nil)
	if code != 200 || jsonStr(got, "data", "title") != "Hello from A" {
		t.Fatalf("read item through A: %d %v", code, got)
	}
	// Media stay on the home node's volume; their rows go to B.
	if code, media := a.upload(t, host, jwt, "notes.txt", "kept at home"); code != 201 {
		t.Fatalf("upload through A: %d %v", code, media)
	}
	if files, _ := filepath.Glob(filepath.Join(dataA, "tenants", "r1", "media", "*.txt")); len(files) != 1 {
		t.Errorf("media files on A's volume: %v", files)
	}
	onB := bEnv.openGo(t, "t1", bEnv.sqlToken(t, "t1", "write"))
	var media int
	if err := onB.QueryRowContext(ctx, "SELECT count(*) FROM media").Scan(&media); err != nil || media != 1 {
		t.Errorf("media rows on B: %d %v", media, err)
	}
	var title string
	if err := onB.QueryRowContext(ctx, "SELECT title FROM content WHERE id = ?", id).Scan(&title); err != nil || title != "Hello from A" {
		t.Fatalf("the item on B: %q %v", title, err)
	}

	// The libSQL endpoint through A (libsql-client-go → A → B), by host.
	openA := func(token string) *sql.DB {
		c, err := libsql.NewConnector("libsql://"+host, libsql.WithProxy("http://"+a.addr), libsql.WithAuthToken(token))
		if err != nil {
			t.Fatal(err)
		}
		db := sql.OpenDB(c)
		t.Cleanup(func() { db.Close() })
		return db
	}
	tokenOf := func(mode string) string {
		var tok struct{ Token string }
		json.Unmarshal([]byte(runA(nil, "", "tokens", "create", "r1", "--sql", mode, "--json")), &tok)
		return tok.Token
	}
	writer := openA(tokenOf("write"))
	if _, err := writer.ExecContext(ctx, "CREATE TABLE notes (n TEXT)"); err != nil {
		t.Fatalf("create a table through A: %v", err)
	}
	tx, err := writer.BeginTx(ctx, nil) // a stream: its baton goes through A to B and back
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"one", "two"} {
		if _, err := tx.ExecContext(ctx, "INSERT INTO notes VALUES (?)", n); err != nil {
			t.Fatalf("insert in a transaction through A: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := onB.QueryRowContext(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil || n != 2 {
		t.Fatalf("notes on B: %d %v", n, err)
	}
	// sql.write is capped to the tenant's own tables, as on a local tenant.
	if _, err := writer.ExecContext(ctx, "UPDATE users SET role = 'viewer'"); err == nil || !strings.Contains(err.Error(), "not authorized") {
		t.Errorf("a sql.write token writing users through A: %v, want not authorized", err)
	}
	reader := openA(tokenOf("read"))
	if err := reader.QueryRowContext(ctx, "SELECT count(*) FROM notes").Scan(&n); err != nil || n != 2 {
		t.Fatalf("read through A with sql.read: %d %v", n, err)
	}
	if _, err := reader.ExecContext(ctx, "INSERT INTO notes VALUES ('three')"); err == nil || !strings.Contains(err.Error(), "not authorized") {
		t.Errorf("a sql.read token writing through A: %v, want not authorized", err)
	}

	// A fleet migration of A's tenants runs on the remote one; a dry run
	// cannot copy it, and says so.
	out = runA([]string{"CONDO_TENANT_MIGRATIONS=" + migrationstest.Dir(t, "wordcount")}, "", "migrate", "up", "--dry-run")
	if !strings.Contains(out, "1 at remote locations not sampled") {
		t.Errorf("dry run with a remote tenant:\n%s", out)
	}
	runA([]string{"CONDO_TENANT_MIGRATIONS=" + migrationstest.Dir(t, "wordcount")}, "", "migrate", "up")
	var v int
	if err := onB.QueryRowContext(ctx, "SELECT version FROM schema_migrations").Scan(&v); err != nil || v != migrationstest.Version {
		t.Fatalf("t1's version on B after A's migrate up: %d %v", v, err)
	}
	out = runA(nil, "", "tenants", "show", "r1", "--json")
	if !strings.Contains(out, `"version":101`) && !strings.Contains(out, `"version": 101`) {
		t.Errorf("r1's recorded schema after the migration: %s", out)
	}

	// The platform API's tenant, one and all.
	_, plogin, _ := a.sendJSON(t, "POST", "localhost", "/platform/auth/login", "", map[string]string{"email": "ops@example.com", "password": "a long chosen password"})
	for _, path := range []string{"/platform/tenants/r1", "/platform/tenants"} {
		code, body, _ := a.sendJSON(t, "GET", "localhost", path, jsonStr(plogin, "token"), nil)
		b, _ := json.Marshal(body)
		if code != 200 || !strings.Contains(string(b), location) {
			t.Errorf("GET %s: %d %s", path, code, b)
		}
		outputs = append(outputs, string(b))
	}

	// The GDPR delete through A empties the database at the location and
	// removes r1's media from A's volume.
	if code, _, errOut := runCondo(t, nil, "", "tenants", "delete", "r1", "--yes", "--data", dataA); code != 0 {
		t.Fatalf("delete r1: %s\nB's log: %s", errOut, b.logs.String()[max(0, len(b.logs.String())-3000):])
	}
	// (Read from B's file: the location's credential was in the database
	// it erased.)
	onBFile, err := sql.Open("sqlite", "file:"+filepath.Join(dataB, "tenants", "t1", "tenant.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer onBFile.Close()
	var left int
	if err := onBFile.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("objects left at the location after the delete: %d %v", left, err)
	}
	if files, _ := filepath.Glob(filepath.Join(dataA, "tenants", "r1", "*")); len(files) != 0 {
		t.Errorf("r1's files on A after the delete: %v", files)
	}

	for _, s := range append(outputs, a.logs.String()) {
		if strings.Contains(s, locToken) {
			t.Fatalf("the location token appeared in A's output or log: %s", s)
		}
	}
}
