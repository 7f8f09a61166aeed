package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// sonicExport is a small SonicJS site as `wrangler d1 export` writes it:
// SonicJS's tables (packages/core/migrations/001_initial_schema.sql and
// 018_settings_table.sql), their rows, then the indexes.
func sonicExport(t *testing.T, adminHash string) string {
	t.Helper()
	const ms = 1_700_000_000_000
	var b strings.Builder
	b.WriteString(`PRAGMA defer_foreign_keys=TRUE;
CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, username TEXT NOT NULL UNIQUE, first_name TEXT NOT NULL, last_name TEXT NOT NULL, password_hash TEXT, role TEXT NOT NULL DEFAULT 'viewer', avatar TEXT, is_active INTEGER NOT NULL DEFAULT 1, last_login_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
`)
	fmt.Fprintf(&b, "INSERT INTO \"users\" (\"id\",\"email\",\"username\",\"first_name\",\"last_name\",\"password_hash\",\"role\",\"is_active\",\"created_at\",\"updated_at\") VALUES('u1','admin@site.example','admin','Ada','Admin','%s','admin',1,%d,%d);\n", adminHash, ms, ms)
	fmt.Fprintf(&b, "INSERT INTO \"users\" (\"id\",\"email\",\"username\",\"first_name\",\"last_name\",\"password_hash\",\"role\",\"is_active\",\"created_at\",\"updated_at\") VALUES('u2','ed@site.example','ed','Ed','Itor','%s','editor',1,%d,%d);\n",
		strings.Repeat("ab", 32), ms, ms)
	b.WriteString(`CREATE TABLE collections (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, description TEXT, schema TEXT NOT NULL, is_active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
INSERT INTO "collections" ("id","name","display_name","description","schema","is_active","created_at","updated_at") VALUES('pages-collection','pages','Pages','Static pages','{"type":"object","properties":{"title":{"type":"string","title":"Title","required":true},"content":{"type":"string","title":"Content","format":"richtext"}},"required":["title"]}',1,1700000000000,1700000000000);
CREATE TABLE content (id TEXT PRIMARY KEY, collection_id TEXT NOT NULL REFERENCES collections(id), slug TEXT NOT NULL, title TEXT NOT NULL, data TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'draft', published_at INTEGER, author_id TEXT NOT NULL REFERENCES users(id), created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
INSERT INTO "content" ("id","collection_id","slug","title","data","status","published_at","author_id","created_at","updated_at") VALUES('p1','pages-collection','about','About us','{"title":"About us","content":"<p>We''re a small team;\nbased in Leiden.</p>"}','published',1700000001000,'u1',1700000000000,1700000001000);
INSERT INTO "content" ("id","collection_id","slug","title","data","status","published_at","author_id","created_at","updated_at") VALUES('p2','pages-collection','contact','Contact','{"title":"Contact","content":"<p>Write to us</p>"}','draft',NULL,'u2',1700000002000,1700000002000);
INSERT INTO "content" ("id","collection_id","slug","title","data","status","published_at","author_id","created_at","updated_at") VALUES('p3','pages-collection','old','Old page','{"title":"Old page"}','deleted',NULL,'u2',1700000003000,1700000003000);
CREATE TABLE content_versions (id TEXT PRIMARY KEY, content_id TEXT NOT NULL REFERENCES content(id), version INTEGER NOT NULL, data TEXT NOT NULL, author_id TEXT NOT NULL REFERENCES users(id), created_at INTEGER NOT NULL);
INSERT INTO "content_versions" ("id","content_id","version","data","author_id","created_at") VALUES('v1','p1',1,'{"title":"About","content":"<p>draft</p>"}','u1',1700000000000);
CREATE TABLE media (id TEXT PRIMARY KEY, filename TEXT NOT NULL, original_name TEXT NOT NULL, mime_type TEXT NOT NULL, size INTEGER NOT NULL, width INTEGER, height INTEGER, folder TEXT NOT NULL DEFAULT 'uploads', r2_key TEXT NOT NULL, public_url TEXT NOT NULL, thumbnail_url TEXT, alt TEXT, caption TEXT, tags TEXT, uploaded_by TEXT NOT NULL REFERENCES users(id), uploaded_at INTEGER NOT NULL, updated_at INTEGER, published_at INTEGER, scheduled_at INTEGER, archived_at INTEGER, deleted_at INTEGER);
INSERT INTO "media" ("id","filename","original_name","mime_type","size","folder","r2_key","public_url","uploaded_by","uploaded_at") VALUES('m1','logo.png','Logo.png','image/png',2048,'uploads','uploads/logo.png','https://pub-site.r2.dev/uploads/logo.png','u1',1700000000);
CREATE TABLE api_tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, token TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES users(id), permissions TEXT NOT NULL, expires_at INTEGER, last_used_at INTEGER, created_at INTEGER NOT NULL);
INSERT INTO "api_tokens" ("id","name","token","user_id","permissions","created_at") VALUES('t1','Build','st_secret_value','u1','["content:read"]',1700000000000);
CREATE TABLE workflow_history (id TEXT PRIMARY KEY, content_id TEXT NOT NULL REFERENCES content(id), action TEXT NOT NULL, from_status TEXT NOT NULL, to_status TEXT NOT NULL, user_id TEXT NOT NULL REFERENCES users(id), comment TEXT, created_at INTEGER NOT NULL);
INSERT INTO "workflow_history" ("id","content_id","action","from_status","to_status","user_id","comment","created_at") VALUES('w1','p1','status_changed','draft','published','u1','ship it',1700000001000);
CREATE TABLE settings (id TEXT PRIMARY KEY, category TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE(category, key));
INSERT INTO "settings" ("id","category","key","value","created_at","updated_at") VALUES('s1','general','siteName','"Site"',1700000000000,1700000000000);
CREATE INDEX idx_content_collection ON content(collection_id);
`)
	return b.String()
}

