package sonicjs_test

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	_ "modernc.org/sqlite"
)

// sonicSchema is the schema a SonicJS site's D1 database has after
// SonicJS's own migrations (packages/core/migrations: 001_initial_schema,
// 003_stage5_enhancements, 004_stage6_user_management,
// 005_stage7_workflow_automation, 006 plugins, 009 logging,
// 011_config_managed_collections, 018_settings_table), written out here
// from reading them: the tables and columns the import meets in the wild.
// (005 creates workflow_history and content_versions IF NOT EXISTS, so
// 001's shapes are the ones a real site has.)
const sonicSchema = `
CREATE TABLE users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, username TEXT NOT NULL UNIQUE, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
  password_hash TEXT, role TEXT NOT NULL DEFAULT 'viewer', avatar TEXT, is_active INTEGER NOT NULL DEFAULT 1, last_login_at INTEGER,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  phone TEXT, bio TEXT, avatar_url TEXT, timezone TEXT DEFAULT 'UTC', language TEXT DEFAULT 'en', email_notifications INTEGER DEFAULT 1,
  theme TEXT DEFAULT 'dark', two_factor_enabled INTEGER DEFAULT 0, two_factor_secret TEXT, password_reset_token TEXT,
  password_reset_expires INTEGER, email_verified INTEGER DEFAULT 0, email_verification_token TEXT, invitation_token TEXT,
  invited_by TEXT REFERENCES users(id), invited_at INTEGER, accepted_invitation_at INTEGER
);
CREATE TABLE collections (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, description TEXT, schema TEXT NOT NULL,
  is_active INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, managed INTEGER DEFAULT 0 NOT NULL
);
CREATE TABLE content (
  id TEXT PRIMARY KEY, collection_id TEXT NOT NULL REFERENCES collections(id), slug TEXT NOT NULL, title TEXT NOT NULL,
  data TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'draft', published_at INTEGER, author_id TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  scheduled_publish_at INTEGER, scheduled_unpublish_at INTEGER, review_status TEXT DEFAULT 'none', reviewer_id TEXT REFERENCES users(id),
  reviewed_at INTEGER, review_notes TEXT, meta_title TEXT, meta_description TEXT, featured_image_id TEXT REFERENCES media(id),
  content_type TEXT DEFAULT 'standard',
  workflow_state_id TEXT DEFAULT 'draft', embargo_until DATETIME, expires_at DATETIME, version_number INTEGER DEFAULT 1, is_auto_saved INTEGER DEFAULT 0
);
CREATE TABLE content_versions (
  id TEXT PRIMARY KEY, content_id TEXT NOT NULL REFERENCES content(id), version INTEGER NOT NULL, data TEXT NOT NULL,
  author_id TEXT NOT NULL REFERENCES users(id), created_at INTEGER NOT NULL
);
CREATE TABLE media (
  id TEXT PRIMARY KEY, filename TEXT NOT NULL, original_name TEXT NOT NULL, mime_type TEXT NOT NULL, size INTEGER NOT NULL,
  width INTEGER, height INTEGER, folder TEXT NOT NULL DEFAULT 'uploads', r2_key TEXT NOT NULL, public_url TEXT NOT NULL,
  thumbnail_url TEXT, alt TEXT, caption TEXT, tags TEXT, uploaded_by TEXT NOT NULL REFERENCES users(id), uploaded_at INTEGER NOT NULL,
  updated_at INTEGER, published_at INTEGER, scheduled_at INTEGER, archived_at INTEGER, deleted_at INTEGER
);
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, token TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL REFERENCES users(id),
  permissions TEXT NOT NULL, expires_at INTEGER, last_used_at INTEGER, created_at INTEGER NOT NULL
);
CREATE TABLE workflow_history (
  id TEXT PRIMARY KEY, content_id TEXT NOT NULL REFERENCES content(id), action TEXT NOT NULL, from_status TEXT NOT NULL,
  to_status TEXT NOT NULL, user_id TEXT NOT NULL REFERENCES users(id), comment TEXT, created_at INTEGER NOT NULL
);
CREATE TABLE content_fields (
  id TEXT PRIMARY KEY, collection_id TEXT NOT NULL REFERENCES collections(id), field_name TEXT NOT NULL, field_type TEXT NOT NULL,
  field_label TEXT NOT NULL, field_options TEXT, field_order INTEGER NOT NULL DEFAULT 0, is_required INTEGER NOT NULL DEFAULT 0,
  is_searchable INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE(collection_id, field_name)
);
CREATE TABLE user_sessions (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE, token_hash TEXT NOT NULL, ip_address TEXT,
  user_agent TEXT, is_active INTEGER NOT NULL DEFAULT 1, expires_at INTEGER NOT NULL, created_at INTEGER NOT NULL, last_used_at INTEGER
);
CREATE TABLE workflow_states (
  id TEXT PRIMARY KEY DEFAULT (lower(hex(randomblob(16)))), name TEXT NOT NULL, description TEXT, color TEXT DEFAULT '#6B7280',
  is_initial INTEGER DEFAULT 0, is_final INTEGER DEFAULT 0, created_at DATETIME DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE plugins (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL, description TEXT, version TEXT NOT NULL,
  author TEXT NOT NULL, category TEXT NOT NULL, icon TEXT, status TEXT DEFAULT 'inactive', is_core INTEGER DEFAULT 0, settings TEXT,
  permissions TEXT, dependencies TEXT, download_count INTEGER DEFAULT 0, rating INTEGER DEFAULT 0, installed_at INTEGER NOT NULL,
  activated_at INTEGER, last_updated INTEGER NOT NULL, error_message TEXT, created_at INTEGER, updated_at INTEGER
);
CREATE TABLE settings (
  id TEXT PRIMARY KEY, category TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL, UNIQUE(category, key)
);
CREATE TABLE d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL);
CREATE INDEX idx_content_collection ON content(collection_id);
CREATE INDEX idx_content_status ON content(status);
CREATE TRIGGER content_touch AFTER UPDATE OF title ON content BEGIN
  UPDATE content SET updated_at = updated_at + 1 WHERE id = new.id;
END;
`

