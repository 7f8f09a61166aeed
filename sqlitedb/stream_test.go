package sqlitedb_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/condohq/condo/sqlitedb"
)

func mustStreamDB(t *testing.T) *sqlitedb.DB {
	t.Helper()
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "t.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Write.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, at DATETIME, n)"); err != nil {
		t.Fatal(err)
	}
	return db
}

func mustStreamConn(t *testing.T, db *sqlitedb.DB) *sql.Conn {
	t.Helper()
	c, err := db.StreamConn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestRawHandle fails loudly when a modernc upgrade renames or retypes the
// unexported fields WithRaw reads (see rawHandle): TxnState, the libSQL
// endpoint's transactions and its prepare all depend on them.
func TestRawHandle(t *testing.T) {
	db := mustStreamDB(t)
	c := mustStreamConn(t, db)
	err := sqlitedb.WithRaw(context.Background(), c, func(r *sqlitedb.Raw) error {
		if !r.Autocommit() {
			t.Error("a fresh connection is not in autocommit mode")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("modernc's driver connection changed shape; fix sqlitedb/rawconn.go: %v", err)
	}
}

func TestTxnState(t *testing.T) {
	db := mustStreamDB(t)
	c := mustStreamConn(t, db)
	ctx := context.Background()
	state := func() (bool, bool) {
		t.Helper()
		a, w, err := sqlitedb.TxnState(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		return a, w
	}
	if a, w := state(); !a || w {
		t.Fatalf("idle: autocommit %v writing %v", a, w)
	}
	// A plain BEGIN is deferred on a stream connection (no _txlock).
	mustExec(t, c, "BEGIN")
	if a, w := state(); a || w {
		t.Fatalf("after BEGIN: autocommit %v writing %v", a, w)
	}
	mustExec(t, c, "SELECT count(*) FROM t")
	if a, w := state(); a || w {
		t.Fatalf("after a read: autocommit %v writing %v", a, w)
	}
	mustExec(t, c, "INSERT INTO t (n) VALUES (1)")
	if a, w := state(); a || !w {
		t.Fatalf("after a write: autocommit %v writing %v", a, w)
	}
	mustExec(t, c, "COMMIT")
	if a, w := state(); !a || w {
		t.Fatalf("after COMMIT: autocommit %v writing %v", a, w)
	}
	mustExec(t, c, "BEGIN IMMEDIATE")
	if a, w := state(); a || !w {
		t.Fatalf("after BEGIN IMMEDIATE: autocommit %v writing %v", a, w)
	}
	mustExec(t, c, "ROLLBACK")
}

func mustExec(t *testing.T, c *sql.Conn, q string) {
	t.Helper()
	if _, err := c.ExecContext(context.Background(), q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func TestRaw_Prepare(t *testing.T) {
	db := mustStreamDB(t)
	c := mustStreamConn(t, db)
	ctx := context.Background()
	type prepared struct {
		none       bool
		end        int
		params     []string
		cols       []string
		decltypes  []string
		readOnly   bool
		isExplain  bool
		prepareErr bool
	}
	prepare := func(sql string, off int) (p prepared) {
		t.Helper()
		err := sqlitedb.WithRaw(ctx, c, func(r *sqlitedb.Raw) error {
			text, err := r.Text(sql)
			if err != nil {
				return err
			}
			defer text.Close()
			s, end, err := text.Prepare(off)
			if err != nil {
				p.prepareErr = true
				return nil
			}
			p.end = end
			if s == nil {
				p.none = true
				return nil
			}
			defer s.Finalize()
			for i := 1; i <= s.ParamCount(); i++ {
				p.params = append(p.params, s.ParamName(i))
			}
			for i := 0; i < s.ColumnCount(); i++ {
				p.cols = append(p.cols, s.ColumnName(i))
				d, ok := s.ColumnDecltype(i)
				if !ok {
					d = "<nil>"
				}
				p.decltypes = append(p.decltypes, d)
			}
			p.readOnly, p.isExplain = s.ReadOnly(), s.IsExplain()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}

	p := prepare("SELECT id, at, n, 1+1 AS two FROM t WHERE id = ? OR n = :n OR n = ?5; SELECT 2", 0)
	if p.none || p.end != len("SELECT id, at, n, 1+1 AS two FROM t WHERE id = ? OR n = :n OR n = ?5;") {
		t.Errorf("end %d none %v", p.end, p.none)
	}
	if got, want := p.params, []string{"", ":n", "", "", "?5"}; !equal(got, want) {
		t.Errorf("params %q, want %q", got, want)
	}
	if got, want := p.cols, []string{"id", "at", "n", "two"}; !equal(got, want) {
		t.Errorf("cols %q, want %q", got, want)
	}
	if got, want := p.decltypes, []string{"INTEGER", "DATETIME", "<nil>", "<nil>"}; !equal(got, want) {
		t.Errorf("decltypes %q, want %q", got, want)
	}
	if !p.readOnly || p.isExplain {
		t.Errorf("readOnly %v isExplain %v", p.readOnly, p.isExplain)
	}
	if p := prepare("INSERT INTO t (n) VALUES (1)", 0); p.readOnly {
		t.Error("INSERT is read-only")
	}
	if p := prepare("EXPLAIN QUERY PLAN SELECT * FROM t", 0); !p.isExplain {
		t.Error("EXPLAIN is not an explain")
	}
	for _, empty := range []string{"", "  ", "-- just a comment\n", "/* c */ ;  ; -- x"} {
		if p := prepare(empty, 0); !p.none || p.prepareErr {
			t.Errorf("%q: none %v err %v", empty, p.none, p.prepareErr)
		}
	}
	// The rest after a statement's tail: a trailing ; and comment hold none,
	// a second statement is one (even one that cannot prepare yet).
	text := "SELECT 1; -- done"
	if p := prepare(text, len("SELECT 1;")); !p.none {
		t.Errorf("tail of %q holds a statement", text)
	}
	text = "CREATE TABLE u (a); INSERT INTO u VALUES (1)"
	if p := prepare(text, len("CREATE TABLE u (a);")); p.none || !p.prepareErr {
		t.Errorf("tail of %q: none %v err %v", text, p.none, p.prepareErr)
	}
	if p := prepare("SELEC 1", 0); !p.prepareErr {
		t.Error("a syntax error prepared")
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWithRaw_Interrupt(t *testing.T) {
	db := mustStreamDB(t)
	c := mustStreamConn(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	err := sqlitedb.WithRaw(ctx, c, func(r *sqlitedb.Raw) error {
		text, err := r.Text("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n) SELECT count(*) FROM n")
		if err != nil {
			return err
		}
		defer text.Close()
		s, _, err := text.Prepare(0)
		if err != nil {
			return err
		}
		defer s.Finalize()
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err = s.Step()
		return err
	})
	var re *sqlitedb.RawError
	if !errors.As(err, &re) || re.Code&0xff != 9 { // SQLITE_INTERRUPT
		t.Fatalf("got %v, want SQLITE_INTERRUPT", err)
	}
	// The connection works afterwards.
	if err := sqlitedb.WithRaw(context.Background(), c, func(r *sqlitedb.Raw) error { return nil }); err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "SELECT 1")
}

func TestWriterWaiting(t *testing.T) {
	db := mustStreamDB(t)
	if got := db.WriterWaiting(); got != 0 {
		t.Fatalf("idle: %v", got)
	}
	c := mustStreamConn(t, db)
	mustExec(t, c, "BEGIN IMMEDIATE")
	done := make(chan error, 1)
	go func() {
		done <- db.Transact(context.Background(), func(tx *sql.Tx) error {
			_, err := tx.Exec("INSERT INTO t (n) VALUES (2)")
			return err
		})
	}()
	// Wait (bounded by the busy timeout) until the Transact is seen waiting.
	deadline := time.Now().Add(4 * time.Second)
	for db.WriterWaiting() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if db.WriterWaiting() == 0 {
		t.Fatal("a Transact waiting for the stream's write lock is not reported")
	}
	mustExec(t, c, "ROLLBACK")
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := db.WriterWaiting(); got != 0 {
		t.Fatalf("after: %v", got)
	}
}

func TestStreamConn_Close(t *testing.T) {
	db, err := sqlitedb.Open(filepath.Join(t.TempDir(), "t.db"), sqlitedb.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Write.Exec("CREATE TABLE x (a)"); err != nil {
		t.Fatal(err)
	}
	c, err := db.StreamConn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mustExec(t, c, "INSERT INTO x VALUES (1)")
	c.Close()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.StreamConn(context.Background()); !errors.Is(err, sqlitedb.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// A stream's connection is in defensive mode: its client's SQL cannot
// rewrite the schema by hand, where the writer could.
func TestStreamConn_Defensive(t *testing.T) {
	db := mustStreamDB(t)
	c := mustStreamConn(t, db)
	ctx := context.Background()
	if _, err := c.ExecContext(ctx, "PRAGMA writable_schema=ON"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, "UPDATE sqlite_schema SET sql = 'CREATE TABLE t (x)' WHERE name = 't'"); err == nil {
		t.Fatal("a stream rewrote sqlite_schema: defensive mode is off")
	}
}

// A read stream's connection refuses writes by itself (query_only from
// its connection string), with no authorizer.
func TestReadStreamConn_QueryOnly(t *testing.T) {
	db := mustStreamDB(t)
	c, err := db.ReadStreamConn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.ExecContext(context.Background(), "INSERT INTO t (n) VALUES (1)"); err == nil {
		t.Fatal("a read stream connection wrote")
	}
	if n := db.StreamConnsInUse(); n != 1 {
		t.Errorf("%d stream connections in use, want 1", n)
	}
}
