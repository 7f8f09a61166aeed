package hrana_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/condohq/condo/catalog"
	"github.com/condohq/condo/hrana"
	"github.com/condohq/condo/sqlitedb"
	"github.com/condohq/condo/tenantstore"
	"github.com/condohq/condo/tenantstore/tenantstoretest"
)

// tenantDB is a real tenant database at the latest schema, with a user, a
// session, a token and a collection in it, opened as the endpoint opens
// it (defensive mode).
type tenantDB struct {
	db *sqlitedb.DB
}

func mustTenantDB(t *testing.T) *tenantDB {
	t.Helper()
	env := tenantstoretest.MustOpen(t, catalog.Config{}, tenantstore.Config{})
	env.MustCreate(t, "alpha")
	path, err := env.Store.Path("alpha")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlitedb.Open(path, sqlitedb.Options{Defensive: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.Writer().ExecContext(context.Background(), `
		INSERT INTO users (id, email, password_hash, role, created_at, updated_at) VALUES ('u1', 'a@example.test', '$argon2id$secret', 'admin', 0, 0);
		INSERT INTO sessions (id, user_id, created_at, last_used_at, expires_at) VALUES ('s1', 'u1', 0, 0, 9999999999999);
		INSERT INTO refresh_tokens (token_hash, session_id, expires_at, created_at) VALUES ('rhash', 's1', 9999999999999, 0);
		INSERT INTO password_resets (token_hash, user_id, expires_at, created_at) VALUES ('phash', 'u1', 9999999999999, 0);
		INSERT INTO api_tokens (id, name, token_hash, user_id, created_at) VALUES ('t1', 'ci', 'thash', 'u1', 0);
		INSERT INTO collections (id, name, display_name, created_at, updated_at) VALUES ('c1', 'posts', 'Posts', 0, 0);`)
	if err != nil {
		t.Fatal(err)
	}
	return &tenantDB{db: db}
}

// conn returns a connection of the file protected with a, released and
// closed when the test ends.
func (d *tenantDB) conn(t *testing.T, a hrana.Access) (*sql.Conn, *hrana.Guard) {
	t.Helper()
	ctx := context.Background()
	c, err := d.db.Writer().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g, err := hrana.Protect(ctx, c, a)
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Release(ctx); err != nil {
			t.Error(err)
		}
		c.Close()
	})
	return c, g
}

func exec(c *sql.Conn, q string) error {
	_, err := c.ExecContext(context.Background(), q)
	return err
}