// sonicHash is SonicJS's password hash (AuthManager.hashPassword in
// packages/core/src/middleware/auth.ts): SHA-256 of the password and a
// fixed string, in hex. Made here only to fill the fixture as SonicJS
// would; Condo never verifies it.
func sonicHash(pw string) string {
	h := sha256.Sum256([]byte(pw + "salt-change-in-production"))
	return hex.EncodeToString(h[:])
}

// base is the fixture's clock: 14 November 2023, in milliseconds.
const base = int64(1_700_000_000_000)

// Collection schemas as SonicJS stores them.
const (
	pagesSchema = `{"type":"object","properties":{"title":{"type":"string","title":"Title","required":true},"content":{"type":"string","title":"Content","format":"richtext"},"slug":{"type":"slug","title":"Slug"},"meta_description":{"type":"string","title":"Meta Description","maxLength":160},"featured_image":{"type":"string","title":"Featured Image","format":"media"}},"required":["title"]}`
	newsSchema  = `{"type":"object","properties":{"title":{"type":"string","title":"Title","required":true},"content":{"type":"string","title":"Content","format":"richtext"},"publish_date":{"type":"string","title":"Publish Date","format":"date"},"author":{"type":"string","title":"Author"},"category":{"type":"string","title":"Category","enum":["technology","business","general"]}},"required":["title"]}`
	// A code-managed collection as SonicJS's collection sync stores it
	// (the blog-posts.collection.ts of its starter app).
	articlesSchema = `{"type":"object","properties":{"title":{"type":"string","title":"Title","required":true,"maxLength":200},"slug":{"type":"slug","title":"URL Slug","required":true,"maxLength":200},"excerpt":{"type":"textarea","title":"Excerpt","maxLength":500,"helpText":"A short summary of the post"},"content":{"type":"quill","title":"Content","required":true},"featuredImage":{"type":"media","title":"Featured Image"},"publishedAt":{"type":"datetime","title":"Published Date"},"difficulty":{"type":"select","title":"Difficulty","enum":["beginner","intermediate","advanced"],"enumLabels":["Beginner","Intermediate","Advanced"],"required":true,"default":"beginner"}},"required":["title","slug","content","difficulty"]}`
	blogSchema     = `{"type":"object","properties":{"title":{"type":"string","title":"Title","required":true},"content":{"type":"string","format":"richtext"},"excerpt":{"type":"string","maxLength":300},"tags":{"type":"array","items":{"type":"string"}},"gallery":{"type":"media","multiple":true,"accept":"image/*"},"read-time":{"type":"number","title":"Minutes"},"views":{"type":"integer"}},"required":["title"]}`
)