// TestImportSonicJS runs `condo import sonicjs` on a SonicJS export, then
// serves the tenant it made from a real `condo serve`: a user whose hash
// Condo verifies signs in and reads the content. Bad input changes
// nothing and says so in one line.
func TestImportSonicJS(t *testing.T) {
	data := t.TempDir()
	mustCatalog(t, data)
	hash, err := bcrypt.GenerateFromPassword([]byte("admin password 1"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "export.sql")
	if err := os.WriteFile(file, []byte(sonicExport(t, string(hash))), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "import", "sonicjs", "--id", "site", "--data", data, "--json", file)
	if code != 0 {
		t.Fatalf("import sonicjs: %d %s", code, errOut)
	}
	var rep struct {
		Tenant struct{ ID, Name string }
		Source string
		Mapped map[string]int
		Reset  []string `json:"reset_required"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("--json = %q: %v", out, err)
	}
	want := map[string]int{"collections": 1, "content": 3, "versions": 4, "workflow_history": 1, "media": 1, "media_files": 0, "users": 2, "api_tokens": 1, "settings": 1}
	if rep.Tenant.ID != "site" || rep.Tenant.Name != "Site" || rep.Source != "sql" || fmt.Sprint(rep.Mapped) != fmt.Sprint(want) ||
		strings.Join(rep.Reset, ",") != "ed@site.example" {
		t.Fatalf("report: %+v", rep)
	}

	// The text report, for another tenant from the same file.
	code, out, errOut = run(t, "", "import", "sonicjs", "--id", "site2", "--data", data, file)
	if code != 0 {
		t.Fatalf("import sonicjs: %d %s", code, errOut)
	}
	for _, s := range []string{"as tenant site2", "mapped: 1 collections, 3 items", "must reset their password (1): ed@site.example",
		"revoked API tokens (1): Build", "without their bytes"} {
		if !strings.Contains(out, s) {
			t.Errorf("report lacks %q:\n%s", s, out)
		}
	}

	// Bad input: one line, non-zero, no tenant.
	junk := filepath.Join(dir, "junk.bin")
	os.WriteFile(junk, []byte{0, 1, 2, 3}, 0o600)
	for _, args := range [][]string{
		{"import", "sonicjs", "--id", "junk", "--data", data, junk},
		{"import", "sonicjs", "--id", "site", "--data", data, file},
		{"import", "sonicjs", "--data", data, file},
	} {
		code, _, errOut := run(t, "", args...)
		if code == 0 {
			t.Fatalf("%v: exit 0", args)
		}
		oneErrorLine(t, errOut)
	}
	code, out, _ = run(t, "", "tenants", "list", "--data", data, "--json")
	if code != 0 || strings.Contains(out, `"junk"`) {
		t.Fatalf("tenants list: %d %s", code, out)
	}

	// The imported tenant serves.
	runCondo(t, []string{"CONDO_ADMIN_PASSWORD=a long chosen password"}, "", "admins", "create", "ops@example.com", "--data", data)
	srv := startServer(t, data)
	// The platform API imports too: the file as the body.
	_, plogin, _ := srv.sendJSON(t, "POST", "localhost", "/platform/auth/login", "", map[string]string{"email": "ops@example.com", "password": "a long chosen password"})
	body, _ := os.ReadFile(file)
	for _, c := range []struct {
		query string
		want  int
	}{{"?id=site3", 201}, {"?id=site3", 409}, {"?id=Bad_Id", 400}} {
		query, want := c.query, c.want
		req, _ := http.NewRequest("POST", "http://"+srv.addr+"/platform/tenants/import/sonicjs"+query, strings.NewReader(string(body)))
		req.Host = "localhost"
		req.Header.Set("Authorization", "Bearer "+jsonStr(plogin, "token"))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want || (want == 201 && !strings.Contains(string(b), `"mapped"`)) {
			t.Errorf("POST /platform/tenants/import/sonicjs%s: %d %s", query, res.StatusCode, b)
		}
	}
	const host = "site.localhost"
	code, login, _ := srv.sendJSON(t, "POST", host, "/auth/login", "", map[string]string{"email": "admin@site.example", "password": "admin password 1"})
	if code != 200 {
		t.Fatalf("login: %d %v", code, login)
	}
	token := jsonStr(login, "token")
	if code, body, _ := srv.sendJSON(t, "POST", host, "/auth/login", "", map[string]string{"email": "ed@site.example", "password": "anything"}); code != 401 {
		t.Fatalf("login without a usable password: %d %v", code, body)
	}
	code, list, _ := srv.sendJSON(t, "GET", host, "/api/collections/pages/content", token, nil)
	items, _ := list["data"].([]any)
	if code != 200 || len(items) != 2 {
		t.Fatalf("list: %d %v", code, list)
	}
	code, item, _ := srv.sendJSON(t, "GET", host, "/api/content/p1", token, nil)
	if code != 200 || jsonStr(item, "data", "title") != "About us" || jsonStr(item, "data", "status") != "published" ||
		!strings.Contains(jsonStr(item, "data", "data", "content"), "a small team;\nbased in Leiden.") { // the ; in the string did not end the statement
		t.Fatalf("get: %d %v", code, item)
	}
	code, vers, _ := srv.sendJSON(t, "GET", host, "/api/content/p1/versions", token, nil)
	if vs, _ := vers["data"].([]any); code != 200 || len(vs) != 2 {
		t.Fatalf("versions: %d %v", code, vers)
	}
}