func queryInt(t *testing.T, c *sql.Conn, q string) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRowContext(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// isAuthError reports whether the authorizer refused the statement:
// SQLITE_AUTH, or SQLITE_ERROR "not authorized to use function" for a
// function.
func isAuthError(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && (se.Code()&0xff == sqlite3.SQLITE_AUTH || strings.Contains(se.Error(), "not authorized"))
}

// item is an INSERT of a content item of collection c1.
func item(id, title string) string {
	return fmt.Sprintf("INSERT INTO content (id, collection_id, slug, title, created_at, updated_at) VALUES ('%s', 'c1', '%s', '%s', 0, 0)", id, id, title)
}

func TestProtect_Refused(t *testing.T) {
	d := mustTenantDB(t)
	outside := t.TempDir()
	both := []string{
		// Secrets.
		"SELECT * FROM sessions",
		"SELECT count(*) FROM sessions",
		"SELECT token_hash FROM refresh_tokens",
		"SELECT count(*) FROM password_resets",
		"SELECT data FROM sqlite_dbpage",
		// Outside the file, or its durability and safety.
		"ATTACH '" + filepath.Join(outside, "x.db") + "' AS x",
		"VACUUM INTO '" + filepath.Join(outside, "copy.db") + "'",
		"VACUUM",
		"SELECT load_extension('/tmp/x.so')",
		"PRAGMA synchronous = OFF",
		"PRAGMA writable_schema = ON",
		"PRAGMA journal_mode = DELETE",
		"PRAGMA query_only = 0",
		"PRAGMA locking_mode = EXCLUSIVE",
		"PRAGMA mmap_size = 1000000",
		"PRAGMA cell_size_check = ON",
		"PRAGMA database_list",
		"ANALYZE",
		// Bookkeeping.
		"INSERT INTO schema_migrations (version, dirty) VALUES (99, 0)",
		"UPDATE schema_migrations SET dirty = 1",
		"INSERT INTO audit_log (category, action, created_at) VALUES ('audit', 'forged', 0)",
		"DELETE FROM audit_log",
		"INSERT INTO content_fts (content_fts) VALUES ('delete-all')",
		"DELETE FROM content_fts",
		// Identity goes through the API.
		"UPDATE users SET password_hash = 'known'",
		"UPDATE users SET role = 'admin'",
		"INSERT INTO api_tokens (id, name, token_hash, user_id, created_at) VALUES ('t2', 'x', 'h', 'u1', 0)",
		"UPDATE settings SET value = '{}'",
		"DELETE FROM sessions",
		// Condo's schema.
		"DROP TABLE content",
		"DROP TABLE schema_migrations",
		"ALTER TABLE users ADD COLUMN x TEXT",
		"ALTER TABLE content RENAME TO posts",
		"CREATE INDEX mine ON users (password_hash)",
		"DROP INDEX content_list",
		"DROP TRIGGER content_fts_insert",
		"DROP TRIGGER content_status_insert",
		"CREATE TRIGGER copy AFTER UPDATE ON users BEGIN SELECT 1; END",
		"CREATE TEMP TRIGGER copy AFTER INSERT ON content BEGIN SELECT 1; END",
		"CREATE TABLE condo_parked_users (x)",
		"CREATE TABLE content_fts_extra (x)",
		"CREATE VIRTUAL TABLE stats USING dbstat",
		"DROP TABLE content_fts",
	}
	readOnly := []string{
		item("i1", "hello"),
		"UPDATE collections SET display_name = 'x'",
		"DELETE FROM collections",
		"CREATE TABLE notes (body TEXT)",
		"CREATE TEMP TABLE scratch (x)",
		"PRAGMA user_version = 5",
		"REINDEX",
	}
	// query_only, not the authorizer, refuses these on a read-only
	// connection: taking the write lock would block the tenant's writers.
	lockers := []string{"BEGIN IMMEDIATE", "BEGIN EXCLUSIVE"}
	run := func(t *testing.T, a hrana.Access, stmts []string) *sql.Conn {
		c, _ := d.conn(t, a)
		for _, q := range stmts {
			if err := exec(c, q); !isAuthError(err) {
				t.Errorf("%s: got %v, want not authorized", q, err)
			}
		}
		return c
	}
	t.Run("ReadWrite", func(t *testing.T) { run(t, hrana.ReadWrite, both) })
	t.Run("ReadOnly", func(t *testing.T) {
		c := run(t, hrana.ReadOnly, append(both, readOnly...))
		for _, q := range lockers {
			if err := exec(c, q); err == nil {
				exec(c, "ROLLBACK")
				t.Errorf("%s: allowed on a read-only connection", q)
			}
		}
	})
	t.Run("ReadOnlyTx", func(t *testing.T) {
		c, g := d.conn(t, hrana.ReadWrite)
		if err := exec(c, "BEGIN TRANSACTION READONLY"); err != nil {
			t.Fatal(err)
		}
		g.ReadOnlyTx(true)
		for _, q := range readOnly {
			if err := exec(c, q); !isAuthError(err) {
				t.Errorf("%s: got %v, want not authorized", q, err)
			}
		}
		if got := queryInt(t, c, "SELECT count(*) FROM collections"); got != 1 {
			t.Errorf("collections = %d, want 1", got)
		}
		if err := exec(c, "COMMIT"); err != nil {
			t.Fatal(err)
		}
		g.ReadOnlyTx(false)
		if err := exec(c, item("i1", "hello")); err != nil {
			t.Errorf("write after the read-only transaction: %v", err)
		}
	})
}

func TestProtect_ReadOnly(t *testing.T) {
	d := mustTenantDB(t)
	ctx := context.Background()
	c, err := d.db.Writer().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g, err := hrana.Protect(ctx, c, hrana.ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"SELECT id, email, role FROM users",
		"SELECT * FROM content_fts WHERE content_fts MATCH 'hello'",
		"BEGIN", "SELECT count(*) FROM content", "SAVEPOINT a", "RELEASE a", "COMMIT",
		"PRAGMA table_info(users)", "PRAGMA index_list(content)", "PRAGMA foreign_key_list(content)",
		"PRAGMA user_version", "PRAGMA journal_mode", "SELECT * FROM pragma_table_info('content')",
		"PRAGMA integrity_check",
	} {
		if err := exec(c, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	if g.TakeWrote() {
		t.Error("TakeWrote after reads only")
	}
	// sql.read is an editor's permission: no audit log, no token list.
	for _, q := range []string{"SELECT count(*) FROM audit_log", "SELECT name FROM api_tokens"} {
		if err := exec(c, q); err == nil {
			t.Errorf("%s: read with sql.read only", q)
		}
	}
	if err := g.Release(ctx); err != nil {
		t.Fatal(err)
	}
	// Released, the connection is a plain one again: query_only is off.
	if err := exec(c, item("i1", "hello")); err != nil {
		t.Errorf("write after Release: %v", err)
	}
}

func TestProtect_Secrets(t *testing.T) {
	d := mustTenantDB(t)
	c, _ := d.conn(t, hrana.ReadWrite)
	ctx := context.Background()

	rows, err := c.QueryContext(ctx, "SELECT * FROM users")
	if err != nil {
		t.Fatal(err)
	}
	cols, _ := rows.Columns()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if !rows.Next() {
		t.Fatal("no user")
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	for i, col := range cols {
		switch col {
		case "password_hash":
			if vals[i] != nil {
				t.Errorf("password_hash = %v, want NULL", vals[i])
			}
		case "email":
			if vals[i] != "a@example.test" {
				t.Errorf("email = %v", vals[i])
			}
		}
	}
	for q, want := range map[string]int64{
		"SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$%'": 0,
		"SELECT count(*) FROM users WHERE password_hash IS NULL":            1,
		"SELECT count(*) FROM api_tokens WHERE token_hash IS NULL":          1,
		"SELECT count(*) FROM api_tokens WHERE name = 'ci'":                 1,
	} {
		if got := queryInt(t, c, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	// Through a view of the tenant's own the column stays hidden.
	if err := exec(c, "CREATE VIEW hashes AS SELECT email, password_hash AS h FROM users"); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, c, "SELECT count(*) FROM hashes WHERE h IS NULL"); got != 1 {
		t.Errorf("a view shows the hash")
	}
	if err := exec(c, "CREATE VIEW s AS SELECT * FROM sessions"); err != nil {
		t.Fatal(err)
	}
	if err := exec(c, "SELECT * FROM s"); !isAuthError(err) {
		t.Errorf("sessions through a view: %v", err)
	}
}

func TestProtect_ReadWrite(t *testing.T) {
	d := mustTenantDB(t)
	c, g := d.conn(t, hrana.ReadWrite)
	search := func(word string) int64 {
		return queryInt(t, c, "SELECT count(*) FROM content_fts WHERE content_fts MATCH '"+word+"'")
	}
	g.TakeWrote()
	if err := exec(c, item("i1", "hello world")); err != nil {
		t.Fatal(err)
	}
	if !g.TakeWrote() {
		t.Error("TakeWrote after an INSERT")
	}
	if got := search("hello"); got != 1 {
		t.Errorf("search after insert = %d, want 1", got)
	}
	if g.TakeWrote() {
		t.Error("TakeWrote after a search")
	}
	if err := exec(c, "UPDATE content SET title = 'goodbye world' WHERE id = 'i1'"); err != nil {
		t.Fatal(err)
	}
	if got, got2 := search("hello"), search("goodbye"); got != 0 || got2 != 1 {
		t.Errorf("search after update: hello %d goodbye %d, want 0 1", got, got2)
	}
	// Deleting the collection cascades to its items, and the index follows.
	if err := exec(c, "DELETE FROM collections WHERE id = 'c1'"); err != nil {
		t.Fatal(err)
	}
	if got := search("goodbye"); got != 0 {
		t.Errorf("search after delete = %d, want 0", got)
	}
	if got := queryInt(t, c, "SELECT count(*) FROM content"); got != 0 {
		t.Errorf("content after cascade = %d", got)
	}

	// The tenant's own tables are the tenant's: create, index, trigger,
	// alter, write, drop; temporary ones too.
	for _, q := range []string{
		"CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT)",
		"CREATE INDEX notes_body ON notes (body)",
		"CREATE TABLE notes_log (n INTEGER)",
		"CREATE TRIGGER notes_count AFTER INSERT ON notes BEGIN INSERT INTO notes_log VALUES (new.id); END",
		"INSERT INTO notes (body) VALUES ('one')",
		"ALTER TABLE notes ADD COLUMN done INTEGER NOT NULL DEFAULT 0",
		"UPDATE notes SET done = 1",
		"CREATE VIEW open_notes AS SELECT * FROM notes WHERE done = 0",
		"CREATE VIRTUAL TABLE notes_fts USING fts5(body)",
		"INSERT INTO notes_fts VALUES ('searchable words')",
		"SELECT * FROM notes_fts WHERE notes_fts MATCH 'words'",
		"CREATE TEMP TABLE scratch (x)",
		"INSERT INTO scratch VALUES (1)",
		"PRAGMA defer_foreign_keys = ON",
		"PRAGMA foreign_keys = ON",
		"REINDEX notes_body",
		"DROP VIEW open_notes",
		"DROP TRIGGER notes_count",
		"DROP INDEX notes_body",
		"DROP TABLE notes_fts",
		"ALTER TABLE notes RENAME COLUMN done TO finished",
		"ALTER TABLE notes RENAME TO jottings",
		"ALTER TABLE jottings DROP COLUMN finished",
		"DROP TABLE jottings",
	} {
		if err := exec(c, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	if got := queryInt(t, c, "SELECT count(*) FROM notes_log"); got != 1 {
		t.Errorf("notes_log = %d, want 1 (the trigger ran)", got)
	}
}

// A trigger on the tenant's own table runs under the same rules: it may
// be made, but a statement firing one that writes Condo's bookkeeping is
// refused as a whole.
func TestProtect_TenantTriggerRules(t *testing.T) {
	d := mustTenantDB(t)
	c, _ := d.conn(t, hrana.ReadWrite)
	for _, q := range []string{
		"CREATE TABLE t (x)",
		"CREATE TRIGGER forge AFTER INSERT ON t BEGIN INSERT INTO schema_migrations VALUES (99, 0); END",
		"CREATE TABLE u (x)",
		"CREATE TRIGGER fts AFTER INSERT ON u BEGIN INSERT INTO content_fts (content_fts) VALUES ('delete-all'); END",
	} {
		if err := exec(c, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, q := range []string{"INSERT INTO t VALUES (1)", "INSERT INTO u VALUES (1)"} {
		if err := exec(c, q); !isAuthError(err) {
			t.Errorf("%s: got %v, want not authorized", q, err)
		}
	}
	if got := queryInt(t, c, "SELECT count(*) FROM t"); got != 0 {
		t.Errorf("t = %d rows after a refused insert", got)
	}
}

// FTS5's shadow tables are written by FTS5 (through Condo's triggers)
// and by nothing else: defensive mode refuses a client's writes.
func TestProtect_FTSShadowTables(t *testing.T) {
	d := mustTenantDB(t)
	c, _ := d.conn(t, hrana.ReadWrite)
	for _, q := range []string{
		"DELETE FROM content_fts_data",
		"INSERT INTO content_fts_idx (segid, term, pgno) VALUES (1, 'x', 1)",
		"UPDATE content_fts_config SET v = 0",
		"DELETE FROM content_fts_docsize",
	} {
		if err := exec(c, q); err == nil || !strings.Contains(err.Error(), "may not be modified") {
			t.Errorf("%s: got %v, want refused by defensive mode", q, err)
		}
	}
	if err := exec(c, item("i1", "still indexed")); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, c, "SELECT count(*) FROM content_fts WHERE content_fts MATCH 'indexed'"); got != 1 {
		t.Errorf("search = %d, want 1", got)
	}
}

// What the CMS relies on in a row is the schema's to enforce (CHECKs of
// 000001, status triggers of 000005), so raw SQL cannot store it wrong.
func TestProtect_CMSInvariants(t *testing.T) {
	d := mustTenantDB(t)
	c, _ := d.conn(t, hrana.ReadWrite)
	if err := exec(c, item("i1", "ok")); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO content (id, collection_id, slug, data, created_at, updated_at) VALUES ('i2', 'c1', 'x', 'not json', 0, 0)",
		"UPDATE content SET data = '{broken' WHERE id = 'i1'",
		"INSERT INTO content (id, collection_id, slug, status, created_at, updated_at) VALUES ('i3', 'c1', 'y', 'bogus', 0, 0)",
		"UPDATE content SET status = 'deleted' WHERE id = 'i1'",
		"INSERT INTO content (id, collection_id, slug, created_at, updated_at) VALUES ('i4', 'nope', 'z', 0, 0)",
		"INSERT INTO content (id, collection_id, slug, created_at, updated_at) VALUES ('i5', 'c1', 'i1', 0, 0)",
		"UPDATE collections SET schema = '[' WHERE id = 'c1'",
		"INSERT INTO media (id, filename, original_name, mime_type, size, tags, created_at, updated_at) VALUES ('m', 'f', 'f', 'image/png', 1, 'no', 0, 0)",
		"UPDATE collections SET cache_max_age = -1",
	} {
		err := exec(c, q)
		if err == nil {
			t.Errorf("%s: allowed", q)
			continue
		}
		var se *sqlite.Error
		if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_CONSTRAINT {
			t.Errorf("%s: got %v, want a constraint error", q, err)
		}
	}
	if err := exec(c, "UPDATE content SET status = 'published' WHERE id = 'i1'"); err != nil {
		t.Errorf("a workflow status: %v", err)
	}
}

func TestProtect_ReleaseDropsTemporaryTables(t *testing.T) {
	d := mustTenantDB(t)
	ctx := context.Background()
	c, err := d.db.Writer().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g, err := hrana.Protect(ctx, c, hrana.ReadWrite)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CREATE TEMP TABLE scratch (x)", "CREATE TEMP VIEW v AS SELECT 1", "CREATE INDEX temp.scratch_x ON scratch (x)"} {
		if err := exec(c, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := g.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if got := queryInt(t, c, "SELECT count(*) FROM temp.sqlite_schema"); got != 0 {
		t.Errorf("%d temporary objects left after Release", got)
	}
}

func TestProtect_Unsafe(t *testing.T) {
	d := mustTenantDB(t)
	c, g := d.conn(t, hrana.Unsafe)
	if got := queryInt(t, c, "SELECT count(*) FROM sessions"); got != 1 {
		t.Errorf("sessions = %d, want 1", got)
	}
	if got := queryInt(t, c, "SELECT count(*) FROM users WHERE password_hash <> ''"); got != 1 {
		t.Errorf("hashes = %d, want 1", got)
	}
	if g.TakeWrote() {
		t.Error("TakeWrote without an authorizer")
	}
}

// ProtectReader guards a connection of sqlitedb's read-only stream pool
// like Protect with ReadOnly, and its Release leaves the connection
// query_only for the next stream of that pool.
func TestProtectReader(t *testing.T) {
	d := mustTenantDB(t)
	ctx := context.Background()
	c, err := d.db.ReadStreamConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	g, err := hrana.ProtectReader(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := exec(c, "SELECT count(*) FROM content"); err != nil {
		t.Errorf("read: %v", err)
	}
	for _, q := range []string{item("r1", "hello"), "SELECT count(*) FROM audit_log", "SELECT * FROM sessions"} {
		if err := exec(c, q); err == nil {
			t.Errorf("%s: allowed on a reader", q)
		}
	}
	if err := g.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, c, "PRAGMA query_only"); n != 1 {
		t.Errorf("query_only %d after Release, want 1: the pool's connections stay read-only", n)
	}
}

// Owner (sql.owner, a remote location's token) is ReadWrite over Condo's
// tables too: what a home node does with its tenant's database. The
// file's own protections stay.
func TestProtect_Owner(t *testing.T) {
	d := mustTenantDB(t)
	outside := t.TempDir()
	c, _ := d.conn(t, hrana.Owner)
	if got := queryInt(t, c, "SELECT count(*) FROM sessions"); got != 1 {
		t.Errorf("sessions = %d, want 1", got)
	}
	if got := queryInt(t, c, "SELECT count(*) FROM users WHERE password_hash <> ''"); got != 1 {
		t.Errorf("hashes = %d, want 1", got)
	}
	for _, q := range []string{
		"UPDATE schema_migrations SET dirty = 0",
		"INSERT INTO audit_log (category, action, created_at) VALUES ('audit', 'by the home node', 0)",
		"UPDATE users SET role = 'admin'",
		"ALTER TABLE content ADD COLUMN word_count INTEGER",
		"CREATE INDEX content_words ON content (word_count)",
		"DELETE FROM sessions",
	} {
		if err := exec(c, q); err != nil {
			t.Errorf("%s: %v", q, err)
		}
	}
	for _, q := range []string{
		"ATTACH '" + filepath.Join(outside, "x.db") + "' AS x",
		"VACUUM INTO '" + filepath.Join(outside, "copy.db") + "'",
		"SELECT load_extension('/tmp/x.so')",
		"PRAGMA writable_schema = ON",
		"PRAGMA synchronous = OFF",
	} {
		if err := exec(c, q); !isAuthError(err) {
			t.Errorf("%s: got %v, want not authorized", q, err)
		}
	}
}