// buildFixture writes a SonicJS database with realistic rows to path and
// returns it, open.
func buildFixture(t *testing.T, path string) *sql.DB { return buildFixtureMode(t, path, "delete") }

// buildFixtureMode is buildFixture with a journal mode: "wal" leaves the
// rows in the -wal file while db is open, as a running wrangler dev does.
func buildFixtureMode(t *testing.T, path, journal string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=rwc&_pragma=journal_mode("+journal+")&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(sonicSchema)
	viewerHash, err := bcrypt.GenerateFromPassword([]byte("viewer-password-1"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users := []struct {
		id, email, username, role string
		hash                      any
	}{
		{"u-admin", "admin@acme.example", "admin", "admin", sonicHash("sonicjs!")},
		{"u-editor", "Editor@Acme.example", "editor", "editor", sonicHash("editor-pass")},
		{"u-author", "author@acme.example", "author", "author", sonicHash("author-pass")},
		{"u-viewer", "viewer@acme.example", "viewer", "viewer", string(viewerHash)},
		{"u-contrib", "contrib@acme.example", "contrib", "contributor", sonicHash("x")},
		{"u-oauth", "oauth@acme.example", "oauth", "author", nil},
		{"u-dup", "editor@acme.example", "editor2", "viewer", sonicHash("dup")},
	}
	for i, u := range users {
		exec(`INSERT INTO users (id, email, username, first_name, last_name, password_hash, role, is_active, last_login_at, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?)`, u.id, u.email, u.username, strings.ToUpper(u.username[:1])+u.username[1:], "Acme", u.hash, u.role,
			base+int64(i)*1000, base+int64(i), base+int64(i))
	}
	for _, c := range []struct{ id, name, display, schema string }{
		{"pages-collection", "pages", "Pages", pagesSchema},
		{"news-collection", "news", "News", newsSchema},
		{"blog-posts-collection", "blog_posts", "Blog Posts", blogSchema},
	} {
		exec(`INSERT INTO collections (id, name, display_name, description, schema, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)`,
			c.id, c.name, c.display, c.display+" content collection", c.schema, base, base)
	}
	exec(`INSERT INTO collections (id, name, display_name, schema, is_active, managed, created_at, updated_at) VALUES ('articles', 'articles', 'Articles', ?, 1, 1, ?, ?)`,
		articlesSchema, base, base)
	exec(`INSERT INTO content_fields (id, collection_id, field_name, field_type, field_label, field_order, created_at, updated_at)
		VALUES ('f1', 'pages-collection', 'title', 'text', 'Title', 1, ?, ?), ('f2', 'news-collection', 'title', 'text', 'Title', 1, ?, ?)`, base, base, base, base)
	// 60 items: 20 per collection, in every status SonicJS uses.
	statuses := []string{"published", "draft", "published", "archived", "review", "deleted", "scheduled", "pending", "published", "draft"}
	authors := []string{"u-admin", "u-editor", "u-author", "u-gone"}
	for i := range 60 {
		col := []string{"pages-collection", "news-collection", "blog-posts-collection"}[i%3]
		id := fmt.Sprintf("c-%02d", i)
		title := fmt.Sprintf("Item %02d of %s", i, col)
		status := statuses[i%len(statuses)]
		created := base + int64(i)*60_000
		var data map[string]any
		switch col {
		case "pages-collection":
			data = map[string]any{"title": title, "content": fmt.Sprintf("<p>Page body %d</p><script>alert(1)</script>", i), "slug": fmt.Sprintf("page-%d", i),
				"featured_image": "https://pub-acme.r2.dev/uploads/hero.jpg"}
		case "news-collection":
			data = map[string]any{"title": title, "content": "<p>News</p>", "publish_date": "2024-01-15", "author": "Jane", "category": []string{"technology", "business", "sports"}[(i/3)%3]}
		default:
			data = map[string]any{"title": title, "content": "<h2>Post</h2><p>Words</p>", "excerpt": "short", "tags": []string{"go", "cms"},
				"read-time": 4, "views": i * 10, "legacy_field": map[string]any{"x": 1}}
		}
		slug := fmt.Sprintf("item-%02d", i)
		if i == 2 {
			slug = "Hello_World"
		}
		var published, scheduled any
		if status == "published" {
			published = created + 30_000
		}
		if status == "scheduled" {
			scheduled = int64(4_102_444_800_000) // 2100: still ahead
		}
		exec(`INSERT INTO content (id, collection_id, slug, title, data, status, published_at, author_id, created_at, updated_at, scheduled_publish_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, col, slug, title, mustJSON(t, data), status, published, authors[i%len(authors)],
			created, created+50_000, scheduled)
		// Versions: the first draft, and the current data for most.
		v1 := map[string]any{}
		for k, v := range data {
			v1[k] = v
		}
		v1["title"] = title + " (first draft)"
		exec(`INSERT INTO content_versions (id, content_id, version, data, author_id, created_at) VALUES (?, ?, 1, ?, ?, ?)`,
			id+"-v1", id, mustJSON(t, v1), authors[i%len(authors)], created)
		if i%4 != 0 {
			exec(`INSERT INTO content_versions (id, content_id, version, data, author_id, created_at) VALUES (?, ?, 2, ?, ?, ?)`,
				id+"-v2", id, mustJSON(t, data), "u-editor", created+40_000)
		}
		exec(`INSERT INTO workflow_history (id, content_id, action, from_status, to_status, user_id, created_at) VALUES (?, ?, 'created', 'none', 'draft', ?, ?)`,
			id+"-w1", id, authors[i%len(authors)], created)
		if status != "draft" {
			exec(`INSERT INTO workflow_history (id, content_id, action, from_status, to_status, user_id, comment, created_at)
				VALUES (?, ?, 'status_changed', 'draft', ?, 'u-editor', ?, ?)`, id+"-w2", id, status, "looks good "+strconv.Itoa(i), created+45_000)
		}
	}
	// Media: uploaded_at in seconds, as SonicJS's upload route writes it.
	for i := range 5 {
		var deleted any
		if i == 4 {
			deleted = base + 1
		}
		exec(`INSERT INTO media (id, filename, original_name, mime_type, size, width, height, folder, r2_key, public_url, alt, tags, uploaded_by, uploaded_at, deleted_at)
			VALUES (?, ?, ?, 'image/jpeg', ?, 800, 600, 'uploads', ?, ?, ?, '["hero"]', 'u-admin', ?, ?)`,
			fmt.Sprintf("m-%d", i), fmt.Sprintf("photo-%d.jpg", i), fmt.Sprintf("Photo %d.jpg", i), 1000+i,
			fmt.Sprintf("uploads/photo-%d.jpg", i), fmt.Sprintf("https://pub-acme.r2.dev/uploads/photo-%d.jpg", i), "a photo", base/1000+int64(i), deleted)
	}
	exec(`INSERT INTO api_tokens (id, name, token, user_id, permissions, created_at) VALUES
		('t-1', 'Website build', 'st_live_0123456789abcdef', 'u-admin', '["content:read"]', ?),
		('t-2', 'Importer', 'st_live_fedcba9876543210', 'u-editor', '["content:read","content:write"]', ?)`, base, base)
	exec(`INSERT INTO settings (id, category, key, value, created_at, updated_at) VALUES
		('s1', 'general', 'siteName', '"Acme Docs"', ?, ?), ('s2', 'general', 'timezone', '"Europe/Amsterdam"', ?, ?),
		('s3', 'general', 'maintenanceMode', 'false', ?, ?), ('s4', 'appearance', 'theme', '"dark"', ?, ?)`,
		base, base, base, base, base, base, base, base)
	exec(`INSERT INTO user_sessions (id, user_id, token_hash, expires_at, created_at) VALUES ('sess-1', 'u-admin', 'abc', ?, ?)`, base, base)
	exec(`INSERT INTO workflow_states (id, name) VALUES ('draft', 'Draft'), ('published', 'Published')`)
	exec(`INSERT INTO plugins (id, name, display_name, version, author, category, installed_at, last_updated) VALUES ('core-auth', 'core-auth', 'Auth', '1.0.0', 'SonicJS', 'security', ?, ?)`, base, base)
	exec(`INSERT INTO d1_migrations (name) VALUES ('001_initial_schema.sql'), ('018_settings_table.sql')`)
	return db
}

// Fixture counts, as buildFixture fills it.
const (
	fixtureItems       = 60
	fixtureSonicVers   = 60 + 45 // every item's v1, and v2 for i%4 != 0
	fixtureWorkflow    = 60 + 48 // created for all, a move for each not draft
	fixtureUsers       = 6       // u-dup shares editor's email
	fixtureMedia       = 4       // one deleted
	fixtureCollections = 4
)

// exportSQL writes db as `wrangler d1 export` does: PRAGMA
// defer_foreign_keys, each table's CREATE and its rows as INSERT INTO
// "t" ("c",...) VALUES(...), then indexes and triggers.
func exportSQL(t *testing.T, db *sql.DB, path string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("PRAGMA defer_foreign_keys=TRUE;\n")
	rows, err := db.Query("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	type table struct{ name, sql string }
	var tables []table
	for rows.Next() {
		var tb table
		rows.Scan(&tb.name, &tb.sql)
		tables = append(tables, tb)
	}
	rows.Close()
	for _, tb := range tables {
		b.WriteString(tb.sql + ";\n")
		r, err := db.Query(`SELECT * FROM "` + tb.name + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := r.Columns()
		quoted := make([]string, len(cols))
		for i, c := range cols {
			quoted[i] = `"` + c + `"`
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for r.Next() {
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			lit := make([]string, len(vals))
			for i, v := range vals {
				switch x := v.(type) {
				case nil:
					lit[i] = "NULL"
				case int64:
					lit[i] = strconv.FormatInt(x, 10)
				case float64:
					lit[i] = strconv.FormatFloat(x, 'g', -1, 64)
				case []byte:
					lit[i] = "X'" + hex.EncodeToString(x) + "'"
				default:
					lit[i] = "'" + strings.ReplaceAll(fmt.Sprint(x), "'", "''") + "'"
				}
			}
			fmt.Fprintf(&b, "INSERT INTO %q (%s) VALUES(%s);\n", tb.name, strings.Join(quoted, ","), strings.Join(lit, ","))
		}
		r.Close()
	}
	rows, err = db.Query("SELECT sql FROM sqlite_schema WHERE type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY rowid")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		b.WriteString(s + ";\n")
	}
	rows.Close()
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func fixturePaths(t *testing.T) (dbFile, sqlFile string) {
	t.Helper()
	dir := t.TempDir()
	dbFile, sqlFile = filepath.Join(dir, "sonicjs.sqlite"), filepath.Join(dir, "export.sql")
	db := buildFixture(t, dbFile)
	exportSQL(t, db, sqlFile)
	return dbFile, sqlFile
}
